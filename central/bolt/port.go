package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/detail"
	"allimi/central/throttle"
	"allimi/sync/catalog"
)

// Reader reads a stopped central's bbolt file, read-only and in one
// snapshot, part by part, for copying it into another store (central/pg's
// Port): one method per bucket that has a counterpart there, each calling
// its function with the bucket's entries decoded, in key order. Values
// sealed under keys.json (events, personal data, questions, audio,
// profiles) are handed over sealed, as they are: both stores seal them
// under the same additional data.
type Reader struct {
	db *bbolt.DB
	tx *bbolt.Tx
}

// OpenReader opens the file at path read-only. A running central holds
// the file's lock: that is ErrInUse. A file whose personal data is not in
// this build's format is refused: central migrates it when it opens it.
func OpenReader(path string) (*Reader, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	tx, err := db.Begin(false)
	if err != nil {
		db.Close()
		return nil, err
	}
	r := &Reader{db: db, tx: tx}
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		r.Close()
		return nil, fmt.Errorf("%s: not a central store (no meta bucket)", path)
	}
	if f := getU64(meta, keyPIIFormat); f < piiFormat {
		r.Close()
		return nil, fmt.Errorf("%s: personal data in format %d, this build's is %d: start central on it once (it migrates the file), stop it, then copy it", path, f, piiFormat)
	}
	return r, nil
}

// Close ends the snapshot and closes the file.
func (r *Reader) Close() error {
	r.tx.Rollback()
	return r.db.Close()
}

// each calls f with each entry of bucket name; a bucket the file does not
// have (written before it existed) has none.
func (r *Reader) each(name []byte, f func(k, v []byte) error) error {
	b := r.tx.Bucket(name)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil // a nested bucket: none of central's
		}
		if err := f(k, v); err != nil {
			return fmt.Errorf("bucket %s, key %x: %w", name, k, err)
		}
		return nil
	})
}

func (r *Reader) sequence(name []byte) uint64 {
	if b := r.tx.Bucket(name); b != nil {
		return b.Sequence()
	}
	return 0
}

// Stats are the registry's counters, as Store.Stats reads them.
func (r *Reader) Stats() (allimi.RegistryStats, error) { return statsIn(r.tx) }

// Kiosk is a kiosk's broker login, and where it stands.
type Kiosk struct {
	ID, Username string
	PasswordHash []byte // bcrypt
	Created      time.Time
	Region       string
}

// Kiosks reads the kiosks.
func (r *Reader) Kiosks(f func(Kiosk) error) error {
	return r.each(bucketKiosks, func(k, v []byte) error {
		var rec kioskRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		return f(Kiosk{ID: string(k), Username: rec.Username, PasswordHash: rec.PasswordHash, Created: rec.Created, Region: rec.Region})
	})
}

// Enrolment is a one-time enrolment code, by its SHA-256.
type Enrolment struct {
	CodeHash []byte
	Kiosk    string
	Expires  time.Time
	Used     *time.Time
}

// Enrolments reads the enrolment codes.
func (r *Reader) Enrolments(f func(Enrolment) error) error {
	return r.each(bucketEnrolments, func(k, v []byte) error {
		var e enrolment
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		return f(Enrolment{CodeHash: k, Kiosk: e.Kiosk, Expires: e.Expires, Used: e.Used})
	})
}

// Agency is an agency: its token's SHA-256 and its policy.
type Agency struct {
	ID        string
	TokenHash []byte
	Created   time.Time
	Policy    allimi.AgencyPolicy
	Name      string
}

// Agencies reads the agencies.
func (r *Reader) Agencies(f func(Agency) error) error {
	return r.each(bucketAgencies, func(k, v []byte) error {
		var rec agencyRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		return f(Agency{ID: string(k), TokenHash: rec.TokenHash, Created: rec.Created, Policy: rec.AgencyPolicy, Name: rec.Name})
	})
}

// Official is an official: their token's SHA-256.
type Official struct {
	ID        string
	TokenHash []byte
	Created   time.Time
}

// Officials reads the officials.
func (r *Reader) Officials(f func(Official) error) error {
	return r.each(bucketOfficials, func(k, v []byte) error {
		var rec officialRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		return f(Official{ID: string(k), TokenHash: rec.TokenHash, Created: rec.Created})
	})
}

// OfficialSession is an official's browser session, by its id's SHA-256.
type OfficialSession struct {
	IDHash    []byte
	Official  string
	TokenHash []byte
	Expires   time.Time
}

// OfficialSessions reads the officials' sessions.
func (r *Reader) OfficialSessions(f func(OfficialSession) error) error {
	return r.each(bucketOfficialSessions, func(k, v []byte) error {
		var s officialSession
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		return f(OfficialSession{IDHash: k, Official: s.Official, TokenHash: s.TokenHash, Expires: s.Expires})
	})
}

// cutEventKey splits kiosk 0x00 seq(8).
func cutEventKey(k []byte) (string, uint64, error) {
	if len(k) < 9 || k[len(k)-9] != 0 {
		return "", 0, errors.New("damaged record key")
	}
	return string(k[:len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:]), nil
}

// Events reads every kiosk record stored, sealed under its key.
func (r *Reader) Events(f func(kiosk string, seq uint64, sealed []byte) error) error {
	return r.each(bucketEvents, func(k, v []byte) error {
		kiosk, seq, err := cutEventKey(k)
		if err != nil {
			return err
		}
		return f(kiosk, seq, v)
	})
}

// Citizen is a person's record: their personal data sealed under ck.
type Citizen struct {
	CK, PII          []byte
	Verified         bool
	Active           int
	Created, Updated time.Time
}

// Citizens reads the people.
func (r *Reader) Citizens(f func(Citizen) error) error {
	return r.each(bucketCitizens, func(k, v []byte) error {
		rec, err := decodeCitizenRecord(v)
		if err != nil {
			return err
		}
		return f(Citizen{CK: k, PII: rec.PII, Verified: rec.Verified, Active: rec.Active, Created: rec.Created, Updated: rec.Updated})
	})
}

// Consents reads every person's consent per type and channel.
func (r *Reader) Consents(f func(ck []byte, t allimi.NotificationType, ch allimi.Channel, st allimi.ConsentState) error) error {
	return r.each(bucketConsents, func(k, v []byte) error {
		if len(k) < 33 {
			return errors.New("damaged consent key")
		}
		t, ch, ok := bytes.Cut(k[32:], []byte{0})
		if !ok {
			return errors.New("damaged consent key")
		}
		st, err := decodeConsentState(v)
		if err != nil {
			return err
		}
		return f(k[:32], allimi.NotificationType(t), allimi.Channel(ch), st)
	})
}

// ConsentLog reads the consent log: per person, each change as its
// record carried it.
func (r *Reader) ConsentLog(f func(ck []byte, hlc uint64, kiosk string, seq uint64, entry []byte) error) error {
	return r.each(bucketConsentLog, func(k, v []byte) error {
		if len(k) < 32+8+9 {
			return errors.New("damaged consent log key")
		}
		kiosk, seq, err := cutEventKey(k[40:])
		if err != nil {
			return err
		}
		return f(k[:32], binary.BigEndian.Uint64(k[32:]), kiosk, seq, v)
	})
}

// Conflicts reads the conflicts, their person (CitizenKey) included.
func (r *Reader) Conflicts(f func(allimi.Conflict) error) error {
	return r.each(bucketConflicts, func(_, v []byte) error {
		var c allimi.Conflict
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		return f(c)
	})
}

// Receipts reads the receipt codes (by keyed hash) and the sign-up each
// opens.
func (r *Reader) Receipts(f func(codeKey, ck []byte, hlc uint64, kiosk string) error) error {
	return r.each(bucketReceipts, func(k, v []byte) error {
		if len(v) < 40 {
			return errors.New("damaged receipt")
		}
		return f(k, v[:32], binary.BigEndian.Uint64(v[32:]), string(v[40:]))
	})
}

// Confirmations reads the sign-ups still to confirm: their record's key
// (kiosk 0x00 seq), person and time.
func (r *Reader) Confirmations(f func(key, ck []byte, at time.Time) error) error {
	return r.each(bucketConfirmations, func(k, v []byte) error {
		if len(v) != 40 {
			return errors.New("damaged confirmation")
		}
		return f(k, v[:32], time.UnixMilli(int64(binary.BigEndian.Uint64(v[32:]))).UTC())
	})
}

// Rejections reads the refused records kept.
func (r *Reader) Rejections(f func(allimi.Rejection) error) error {
	return r.each(bucketRejected, func(_, v []byte) error {
		var rj allimi.Rejection
		if err := json.Unmarshal(v, &rj); err != nil {
			return err
		}
		return f(rj)
	})
}

// Feedback reads what people said of knowledge-base entries.
func (r *Reader) Feedback(f func(allimi.FeedbackCount) error) error {
	return r.each(bucketFeedback, func(k, v []byte) error {
		if len(v) != 16 {
			return errors.New("damaged feedback count")
		}
		return f(allimi.FeedbackCount{Entry: string(k), Helpful: binary.BigEndian.Uint64(v), NotHelpful: binary.BigEndian.Uint64(v[8:])})
	})
}

// Profiles reads the new-benefits profiles, sealed.
func (r *Reader) Profiles(f func(ck, sealed []byte) error) error {
	return r.each(bucketProfiles, func(k, v []byte) error { return f(k, v) })
}

// BenefitNotified reads who was told of which service, at which catalog
// version.
func (r *Reader) BenefitNotified(f func(ck []byte, service string, version uint64) error) error {
	return r.each(bucketBenefitNotified, func(k, v []byte) error {
		if len(k) < 33 || k[32] != 0 || len(v) != 8 {
			return errors.New("damaged benefit-notified entry")
		}
		return f(k[:32], string(k[33:]), binary.BigEndian.Uint64(v))
	})
}

// Audit reads the audit log's entries (allimi.AuditEntry as JSON) in
// order.
func (r *Reader) Audit(f func(seq uint64, entry []byte) error) error {
	return r.each(bucketAudit, func(k, v []byte) error {
		if len(k) != 8 {
			return errors.New("damaged audit key")
		}
		return f(binary.BigEndian.Uint64(k), v)
	})
}

// AuditHead is the audit chain's last hash.
func (r *Reader) AuditHead() string { return string(r.tx.Bucket(bucketMeta).Get(keyAuditHead)) }

// QuestionChunks reads the audio chunks still waiting for their question;
// index 0xFFFFFFFF, with no audio, marks that one arrived twice.
func (r *Reader) QuestionChunks(f func(kiosk, code string, index uint32, receivedMs int64, sealed []byte) error) error {
	return r.each(bucketQChunks, func(k, v []byte) error {
		parts := bytes.SplitN(k, []byte{0}, 3)
		if len(parts) != 3 || len(parts[2]) != 4 || len(v) < 8 {
			return errors.New("damaged chunk")
		}
		var sealed []byte
		if len(v) > 8 {
			sealed = v[8:]
		}
		return f(string(parts[0]), string(parts[1]), binary.BigEndian.Uint32(parts[2]), int64(binary.BigEndian.Uint64(v)), sealed)
	})
}

func (r *Reader) byID(name []byte, f func(id uint64, v []byte) error) error {
	return r.each(name, func(k, v []byte) error {
		if len(k) != 8 {
			return errors.New("damaged id")
		}
		return f(binary.BigEndian.Uint64(k), v)
	})
}

// Questions reads the questions, sealed.
func (r *Reader) Questions(f func(id uint64, sealed []byte) error) error {
	return r.byID(bucketQuestions, f)
}

// QuestionCodes reads the questions' codes, by keyed hash.
func (r *Reader) QuestionCodes(f func(codeKey []byte, id uint64) error) error {
	return r.each(bucketQCodes, func(k, v []byte) error {
		if len(v) != 8 {
			return errors.New("damaged question code")
		}
		return f(k, binary.BigEndian.Uint64(v))
	})
}

// QuestionAudio reads the questions' recordings, sealed.
func (r *Reader) QuestionAudio(f func(id uint64, sealed []byte) error) error {
	return r.byID(bucketQAudio, f)
}

// QuestionSend reads the answers still to send.
func (r *Reader) QuestionSend(f func(id uint64) error) error {
	return r.byID(bucketQSend, func(id uint64, _ []byte) error { return f(id) })
}

// Catalogs reads the catalogs: each one's signed manifest and body.
func (r *Reader) Catalogs(f func(name string, m catalog.Manifest, body []byte) error) error {
	return r.each(bucketCatalogs, func(k, v []byte) error {
		var c storedCatalog
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		return f(string(k), c.Manifest, c.Body)
	})
}

// ThrottleCounts reads the attempt limiters' counts, per limiter name.
func (r *Reader) ThrottleCounts(f func(name string, c throttle.Count) error) error {
	return r.each(throttle.Bucket, func(k, v []byte) error {
		var c throttle.Count
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(k)-i-1 != len(c.ID) || len(v) != 20 {
			return nil // damaged: central forgets it too
		}
		copy(c.ID[:], k[i+1:])
		c.N, c.Since, c.Until = binary.BigEndian.Uint32(v), int64(binary.BigEndian.Uint64(v[4:])), int64(binary.BigEndian.Uint64(v[12:]))
		return f(string(k[:i]), c)
	})
}

// Notifications reads the notifications, with the Idempotency-Key that
// created each (empty: none).
func (r *Reader) Notifications(f func(n allimi.Notification, idemKey string) error) error {
	idem := map[uint64]string{}
	if err := r.each(bucketNotifIdem, func(k, v []byte) error {
		_, key, ok := bytes.Cut(k, []byte{0})
		if !ok || len(v) != 8 {
			return errors.New("damaged idempotency key")
		}
		idem[binary.BigEndian.Uint64(v)] = string(key)
		return nil
	}); err != nil {
		return err
	}
	return r.byID(bucketNotifications, func(id uint64, v []byte) error {
		var n allimi.Notification
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		return f(n, idem[id])
	})
}

// ProgramEnrolments reads the enrolments in programs, with the
// Idempotency-Key that created each (empty: none).
func (r *Reader) ProgramEnrolments(f func(e allimi.Enrolment, idemKey string) error) error {
	idem := map[string]string{}
	if err := r.each(bucketProgramIdem, func(k, v []byte) error {
		_, key, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return errors.New("damaged idempotency key")
		}
		idem[string(v)] = string(key)
		return nil
	}); err != nil {
		return err
	}
	return r.each(bucketProgramEnrolments, func(k, v []byte) error {
		var e allimi.Enrolment
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		return f(e, idem[string(k)])
	})
}

// TypeDefs reads every version of the types administrators put.
func (r *Reader) TypeDefs(f func(allimi.TypeDef) error) error {
	var err error
	if e := eachTypeDef(r.tx, nil, func(d allimi.TypeDef) {
		if err == nil {
			err = f(d)
		}
	}); e != nil {
		return e
	}
	return err
}

// Recipient is a notification's recipient.
type Recipient struct {
	Notification uint64
	Seq          uint32
	CK           []byte
	Mask         byte   // allimi.ChannelBit of the channels consented to
	Token        uint64 // the number of their detail page's token
	Params       map[string]string
}

// Recipients reads every notification's recipients.
func (r *Reader) Recipients(f func(Recipient) error) error {
	return r.each(bucketRecipients, func(k, v []byte) error {
		b, err := openRecipientBlock(k, v)
		if err != nil {
			return err
		}
		id := binary.BigEndian.Uint64(k)
		for {
			rc, ok, err := b.Next()
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := f(Recipient{Notification: id, Seq: rc.Seq, CK: rc.CK, Mask: rc.Mask, Token: rc.Token, Params: rc.Params}); err != nil {
				return err
			}
		}
	})
}

func channelAt(i byte) (allimi.Channel, error) {
	if int(i) >= len(allimi.Channels) {
		return "", fmt.Errorf("channel %d: unknown", i)
	}
	return allimi.Channels[i], nil
}

// Deliveries reads each delivery's record.
func (r *Reader) Deliveries(f func(allimi.DeliveryRef, allimi.DeliveryRecord) error) error {
	return r.each(bucketDeliveries, func(k, v []byte) error {
		if len(k) != 13 {
			return errDamagedDeliveries
		}
		ch, err := channelAt(k[8])
		if err != nil {
			return err
		}
		b, err := decodeDeliveryBlock(v)
		if err != nil {
			return err
		}
		base := binary.BigEndian.Uint32(k[9:]) * deliveriesPerBlock
		for i := range deliveriesPerBlock {
			if b.present&(1<<i) == 0 {
				continue
			}
			ref := allimi.DeliveryRef{Notification: binary.BigEndian.Uint64(k), Seq: base + uint32(i) + 1, Channel: ch}
			if err := f(ref, b.recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Due reads the due queue.
func (r *Reader) Due(f func(ref allimi.DeliveryRef, atMs int64, flags byte) error) error {
	return r.each(bucketDue, func(k, v []byte) error {
		if len(k) != 21 || len(v) != 1 {
			return errors.New("damaged due entry")
		}
		ch, err := channelAt(k[0])
		if err != nil {
			return err
		}
		ref := allimi.DeliveryRef{Notification: binary.BigEndian.Uint64(k[9:]), Seq: binary.BigEndian.Uint32(k[17:]), Channel: ch}
		return f(ref, int64(binary.BigEndian.Uint64(k[1:])), v[0])
	})
}

func refOf(k []byte) (allimi.DeliveryRef, error) {
	if len(k) != 13 {
		return allimi.DeliveryRef{}, errors.New("damaged delivery key")
	}
	ch, err := channelAt(k[12])
	return allimi.DeliveryRef{Notification: binary.BigEndian.Uint64(k), Seq: binary.BigEndian.Uint32(k[8:]), Channel: ch}, err
}

// DeadLetters reads the dead letters (allimi.DeadLetter as JSON).
func (r *Reader) DeadLetters(f func(ref allimi.DeliveryRef, body []byte) error) error {
	return r.each(bucketDeadLetters, func(k, v []byte) error {
		ref, err := refOf(k)
		if err != nil {
			return err
		}
		return f(ref, v)
	})
}

// EarlyReceipts reads the receipts that came ahead of their acceptance
// (allimi.ProviderReceipt as JSON).
func (r *Reader) EarlyReceipts(f func(ref allimi.DeliveryRef, body []byte) error) error {
	return r.each(bucketEarlyReceipts, func(k, v []byte) error {
		ref, err := refOf(k)
		if err != nil {
			return err
		}
		return f(ref, v)
	})
}

// SendIntents reads the send-intents.
func (r *Reader) SendIntents(f func(allimi.SendIntent) error) error {
	return r.each(bucketSendIntents, func(k, v []byte) error {
		si, err := decodeSendIntent(k, v)
		if err != nil {
			return err
		}
		return f(si)
	})
}

// QueueIntents reads the durable send queues' intents.
func (r *Reader) QueueIntents(f func(ch allimi.Channel, key string, in allimi.QueueIntent) error) error {
	return r.each(bucketQueueIntents, func(k, v []byte) error {
		if len(k) < 1 || len(v) != 16 {
			return errors.New("damaged queue intent")
		}
		ch, err := channelAt(k[0])
		if err != nil {
			return err
		}
		return f(ch, string(k[1:]), allimi.QueueIntent{At: int64(binary.BigEndian.Uint64(v)), Group: binary.BigEndian.Uint64(v[8:])})
	})
}

// DeliveryStats reads the delivery statistics: counts per type, channel
// and outcome.
func (r *Reader) DeliveryStats(f func(t, ch, outcome string, n uint64) error) error {
	return r.each(bucketDeliveryStats, func(k, v []byte) error {
		parts := bytes.SplitN(k, []byte{0}, 3)
		if len(parts) != 3 || len(v) != 8 {
			return errors.New("damaged delivery count")
		}
		return f(string(parts[0]), string(parts[1]), string(parts[2]), binary.BigEndian.Uint64(v))
	})
}

// Regions reads the region of each person's sign-up kiosk, by citizen
// key (people without one are absent).
func (r *Reader) Regions(f func(ck []byte, region string) error) error {
	return r.each(bucketRegions, func(k, v []byte) error { return f(k, string(v)) })
}

// DailyDeliveries reads the dated delivery statistics.
func (r *Reader) DailyDeliveries(f func(allimi.DeliveryCount) error) error {
	return r.each(bucketDailyStats, func(k, v []byte) error {
		p := bytes.SplitN(k, []byte{0}, 5)
		if len(p) != 5 || len(v) != 8 {
			return errors.New("damaged dated delivery count")
		}
		return f(allimi.DeliveryCount{DeliveryCell: allimi.DeliveryCell{Day: string(p[0]), Region: string(p[1]),
			Type: allimi.NotificationType(p[2]), Channel: allimi.Channel(p[3]), Outcome: string(p[4])},
			N: int64(binary.BigEndian.Uint64(v))})
	})
}

// ChannelSubscribers are the people counted per channel, as
// Store.ChannelSubscribers reads them (meta counters).
func (r *Reader) ChannelSubscribers() map[allimi.Channel]int64 { return channelPeopleIn(r.tx) }

// DetailShared reads the detail pages' shared details: the key, expiry
// and encoded detail each, as central/detail keeps them on any storage.
func (r *Reader) DetailShared(f func(key string, expires time.Time, detail []byte) error) error {
	return detail.ReadBolt(r.tx, detail.BoltContents{Shared: f})
}

// DetailAttempts reads the detail tokens' wrong tries and locks, each with
// the token's expiry: its record's, or its recipient's notification's.
// The counts of tokens neither has are left: their pages no longer open.
func (r *Reader) DetailAttempts(f func(seq uint64, a detail.Attempts, expires time.Time) error) error {
	return detail.ReadBolt(r.tx, detail.BoltContents{Attempts: func(seq uint64, a detail.Attempts, expires time.Time) error {
		if expires.IsZero() {
			n, _, ok, err := recipientOfToken(r.tx, seq)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			expires = n.ExpiresAt
		}
		return f(seq, a, expires)
	}})
}

// Sequences are the last ids the file handed out, which the copy's own
// must go on from.
type Sequences struct {
	Conflicts, Rejections, Questions, Notifications uint64
	DetailTokens                                    uint64 // detail page tokens reserved
}

// Sequences reads them.
func (r *Reader) Sequences() Sequences {
	return Sequences{Conflicts: r.sequence(bucketConflicts), Rejections: r.sequence(bucketRejected),
		Questions: r.sequence(bucketQuestions), Notifications: r.sequence(bucketNotifications),
		DetailTokens: r.sequence([]byte(detail.TokensBucket))}
}

// Left is a bucket of the file that Reader does not read, and why.
type Left struct {
	Bucket  string
	Entries int
	Why     string
}

// readByReader are the buckets Reader's methods read.
var readByReader = [][]byte{bucketTypeDefs, bucketProgramEnrolments, bucketProgramIdem, bucketMeta, bucketKiosks, bucketEnrolments, bucketAgencies, bucketOfficials,
	bucketOfficialSessions, bucketEvents, bucketHW, bucketCitizens, bucketConsents, bucketConsentLog, bucketConflicts,
	bucketReceipts, bucketConfirmations, bucketRejected, bucketActive, bucketFeedback, bucketProfiles,
	bucketBenefitNotified, bucketAudit, bucketQChunks, bucketQuestions, bucketQCodes, bucketQAudio, bucketQSend,
	bucketCatalogs, throttle.Bucket, bucketNotifications, bucketNotifIdem, bucketRecipients, bucketDeliveries,
	bucketDue, bucketDeadLetters, bucketEarlyReceipts, bucketSendIntents, bucketQueueIntents, bucketDeliveryStats,
	bucketRegions, bucketDailyStats, []byte(detail.SharedBucket), []byte(detail.AttemptsBucket)}

// notReadWhy says why Reader leaves each other bucket of the parts.
var notReadWhy = map[string]string{
	string(bucketStepsDue):     "the index of the enrolments' steps by due time, derived from their steps",
	string(bucketSubs):         "the campaign index, derived from the consents (PostgreSQL reads the consents directly)",
	string(bucketSubsPending):  "the campaign index's queue, derived data",
	string(bucketAgencyTokens): "an index of the agencies' token hashes, which the agencies table holds",
	string(bucketTokenRanges):  "the detail pages' index from token to recipient, derived data (each recipient's token number is copied with them, and PostgreSQL finds a token's recipient by it)",
}

// detailWhy is why the detail pages' tokens bucket is left: its sequence
// is copied (Sequences), and its records are of tokens issued one by one
// with their whole detail, which central does not issue (its dispatcher's
// tokens are answered from the recipients, copied with their numbers).
const detailWhy = "records of detail tokens issued one by one, which central's dispatcher does not issue (the links it sent are answered from the recipients, copied with their token numbers, and the sequence goes on on PostgreSQL); any such links stop opening"

// NotRead lists the buckets of the file no method of Reader reads, with
// their number of entries (empty ones too) and why: the detail pages'
// tokens bucket (no records central issues), the campaign index and its
// queue (derived from the consents, which PostgreSQL reads directly), the
// detail pages' token ranges (derived from the recipients), and the
// agencies' token index (the agencies hold their token's hash).
func (r *Reader) NotRead() []Left {
	read := map[string]bool{}
	for _, b := range readByReader {
		read[string(b)] = true
	}
	var out []Left
	seen := map[string]bool{}
	_ = r.tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		n := string(name)
		if read[n] {
			return nil
		}
		w := notReadWhy[n]
		switch {
		case w != "":
		case bytes.HasPrefix(name, []byte("detail-")):
			w = detailWhy
		default:
			w = "not a bucket this build knows"
		}
		seen[n] = true
		out = append(out, Left{Bucket: n, Entries: b.Stats().KeyN, Why: w})
		return nil
	})
	// The detail pages' tokens bucket is named even when central ran
	// without links and the file has none: what is not copied is said
	// either way.
	if n := detail.TokensBucket; !seen[n] {
		out = append(out, Left{Bucket: n, Why: detailWhy + " (the file has no such bucket: central ran without links)"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bucket < out[j].Bucket })
	return out
}
