package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/detail"
	"allimi/central/throttle"
	"allimi/sync/catalog"
)

// Port copies a stopped central's bbolt file (read through r) into this
// database, which must be migrated and empty, in one transaction: either
// everything is copied and checked, or nothing changes. Values sealed
// under keys.json are copied as they are (both stores seal them the same
// way), so the database needs the same keys as the file (WithKeys: a
// question's answered flag is read from its sealed record).
//
// Before it commits, Port reads back what it wrote: the rows of every kind
// must number what it copied, the registry's counters must be the file's
// (Stats), and the audit chain must verify with as many entries as the
// file's. A mismatch is an error, and the transaction is rolled back.

// ErrNotEmpty is returned by Port when the database already holds data.
var ErrNotEmpty = errors.New("the database already holds data: port copies only into an empty database")

// PortCount is how many of one kind Port copied, and how many rows of it
// it read back from the database.
type PortCount struct {
	Kind   string
	Table  string
	Copied int64
	Read   int64
	// where narrows the rows read back (a column of rows copied before).
	where string
}

// PortReport is what Port did.
type PortReport struct {
	Counts []PortCount
	// Stats are the registry's counters, as the database reads them after
	// the copy (equal to the file's).
	Stats allimi.RegistryStats
	// Audit is the database's audit chain, verified.
	Audit allimi.AuditReport
	// NotCopied are the file's buckets left out, and why.
	NotCopied []bolt.Left
}

// portTables are the tables Port fills, in an order their references allow;
// each must be empty before.
var portTables = []string{"kiosks", "enrolments", "agencies", "officials", "official_sessions", "events", "kiosk_hw",
	"citizens", "consents", "consent_log", "conflicts", "receipts", "confirmations", "rejections", "active_grants",
	"feedback", "profiles", "benefit_notified", "audit", "question_chunks", "questions", "question_codes",
	"question_audio", "question_send", "catalogs", "throttle_counts", "notifications", "recipients", "deliveries",
	"due", "dead_letters", "early_receipts", "send_intents", "queue_intents", "delivery_stats", "delivery_daily", "detail_shared",
	"detail_attempts"}

// Port copies r into the database (see above).
func (s *Store) Port(r *bolt.Reader) (PortReport, error) {
	if s.keys == nil {
		return PortReport{}, errors.New("port: the store has no keys (WithKeys): give it the bbolt file's keys.json")
	}
	ctx := s.ctx()
	var rep PortReport
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		rep = PortReport{}
		if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(portTables, ", ")+`, registry_counters, audit_head IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := checkEmpty(ctx, tx); err != nil {
			return err
		}
		p := &porter{s: s, ctx: ctx, tx: tx, r: r}
		if err := p.copyAll(); err != nil {
			return err
		}
		var err error
		if rep, err = p.check(); err != nil {
			return err
		}
		rep.NotCopied = r.NotRead()
		return nil
	})
	return rep, err
}

// checkEmpty refuses a database that holds anything Port would write.
func checkEmpty(ctx context.Context, tx pgx.Tx) error {
	var held []string
	for _, t := range portTables {
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+`)`).Scan(&any); err != nil {
			return err
		}
		if any {
			held = append(held, t)
		}
	}
	var counted, audited bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM registry_counters WHERE n <> 0),
		EXISTS (SELECT 1 FROM audit_head WHERE seq <> 0)`).Scan(&counted, &audited); err != nil {
		return err
	}
	if counted {
		held = append(held, "registry_counters")
	}
	if audited {
		held = append(held, "audit_head")
	}
	if len(held) > 0 {
		return fmt.Errorf("%w (rows in %s); nothing was changed", ErrNotEmpty, strings.Join(held, ", "))
	}
	return nil
}

// porter copies in one transaction.
type porter struct {
	s      *Store
	ctx    context.Context
	tx     pgx.Tx
	r      *bolt.Reader
	counts []PortCount
	// maxima of ids, for the sequences
	maxToken uint64
}

// table copies rows into one table in batches (COPY), counting them as
// kind.
type table struct {
	p     *porter
	name  string
	cols  []string
	rows  [][]any
	count *PortCount
}

func (p *porter) table(kind, name string, cols ...string) *table {
	p.counts = append(p.counts, PortCount{Kind: kind, Table: name})
	return &table{p: p, name: name, cols: cols, count: &p.counts[len(p.counts)-1]}
}

const portBatch = 5000

func (t *table) add(vals ...any) error {
	t.rows = append(t.rows, vals)
	t.count.Copied++
	if len(t.rows) >= portBatch {
		return t.flush()
	}
	return nil
}

func (t *table) flush() error {
	if len(t.rows) == 0 {
		return nil
	}
	if _, err := t.p.tx.CopyFrom(t.p.ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
		return fmt.Errorf("copy into %s: %w", t.name, err)
	}
	t.rows = t.rows[:0]
	return nil
}

// fill runs read, which adds t's rows, and writes the last batch.
func (t *table) fill(read func() error) error {
	if err := read(); err != nil {
		return fmt.Errorf("%s: %w", t.count.Kind, err)
	}
	return t.flush()
}

func (p *porter) copyAll() error {
	r := p.r
	steps := []func() error{
		func() error {
			t := p.table("kiosks", "kiosks", "id", "username", "password_hash", "created", "region")
			return t.fill(func() error {
				return r.Kiosks(func(k bolt.Kiosk) error { return t.add(k.ID, k.Username, string(k.PasswordHash), k.Created, k.Region) })
			})
		},
		func() error {
			t := p.table("enrolment codes", "enrolments", "code_hash", "kiosk", "expires", "used")
			return t.fill(func() error {
				return r.Enrolments(func(e bolt.Enrolment) error { return t.add(e.CodeHash, e.Kiosk, e.Expires, e.Used) })
			})
		},
		func() error {
			t := p.table("agencies", "agencies", "id", "token_hash", "created", "types", "payment_hosts", "name")
			return t.fill(func() error {
				return r.Agencies(func(a bolt.Agency) error {
					types := make([]string, 0, len(a.Policy.Types))
					for _, ty := range a.Policy.Types {
						types = append(types, string(ty))
					}
					hosts := append([]string{}, a.Policy.PaymentHosts...)
					return t.add(a.ID, a.TokenHash, a.Created, types, hosts, a.Name)
				})
			})
		},
		func() error {
			t := p.table("officials", "officials", "id", "token_hash", "created")
			return t.fill(func() error {
				return r.Officials(func(o bolt.Official) error { return t.add(o.ID, o.TokenHash, o.Created) })
			})
		},
		func() error {
			t := p.table("official sessions", "official_sessions", "id_hash", "official", "token_hash", "expires")
			return t.fill(func() error {
				return r.OfficialSessions(func(o bolt.OfficialSession) error {
					return t.add(o.IDHash, o.Official, o.TokenHash, o.Expires)
				})
			})
		},
		func() error {
			t := p.table("events", "events", "kiosk", "seq", "sealed")
			return t.fill(func() error {
				return r.Events(func(kiosk string, seq uint64, sealed []byte) error { return t.add(kiosk, int64(seq), sealed) })
			})
		},
		func() error {
			t := p.table("people", "citizens", "ck", "pii", "verified", "active", "created", "updated")
			return t.fill(func() error {
				return r.Citizens(func(c bolt.Citizen) error {
					return t.add(c.CK, c.PII, c.Verified, int32(c.Active), c.Created, c.Updated)
				})
			})
		},
		func() error {
			t := p.table("consents", "consents", "ck", "type", "channel", "action", "hlc", "kiosk", "seq",
				"by_kind", "by_official", "by_method", "at")
			return t.fill(func() error {
				return r.Consents(func(ck []byte, ty allimi.NotificationType, ch allimi.Channel, st allimi.ConsentState) error {
					return t.add(ck, string(ty), string(ch), string(st.Action), int64(st.HLC), st.Kiosk, int64(st.Seq),
						st.By.Kind, st.By.Official, string(st.By.Method), st.At)
				})
			})
		},
		func() error {
			t := p.table("consent-log entries", "consent_log", "ck", "hlc", "kiosk", "seq", "entry")
			return t.fill(func() error {
				return r.ConsentLog(func(ck []byte, hlc uint64, kiosk string, seq uint64, entry []byte) error {
					return t.add(ck, int64(hlc), kiosk, int64(seq), entry)
				})
			})
		},
		func() error {
			t := p.table("conflicts", "conflicts", "id", "ck", "body", "resolved")
			return t.fill(func() error {
				return r.Conflicts(func(c allimi.Conflict) error {
					ck := c.CitizenKey
					c.CitizenKey = nil
					body, err := json.Marshal(c)
					if err != nil {
						return err
					}
					return t.add(int64(c.ID), ck, body, c.Resolved != nil)
				})
			})
		},
		func() error {
			t := p.table("receipts", "receipts", "code_key", "ck", "hlc", "kiosk")
			return t.fill(func() error {
				return r.Receipts(func(key, ck []byte, hlc uint64, kiosk string) error { return t.add(key, ck, int64(hlc), kiosk) })
			})
		},
		func() error {
			t := p.table("confirmations", "confirmations", "key", "ck", "at")
			return t.fill(func() error {
				return r.Confirmations(func(key, ck []byte, at time.Time) error { return t.add(key, ck, at) })
			})
		},
		func() error {
			t := p.table("rejections", "rejections", "id", "at", "kiosk", "reason")
			return t.fill(func() error {
				return r.Rejections(func(rj allimi.Rejection) error { return t.add(int64(rj.ID), rj.At, rj.Kiosk, rj.Reason) })
			})
		},
		p.copyCounters,
		func() error {
			t := p.table("feedback", "feedback", "entry", "helpful", "not_helpful")
			return t.fill(func() error {
				return r.Feedback(func(f allimi.FeedbackCount) error {
					return t.add(f.Entry, int64(f.Helpful), int64(f.NotHelpful))
				})
			})
		},
		func() error {
			t := p.table("profiles", "profiles", "ck", "sealed")
			return t.fill(func() error { return r.Profiles(func(ck, sealed []byte) error { return t.add(ck, sealed) }) })
		},
		func() error {
			t := p.table("new-benefits notices", "benefit_notified", "ck", "service", "version")
			return t.fill(func() error {
				return r.BenefitNotified(func(ck []byte, service string, v uint64) error { return t.add(ck, service, int64(v)) })
			})
		},
		p.copyAudit,
		func() error {
			t := p.table("question audio chunks", "question_chunks", "kiosk", "code", "idx", "received", "sealed")
			return t.fill(func() error {
				return r.QuestionChunks(func(kiosk, code string, idx uint32, received int64, sealed []byte) error {
					return t.add(kiosk, code, int64(idx), received, sealed)
				})
			})
		},
		func() error {
			t := p.table("questions", "questions", "id", "answered", "sealed")
			return t.fill(func() error {
				return r.Questions(func(id uint64, sealed []byte) error {
					plain, err := p.s.keys.Open(sealed, questionAD("question", u64(id)))
					if err != nil {
						return fmt.Errorf("question %d: %w (are these the file's keys?)", id, err)
					}
					var q allimi.Question
					if err := json.Unmarshal(plain, &q); err != nil {
						return fmt.Errorf("question %d: %w", id, err)
					}
					return t.add(int64(id), q.AnsweredAt != nil, sealed)
				})
			})
		},
		func() error {
			t := p.table("question codes", "question_codes", "code_key", "id")
			return t.fill(func() error {
				return r.QuestionCodes(func(key []byte, id uint64) error { return t.add(key, int64(id)) })
			})
		},
		func() error {
			t := p.table("question recordings", "question_audio", "id", "sealed")
			return t.fill(func() error {
				return r.QuestionAudio(func(id uint64, sealed []byte) error { return t.add(int64(id), sealed) })
			})
		},
		func() error {
			t := p.table("answers to send", "question_send", "id")
			return t.fill(func() error { return r.QuestionSend(func(id uint64) error { return t.add(int64(id)) }) })
		},
		func() error {
			t := p.table("catalogs", "catalogs", "name", "version", "manifest", "body")
			return t.fill(func() error {
				return r.Catalogs(func(name string, m catalog.Manifest, body []byte) error {
					mj, err := json.Marshal(m)
					if err != nil {
						return err
					}
					return t.add(name, int64(m.Version), mj, body)
				})
			})
		},
		func() error {
			t := p.table("attempt-limiter counts", "throttle_counts", "name", "id", "n", "since", "until")
			return t.fill(func() error {
				return r.ThrottleCounts(func(name string, c throttle.Count) error {
					return t.add(name, c.ID[:], int64(c.N), c.Since, c.Until)
				})
			})
		},
		func() error {
			t := p.table("notifications", "notifications", "id", "agency", "idem_key", "active", "body")
			return t.fill(func() error {
				return r.Notifications(func(n allimi.Notification, idem string) error {
					body, err := json.Marshal(&n)
					if err != nil {
						return err
					}
					var ik *string
					if idem != "" {
						ik = &idem
					}
					return t.add(int64(n.ID), n.Agency, ik, active(&n), string(body))
				})
			})
		},
		func() error {
			t := p.table("types put", "type_defs", "id", "version", "file", "put")
			return t.fill(func() error {
				return r.TypeDefs(func(d allimi.TypeDef) error { return t.add(string(d.ID), int64(d.Version), d.File, d.Put) })
			})
		},
		func() error {
			t := p.table("enrolments in programs", "program_enrolments", "id", "agency", "idem_key", "body")
			return t.fill(func() error {
				return r.ProgramEnrolments(func(e allimi.Enrolment, idem string) error {
					body, err := json.Marshal(&e)
					if err != nil {
						return err
					}
					var ik *string
					if idem != "" {
						ik = &idem
					}
					return t.add(e.ID, e.Agency, ik, string(body))
				})
			})
		},
		func() error {
			t := p.table("program steps to act on", "program_due", "at_ms", "enrolment", "step")
			return t.fill(func() error {
				return r.ProgramEnrolments(func(e allimi.Enrolment, _ string) error {
					for i := range e.Steps {
						if at, ok := e.Steps[i].DueAt(); ok {
							if err := t.add(at.UnixMilli(), e.ID, e.Steps[i].Step); err != nil {
								return err
							}
						}
					}
					return nil
				})
			})
		},
		func() error {
			t := p.table("recipients", "recipients", "notification", "seq", "ck", "mask", "token", "params")
			return t.fill(func() error {
				return r.Recipients(func(rc bolt.Recipient) error {
					var params *string
					if len(rc.Params) > 0 {
						b, err := json.Marshal(rc.Params)
						if err != nil {
							return err
						}
						ps := string(b)
						params = &ps
					}
					p.maxToken = max(p.maxToken, rc.Token)
					return t.add(int64(rc.Notification), int32(rc.Seq), rc.CK, int16(rc.Mask), int64(rc.Token), params)
				})
			})
		},
		func() error {
			t := p.table("deliveries", "deliveries", "notification", "seq", "channel", "state", "attempts", "flags",
				"first_ms", "updated_ms", "reason")
			return t.fill(func() error {
				return r.Deliveries(func(ref allimi.DeliveryRef, d allimi.DeliveryRecord) error {
					return t.add(int64(ref.Notification), int32(ref.Seq), string(ref.Channel), int16(d.State),
						int16(d.Attempts), int16(d.Flags), d.First, d.Updated, d.Reason)
				})
			})
		},
		func() error {
			t := p.table("shared details", "detail_shared", "key", "expires", "detail")
			return t.fill(func() error {
				return r.DetailShared(func(key string, expires time.Time, d []byte) error {
					return t.add(key, expires.Unix(), d)
				})
			})
		},
		func() error {
			t := p.table("detail page tries", "detail_attempts", "seq", "failures", "locked_until", "expires")
			return t.fill(func() error {
				return r.DetailAttempts(func(seq uint64, a detail.Attempts, expires time.Time) error {
					var until int64
					if !a.LockedUntil.IsZero() {
						until = a.LockedUntil.Unix()
					}
					return t.add(int64(seq), int16(a.Failures), until, expires.Unix())
				})
			})
		},
		func() error {
			t := p.table("due deliveries", "due", "channel", "at_ms", "notification", "seq", "flags")
			return t.fill(func() error {
				return r.Due(func(ref allimi.DeliveryRef, at int64, flags byte) error {
					return t.add(string(ref.Channel), at, int64(ref.Notification), int32(ref.Seq), int16(flags))
				})
			})
		},
		func() error {
			t := p.table("dead letters", "dead_letters", "notification", "seq", "channel", "body")
			return t.fill(func() error {
				return r.DeadLetters(func(ref allimi.DeliveryRef, body []byte) error {
					return t.add(int64(ref.Notification), int32(ref.Seq), string(ref.Channel), string(body))
				})
			})
		},
		func() error {
			t := p.table("early receipts", "early_receipts", "notification", "seq", "channel", "body")
			return t.fill(func() error {
				return r.EarlyReceipts(func(ref allimi.DeliveryRef, body []byte) error {
					return t.add(int64(ref.Notification), int32(ref.Seq), string(ref.Channel), string(body))
				})
			})
		},
		func() error {
			t := p.table("send-intents", "send_intents", "channel", "notification", "seq", "at_ms", "grp", "flags", "fresh")
			return t.fill(func() error {
				return r.SendIntents(func(si allimi.SendIntent) error {
					return t.add(string(si.Ref.Channel), int64(si.Ref.Notification), int32(si.Ref.Seq), si.At,
						int64(si.Group), int16(si.Flags), si.Fresh)
				})
			})
		},
		func() error {
			t := p.table("queue-intents", "queue_intents", "channel", "key", "at_ms", "grp")
			return t.fill(func() error {
				return r.QueueIntents(func(ch allimi.Channel, key string, in allimi.QueueIntent) error {
					return t.add(string(ch), key, in.At, int64(in.Group))
				})
			})
		},
		func() error {
			t := p.table("delivery counts", "delivery_stats", "type", "channel", "outcome", "n")
			return t.fill(func() error {
				return r.DeliveryStats(func(ty, ch, outcome string, n uint64) error { return t.add(ty, ch, outcome, int64(n)) })
			})
		},
		func() error {
			t := p.table("dated delivery counts", "delivery_daily", "day", "region", "type", "channel", "outcome", "part", "n")
			return t.fill(func() error {
				return r.DailyDeliveries(func(c allimi.DeliveryCount) error {
					day, err := time.Parse(time.DateOnly, c.Day)
					if err != nil {
						return fmt.Errorf("dated delivery count: day %q: %w", c.Day, err)
					}
					return t.add(day, c.Region, string(c.Type), string(c.Channel), c.Outcome, int16(-1), c.N)
				})
			})
		},
		p.copyRegions,
		p.setSequences,
		p.setSlotProgress,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// copyRegions gives the people copied the regions of their sign-up
// kiosks (a column of citizens, a bucket of the file), and counts them.
func (p *porter) copyRegions() error {
	p.counts = append(p.counts, PortCount{Kind: "people's regions", Table: "citizens", where: "region <> ''"})
	count := &p.counts[len(p.counts)-1]
	var cks [][]byte
	var regions []string
	flush := func() error {
		if len(cks) == 0 {
			return nil
		}
		_, err := p.tx.Exec(p.ctx, `UPDATE citizens c SET region = u.region FROM unnest($1::bytea[], $2::text[]) AS u(ck, region)
			WHERE c.ck = u.ck`, cks, regions)
		cks, regions = cks[:0], regions[:0]
		return err
	}
	err := p.r.Regions(func(ck []byte, region string) error {
		cks, regions = append(cks, append([]byte{}, ck...)), append(regions, region)
		count.Copied++
		if len(cks) >= portBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("people's regions: %w", err)
	}
	return nil
}

// copyCounters copies the registry's counters: the four counters, the
// kiosks' high-water marks and the active grants, as the file's Stats.
func (p *porter) copyCounters() error {
	st, err := p.r.Stats()
	if err != nil {
		return err
	}
	counters := map[string]int64{"stored": st.Records.Stored, "duplicates": st.Records.Duplicates,
		"rejected": st.Records.Rejected, "subscribers": st.Subscribers}
	for ch, n := range p.r.ChannelSubscribers() {
		counters["people:"+string(ch)] = n
	}
	for name, n := range counters {
		if _, err := p.tx.Exec(p.ctx, `UPDATE registry_counters SET n = $2 WHERE name = $1`, name, n); err != nil {
			return err
		}
	}
	hw := p.table("kiosk high-water marks", "kiosk_hw", "kiosk", "hw")
	for k, n := range st.Kiosks {
		if err := hw.add(k, int64(n)); err != nil {
			return err
		}
	}
	if err := hw.flush(); err != nil {
		return err
	}
	ag := p.table("active-grant counts", "active_grants", "type", "channel", "n")
	for ty, chs := range st.Active {
		for ch, n := range chs {
			if err := ag.add(ty, ch, n); err != nil {
				return err
			}
		}
	}
	return ag.flush()
}

// copyAudit copies the audit chain and its head.
func (p *porter) copyAudit() error {
	t := p.table("audit entries", "audit", "seq", "entry")
	var last uint64
	if err := t.fill(func() error {
		return p.r.Audit(func(seq uint64, entry []byte) error {
			last = seq
			return t.add(int64(seq), entry)
		})
	}); err != nil {
		return err
	}
	_, err := p.tx.Exec(p.ctx, `UPDATE audit_head SET seq = $1, hash = $2`, int64(last), p.r.AuditHead())
	return err
}

// setSequences moves the database's id sequences past every id copied
// and every id the file handed out, so that new ones follow on.
func (p *porter) setSequences() error {
	sq := p.r.Sequences()
	for _, s := range []struct {
		seq, table, col string
		file            uint64
	}{
		{"conflicts_id_seq", "conflicts", "id", sq.Conflicts},
		{"rejections_id_seq", "rejections", "id", sq.Rejections},
		{"questions_id_seq", "questions", "id", sq.Questions},
		{"notifications_id_seq", "notifications", "id", sq.Notifications},
		{"detail_tokens", "recipients", "token", max(sq.DetailTokens, p.maxToken)},
	} {
		// setval(seq, n, false) makes n the next value: one past the
		// highest of the file's sequence and the ids copied.
		if _, err := p.tx.Exec(p.ctx, `SELECT setval($1, GREATEST($2::bigint, (SELECT COALESCE(max(`+s.col+`), 0) FROM `+s.table+`)) + 1, false)`,
			s.seq, int64(s.file)); err != nil {
			return fmt.Errorf("sequence %s: %w", s.seq, err)
		}
	}
	return nil
}

// setSlotProgress gives every send slot the progress of each notification
// still being sent: its recipients up to there were handed over (the
// slots send from there on, and none again).
func (p *porter) setSlotProgress() error {
	_, err := p.tx.Exec(p.ctx, `INSERT INTO slot_progress (notification, slot, channel, seq)
		SELECT n.id, s.slot, pr.key, pr.value::integer
		FROM notifications n CROSS JOIN generate_series(0, $1::integer - 1) AS s(slot)
			CROSS JOIN LATERAL jsonb_each_text(COALESCE(n.body->'progress', '{}'::jsonb)) AS pr
		WHERE n.active`, SendSlots)
	if err != nil {
		return fmt.Errorf("send slots' progress: %w", err)
	}
	return nil
}

// check reads back what was copied: row counts, the registry's counters
// and the audit chain.
func (p *porter) check() (PortReport, error) {
	rep := PortReport{Counts: p.counts}
	var bad []string
	for i := range rep.Counts {
		c := &rep.Counts[i]
		q := `SELECT count(*) FROM ` + c.Table
		if c.where != "" {
			q += ` WHERE ` + c.where
		}
		if err := p.tx.QueryRow(p.ctx, q).Scan(&c.Read); err != nil {
			return rep, err
		}
		if c.Read != c.Copied {
			bad = append(bad, fmt.Sprintf("%s: %d copied, %d in the database", c.Kind, c.Copied, c.Read))
		}
	}
	want, err := p.r.Stats()
	if err != nil {
		return rep, err
	}
	if rep.Stats, err = statsIn(p.ctx, p.tx); err != nil {
		return rep, err
	}
	if !reflect.DeepEqual(want, rep.Stats) {
		bad = append(bad, fmt.Sprintf("registry counters: the file has %+v, the database %+v", want, rep.Stats))
	}
	if rep.Audit, err = verifyAuditIn(p.ctx, p.tx); err != nil {
		return rep, err
	}
	if rep.Audit.Broken != 0 {
		bad = append(bad, fmt.Sprintf("audit chain broken at entry %d: %s", rep.Audit.Broken, rep.Audit.Reason))
	}
	for _, c := range rep.Counts {
		if c.Table == "audit" && int64(rep.Audit.Entries) != c.Copied {
			bad = append(bad, fmt.Sprintf("audit chain: %d entries verified, %d copied", rep.Audit.Entries, c.Copied))
		}
	}
	if len(bad) > 0 {
		return rep, fmt.Errorf("port: what the database holds does not match the file, nothing was changed: %s", strings.Join(bad, "; "))
	}
	return rep, nil
}
