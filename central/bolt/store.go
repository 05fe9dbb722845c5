package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/detail"
	"allimi/central/keyring"
	"allimi/central/record"
	"allimi/central/throttle"
)

// The registry's counters, in its meta bucket.
var (
	keyStored      = []byte("stored")
	keyDuplicates  = []byte("duplicates")
	keyRejected    = []byte("rejected")
	keySubscribers = []byte("subscribers")
)

// ErrInUse is returned when another process holds the data directory.
var ErrInUse = errors.New("the data directory is in use by a running central: stop it first")

// maxRejectionsKept bounds the rejection log; the counter keeps counting.
const maxRejectionsKept = 10000

// Store is central's storage in one bbolt file: the parts below (parts.go),
// each keeping its own buckets.
type Store struct {
	db      *bbolt.DB
	keys    *keyring.Keys
	window  time.Duration
	now     func() time.Time
	Details *detail.Store
	links   *links
	log     *slog.Logger
	Limits  *throttle.Limits
	// codeIndex keys the receipts and question-codes buckets (codeKey).
	codeIndex []byte
	// subsPending counts the entries of bucketSubsPending (subsfold.go).
	subsPending atomic.Int64
}

// StoreOptions tune a Store.
type StoreOptions struct {
	// ConflictWindow: a grant and a withdrawal of the same type and channel,
	// from different kiosks, whose clocks are this close are concurrent.
	ConflictWindow time.Duration
	// LinkBase is the public base URL of the detail pages; empty for tools
	// that send nothing.
	LinkBase string
	// Logger takes what the store notices on its own (a damaged question);
	// slog's default when nil.
	Logger *slog.Logger
	// Limits sets the limits on guessing and on verification SMS.
	Limits throttle.LimitsConfig
}

// OpenStore opens (creating if needed) central's bbolt file.
func OpenStore(path string, keys *keyring.Keys, opt StoreOptions) (*Store, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if err := migratePII(path, keys, opt.Logger); err != nil {
		return nil, err
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second,
		// Address space, not memory: growing the file then needs no remap,
		// which would stall every reader and writer.
		InitialMmapSize: 1 << 30,
		FreelistType:    bbolt.FreelistArrayType})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, p := range parts {
			for _, b := range p.buckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return fmt.Errorf("%s: bucket %s: %w", p.name, b, err)
				}
			}
		}
		if err := countPeopleOnce(tx); err != nil {
			return fmt.Errorf("count people per channel: %w", err)
		}
		// A new file is written in the current format from the start.
		if m := tx.Bucket(bucketMeta); m.Get(keyPIIFormat) == nil {
			return m.Put(keyPIIFormat, u64(piiFormat))
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare %s: %w", path, err)
	}
	if opt.ConflictWindow <= 0 {
		opt.ConflictWindow = time.Hour
	}
	s := &Store{db: db, keys: keys, window: opt.ConflictWindow, now: time.Now, links: newLinks(keys.HashKey), log: opt.Logger,
		codeIndex: keys.Derive("receipt code index")}
	if s.log == nil {
		s.log = slog.Default()
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		s.subsPending.Store(int64(tx.Bucket(bucketSubsPending).Stats().KeyN))
		return nil
	})
	if s.Limits, err = throttle.OpenLimits(throttle.Bolt(db), keys.Derive("limits"), opt.Limits); err != nil {
		db.Close()
		return nil, err
	}
	if opt.LinkBase != "" {
		st, err := detail.Bolt(db, s)
		if err == nil {
			s.Details, err = detail.NewStore(st, keys.Derive("detail pages"), detail.Options{BaseURL: opt.LinkBase, OnView: s.auditDetailView,
				Clients: s.Limits.Detail})
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

type citizenRecord struct {
	PII      []byte    `json:"pii"` // sealed allimi.Citizen
	Verified bool      `json:"verified"`
	Active   int       `json:"active"` // active grants
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// consentState is how the consents bucket keeps an allimi.ConsentState
// (records.go encodes it).
type consentState = allimi.ConsentState

// Commit stores a batch in one transaction: new events, their effect on
// citizens and consents, rejections, and the kiosks' high-water marks. An
// event already stored (same kiosk and seq) is counted as a duplicate and
// changes nothing.
func (s *Store) Commit(batch []allimi.Incoming) (allimi.CommitOutcome, error) {
	var out allimi.CommitOutcome
	for i := range batch {
		s.Prepare(&batch[i]) // outside the transaction, which every writer waits for
	}
	var tally *commitTally
	err := s.db.Update(func(tx *bbolt.Tx) error {
		out = allimi.CommitOutcome{HW: map[string]uint64{}}
		tally = newCommitTally()
		events, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketMeta)
		for _, in := range batch {
			prep, _ := in.Prepared.(*record.Prepared)
			if in.Reject != nil {
				out.Rejected++
				if err := s.logRejection(tx, in); err != nil {
					return err
				}
				continue
			}
			e := in.Event
			key := record.Key(e.Kiosk, e.Seq)
			if events.Get(key) != nil {
				out.Duplicates++
			} else {
				sealed := prep.Sealed
				if sealed == nil {
					plain, err := json.Marshal(record.ToKeep(e))
					if err != nil {
						return err
					}
					sealed = s.keys.Seal(plain, key)
				}
				if err := events.Put(key, sealed); err != nil {
					return err
				}
				confirm, err := s.apply(tx, tally, e, in.Consents, prep)
				if err != nil {
					return fmt.Errorf("event %s/%d: %w", e.Kiosk, e.Seq, err)
				}
				if confirm {
					out.Confirmations++
				}
				out.Stored++
			}
			out.HW[e.Kiosk] = 0
		}
		if err := tally.flush(tx, s); err != nil {
			return err
		}
		for k := range out.HW {
			hw, err := advanceHW(tx, k)
			if err != nil {
				return err
			}
			out.HW[k] = hw
		}
		for _, c := range []struct {
			k []byte
			n int
		}{{keyStored, out.Stored}, {keyDuplicates, out.Duplicates}, {keyRejected, out.Rejected}} {
			if err := addU64(meta, c.k, int64(c.n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.subsPending.Add(int64(len(tally.subs)))
	}
	return out, err
}

func (s *Store) logRejection(tx *bbolt.Tx, in allimi.Incoming) error {
	b := tx.Bucket(bucketRejected)
	id, _ := b.NextSequence()
	r := allimi.Rejection{ID: id, At: s.now().UTC(), Kiosk: in.Kiosk, Reason: in.Reject.Error()}
	v, _ := json.Marshal(r)
	if err := b.Put(u64(id), v); err != nil {
		return err
	}
	if id > maxRejectionsKept {
		return b.Delete(u64(id - maxRejectionsKept))
	}
	return nil
}

// advanceHW moves kiosk's high-water mark over every stored contiguous record.
func advanceHW(tx *bbolt.Tx, kiosk string) (uint64, error) {
	hwb, events := tx.Bucket(bucketHW), tx.Bucket(bucketEvents)
	hw := getU64(hwb, []byte(kiosk))
	start := hw
	for events.Get(record.Key(kiosk, hw+1)) != nil {
		hw++
	}
	if hw != start {
		if err := hwb.Put([]byte(kiosk), u64(hw)); err != nil {
			return 0, err
		}
	}
	return hw, nil
}

// apply folds a new event into the citizen's record and consent states. It
// reports whether the event is a sign-up to confirm by SMS.
func (s *Store) apply(tx *bbolt.Tx, tally *commitTally, e *allimi.Event, p *allimi.ConsentPayload, prep *record.Prepared) (confirm bool, err error) {
	switch e.Kind {
	case allimi.KindFeedback:
		return false, countFeedback(tx, e)
	case allimi.KindQuestionAudio:
		return false, s.storeQuestionChunk(tx, e)
	case allimi.KindQuestion:
		return false, s.storeQuestion(tx, tally, e)
	}
	if p == nil {
		dp, err := e.Consents()
		if err != nil {
			return false, err
		}
		p = &dp
	}
	// The person's key, an HMAC, is computed once for every index below.
	ck := prep.CK
	if ck == nil {
		ck = s.keys.CitizenKey(e.Citizen.Mobile, e.Citizen.BirthDate)
	}
	if e.Kind == allimi.KindSignup {
		if err := s.putReceipt(tx, tally, e, ck, p); err != nil {
			return false, err
		}
		if !p.Verified {
			queueConfirmation(tally, e, ck)
			confirm = true
		}
	}
	if err := s.applyConsents(tx, tally, e, ck, p, prep); err != nil {
		return false, err
	}
	if p.TouchesNewBenefits() {
		if err := s.keepProfile(tx, e, ck, p); err != nil {
			return false, err
		}
	}
	return confirm, nil
}

func (s *Store) applyConsents(tx *bbolt.Tx, tally *commitTally, e *allimi.Event, ck []byte, p *allimi.ConsentPayload, prep *record.Prepared) error {
	cits := tx.Bucket(bucketCitizens)
	var rec citizenRecord
	known := false
	if v := cits.Get(ck); v != nil {
		known = true
		var err error
		if rec, err = decodeCitizenRecord(v); err != nil {
			return fmt.Errorf("citizen record: %w", err)
		}
	} else {
		rec.Created = s.now().UTC()
	}
	// A sign-up replaces the person's data, and with it the language
	// they signed up in (sealed together: keyring.EncodePerson).
	piiChanged := false
	if e.Kind == allimi.KindSignup || rec.PII == nil {
		rec.PII, piiChanged = prep.PII, true
		if rec.PII == nil {
			rec.PII = s.keys.SealPerson(e.Citizen, p.Lang, ck)
		}
	}
	rec.Verified = rec.Verified || p.Verified
	rec.Updated = s.now().UTC()
	// The citizen's consent log: one append-only entry per event, in
	// clock order, holding the changes without personal data.
	logKey := bytes.Join([][]byte{ck, u64(e.HLC), record.Key(e.Kiosk, e.Seq)}, nil)
	entry := prep.LogEntry
	if entry == nil {
		var err error
		if entry, err = record.LogEntry(p); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketConsentLog).Put(logKey, entry); err != nil {
		return err
	}
	// The new personal data goes into the person's index entries before
	// the changes below write theirs; a person central did not know has
	// none yet.
	if piiChanged && known {
		if err := refreshSubscribed(tx, ck, rec.PII); err != nil {
			return err
		}
	}
	// A sign-up counts the person under its kiosk's region from now on.
	if e.Kind == allimi.KindSignup {
		if err := putRegion(tx, ck, tally.regionOf(tx, e.Kiosk), known); err != nil {
			return err
		}
	}
	delta := 0
	var perChannel chanDelta
	// Most sign-ups are of people with no consent stored yet: one seek
	// tells, instead of a lookup for each of their consents.
	none := !hasConsents(tx.Bucket(bucketConsents), ck)
	for i, c := range p.Consents {
		stored := !none || repeats(p.Consents[:i], c)
		d, err := s.setConsent(tx, tally, ck, rec.PII, c.Type, c.Channel,
			consentState{Action: c.Action, HLC: e.HLC, Kiosk: e.Kiosk, Seq: e.Seq, By: c.By, At: c.At}, stored)
		if err != nil {
			return err
		}
		delta += d
		perChannel.add(c.Channel, d)
	}
	if err := countPeople(tx, tally, ck, perChannel, none); err != nil {
		return err
	}
	item := prep.Audit
	if !prep.Audited {
		item = record.AuditItem(s.keys, ck, e, p.AuditSummary())
	}
	tally.audit = append(tally.audit, item)
	return putCitizen(tx, tally, ck, &rec, delta)
}

// putCitizen stores the record with its active grants moved by delta,
// keeping the subscriber count (people with at least one active grant).
func putCitizen(tx *bbolt.Tx, tally *commitTally, ck []byte, rec *citizenRecord, delta int) error {
	before := rec.Active
	rec.Active += delta
	var err error
	switch {
	case before == 0 && rec.Active > 0:
		err = tally.addSubscribers(tx, 1)
	case before > 0 && rec.Active == 0:
		err = tally.addSubscribers(tx, -1)
	}
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCitizens).Put(ck, rec.encode())
}

// setConsent decides a type and channel's state after a change and returns
// the change in active grants (-1, 0 or +1). mayBeStored false says the
// person has no state for it (the caller knows), so none is looked up.
//
// Order: changes from one kiosk follow its hybrid clock. Changes from
// different kiosks whose clocks lie within the conflict window are
// concurrent: if they disagree, the withdrawal wins and an official is shown
// the conflict. Otherwise the later change wins. A resolution made at central
// supersedes everything older than it.
func (s *Store) setConsent(tx *bbolt.Tx, tally *commitTally, ck, pii []byte, t allimi.NotificationType, ch allimi.Channel, next consentState, mayBeStored bool) (int, error) {
	cons := tx.Bucket(bucketConsents)
	sk := consentKey(ck, t, ch)
	var cur consentState
	have := false
	var v []byte
	if mayBeStored {
		v = cons.Get(sk)
	}
	if v != nil {
		var err error
		if cur, err = decodeConsentState(v); err != nil {
			return 0, fmt.Errorf("consent state: %w", err)
		}
		have = true
	}
	win, conflict := allimi.DecideConsent(cur, have, next, s.window)
	if conflict {
		if err := s.recordConflict(tx, ck, t, ch, cur, next); err != nil {
			return 0, err
		}
	}
	if !win {
		return 0, nil
	}
	if err := cons.Put(sk, encodeConsentState(&next)); err != nil {
		return 0, err
	}
	delta := allimi.ActiveDelta(cur, have, next)
	if delta != 0 {
		if err := tally.addActive(tx, typeChannelKey(t, ch), int64(delta)); err != nil {
			return 0, err
		}
		if err := tally.setSubscribed(tx, t, ck, ch, delta > 0, pii); err != nil {
			return 0, err
		}
	}
	return delta, nil
}

func (s *Store) recordConflict(tx *bbolt.Tx, ck []byte, t allimi.NotificationType, ch allimi.Channel, a, b consentState) error {
	bk := tx.Bucket(bucketConflicts)
	id, _ := bk.NextSequence()
	c := allimi.NewConflict(ck, t, ch, a, b, s.now().UTC())
	c.ID = id
	v, _ := json.Marshal(c)
	return bk.Put(u64(id), v)
}

// Conflicts lists conflicts as officials see them (allimi.Conflict.Shown),
// unresolved ones only unless all is set.
func (s *Store) Conflicts(all bool) ([]allimi.Conflict, error) {
	out := []allimi.Conflict{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketConflicts).ForEach(func(_, v []byte) error {
			var c allimi.Conflict
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			if c.Resolved != nil && !all {
				return nil
			}
			if cit, err := s.citizen(tx, c.CitizenKey); err == nil {
				c = c.Shown(cit)
			}
			c.CitizenKey = nil
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// ResolveConflict records an official's decision and sets the consent
// accordingly, superseding every older change.
func (s *Store) ResolveConflict(id uint64, decision allimi.ConsentAction, official string) error {
	if err := allimi.CheckResolution(decision, official); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketConflicts)
		v := bk.Get(u64(id))
		if v == nil {
			return fmt.Errorf("conflict %d: %w", id, allimi.ErrNotFound)
		}
		var c allimi.Conflict
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		if c.Resolved != nil {
			return fmt.Errorf("conflict %d: already resolved by %s: %w", id, c.Resolved.Official, allimi.ErrInvalid)
		}
		now := s.now().UTC()
		c.Resolved = &allimi.Resolution{Decision: decision, Official: official, At: now}
		// The resolution's clock must follow everything it settles.
		var cur consentState
		if v := tx.Bucket(bucketConsents).Get(consentKey(c.CitizenKey, c.Type, c.Channel)); v != nil {
			var err error
			if cur, err = decodeConsentState(v); err != nil {
				return fmt.Errorf("consent state: %w", err)
			}
		}
		hlc := allimi.NextHLC(cur.HLC, now)
		next := consentState{Action: decision, HLC: hlc, By: allimi.Actor{Kind: allimi.ActorCentral, Official: official}, At: now}
		rec, err := decodeCitizenRecord(tx.Bucket(bucketCitizens).Get(c.CitizenKey))
		if err != nil {
			return fmt.Errorf("citizen record: %w", err)
		}
		delta, err := s.setConsent(tx, nil, c.CitizenKey, rec.PII, c.Type, c.Channel, next, true)
		if err != nil {
			return err
		}
		if delta != 0 {
			rec.Updated = now
			if err := putCitizen(tx, nil, c.CitizenKey, &rec, delta); err != nil {
				return err
			}
			var perChannel chanDelta
			perChannel.add(c.Channel, delta)
			if err := countPeople(tx, nil, c.CitizenKey, perChannel, false); err != nil {
				return err
			}
		}
		if err := s.audit(tx, allimi.AuditResolution, c.CitizenKey, official,
			fmt.Sprintf("conflict %d: %s %s %s", id, decision, c.Type, c.Channel)); err != nil {
			return err
		}
		nv, _ := json.Marshal(c)
		return bk.Put(u64(id), nv)
	})
}

func (s *Store) citizen(tx *bbolt.Tx, ck []byte) (allimi.Citizen, error) {
	c, _, err := s.person(tx, ck)
	return c, err
}

// person is a citizen's stored personal data and the language they
// signed up in.
func (s *Store) person(tx *bbolt.Tx, ck []byte) (allimi.Citizen, string, error) {
	v := tx.Bucket(bucketCitizens).Get(ck)
	if v == nil {
		return allimi.Citizen{}, "", allimi.ErrNotFound
	}
	rec, err := decodeCitizenRecord(v)
	if err != nil {
		return allimi.Citizen{}, "", fmt.Errorf("citizen record: %w", err)
	}
	return s.openPerson(ck, rec.PII)
}

// openPII decrypts a citizen's sealed personal data.
func (s *Store) openPII(ck, sealed []byte) (allimi.Citizen, error) {
	c, _, err := s.openPerson(ck, sealed)
	return c, err
}

// openPerson decrypts a citizen's sealed personal data and the language
// they signed up in (empty when none was kept).
func (s *Store) openPerson(ck, sealed []byte) (allimi.Citizen, string, error) {
	plain, err := s.keys.Open(sealed, ck)
	if err != nil {
		return allimi.Citizen{}, "", err
	}
	return decodePerson(plain)
}

// LanguageOf reports the language a person last signed up in.
func (s *Store) LanguageOf(mobile, birthDate string) (string, bool, error) {
	var lang string
	found := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		_, l, err := s.person(tx, s.keys.CitizenKey(mobile, birthDate))
		if errors.Is(err, allimi.ErrNotFound) {
			return nil
		}
		lang, found = l, err == nil
		return err
	})
	return lang, found, err
}

// ConsentOf reports the current consent of a person for a type and channel.
func (s *Store) ConsentOf(mobile, birthDate string, t allimi.NotificationType, ch allimi.Channel) (allimi.ConsentAction, bool, error) {
	var st consentState
	found := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketConsents).Get(consentKey(s.keys.CitizenKey(mobile, birthDate), t, ch))
		if v == nil {
			return nil
		}
		found = true
		var err error
		st, err = decodeConsentState(v)
		return err
	})
	return st.Action, found, err
}

// RegistryStats reads the counters.
func (s *Store) Stats() (allimi.RegistryStats, error) {
	var st allimi.RegistryStats
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		st, err = statsIn(tx)
		return err
	})
	return st, err
}

// statsIn reads the counters in tx.
func statsIn(tx *bbolt.Tx) (allimi.RegistryStats, error) {
	var st allimi.RegistryStats
	st.Active = map[string]map[string]int64{}
	st.Kiosks = map[string]uint64{}
	err := func() error {
		m := tx.Bucket(bucketMeta)
		st.Subscribers = int64(getU64(m, keySubscribers))
		st.Records.Stored = int64(getU64(m, keyStored))
		st.Records.Duplicates = int64(getU64(m, keyDuplicates))
		st.Records.Rejected = int64(getU64(m, keyRejected))
		_ = tx.Bucket(bucketActive).ForEach(func(k, v []byte) error {
			t, ch, _ := bytes.Cut(k, []byte{0})
			if st.Active[string(t)] == nil {
				st.Active[string(t)] = map[string]int64{}
			}
			st.Active[string(t)][string(ch)] = int64(binary.BigEndian.Uint64(v))
			return nil
		})
		_ = tx.Bucket(bucketConflicts).ForEach(func(_, v []byte) error {
			var c allimi.Conflict
			if json.Unmarshal(v, &c) == nil && c.Resolved == nil {
				st.Conflicts++
			}
			return nil
		})
		return tx.Bucket(bucketHW).ForEach(func(k, v []byte) error {
			st.Kiosks[string(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
	}()
	return st, err
}

// Subscribers counts citizens with at least one active grant; unlike Stats
// it reads one counter, for a metric scraped every few seconds.
func (s *Store) Subscribers() (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = int64(getU64(tx.Bucket(bucketMeta), keySubscribers))
		return nil
	})
	return n, err
}

// HW returns the kiosk's high-water mark.
func (s *Store) HW(kiosk string) (uint64, error) {
	var hw uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		hw = getU64(tx.Bucket(bucketHW), []byte(kiosk))
		return nil
	})
	return hw, err
}

// Rejections lists the most recent refused messages, newest first.
func (s *Store) Rejections(limit int) ([]allimi.Rejection, error) {
	out := []allimi.Rejection{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRejected).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var r allimi.Rejection
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// setSubscribed keeps the index campaigns walk: for a type, every citizen
// with an active grant, on which channels, and their sealed personal data —
// so that a campaign reads one bucket in order instead of every citizen's
// record at random. An ingest batch leaves it to FoldSubs
// (commitTally.setSubscribed).
func setSubscribed(tx *bbolt.Tx, t allimi.NotificationType, ck []byte, ch allimi.Channel, on bool, pii []byte) error {
	b := tx.Bucket(bucketSubs)
	k := subsKey(t, ck)
	var mask byte
	if v := b.Get(k); len(v) >= 1 {
		mask = v[0]
	}
	if on {
		mask |= allimi.ChannelBit(ch)
	} else {
		mask &^= allimi.ChannelBit(ch)
	}
	if mask == 0 {
		return b.Delete(k)
	}
	return b.Put(k, append([]byte{mask}, pii...))
}

// refreshSubscribed puts a citizen's new personal data into their entries.
func refreshSubscribed(tx *bbolt.Tx, ck, pii []byte) error {
	b := tx.Bucket(bucketSubs)
	for _, ti := range allimi.Types() {
		k := subsKey(ti.ID, ck)
		if v := b.Get(k); len(v) >= 1 {
			if err := b.Put(k, append([]byte{v[0]}, pii...)); err != nil {
				return err
			}
		}
	}
	return nil
}

func subsKey(t allimi.NotificationType, ck []byte) []byte {
	return append([]byte(string(t)+"\x00"), ck...)
}

// hasConsents reports whether the person ck has any consent state stored.
func hasConsents(cons *bbolt.Bucket, ck []byte) bool {
	k, _ := cons.Cursor().Seek(ck)
	return k != nil && bytes.HasPrefix(k, ck)
}

// repeats reports whether earlier holds a consent of c's type and channel.
func repeats(earlier []allimi.Consent, c allimi.Consent) bool {
	for _, o := range earlier {
		if o.Type == c.Type && o.Channel == c.Channel {
			return true
		}
	}
	return false
}

func consentKey(ck []byte, t allimi.NotificationType, ch allimi.Channel) []byte {
	return append(append([]byte{}, ck...), typeChannelKey(t, ch)...)
}

func typeChannelKey(t allimi.NotificationType, ch allimi.Channel) []byte {
	return []byte(string(t) + "\x00" + string(ch))
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func getU64(b *bbolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func addU64(b *bbolt.Bucket, k []byte, d int64) error {
	if d == 0 {
		return nil
	}
	return b.Put(k, u64(uint64(int64(getU64(b, k))+d)))
}
