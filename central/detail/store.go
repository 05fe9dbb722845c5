package detail

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"allimi"
	"allimi/central/throttle"
)

// maxSharedKey bounds a shared detail's key: every token that refers to it
// repeats it.
const maxSharedKey = 255

// Options tune a Store; zero fields take the defaults.
type Options struct {
	// MaxFailures wrong dates of birth in a row lock the token (5).
	MaxFailures int
	// Lockout is how long a lock lasts (30 minutes).
	Lockout time.Duration
	// Now is the clock (time.Now); tests move it instead of sleeping.
	Now func() time.Time
	// BaseURL is where the Handler is reachable from phones, e.g.
	// "https://allimi.example.kr": links are BaseURL+"/n/"+token.
	BaseURL string
	// Logger gets server-side failures (slog.Default()). Nothing personal
	// and no token is ever logged.
	Logger *slog.Logger
	// OnView, when set, is told of every page shown after a right date of
	// birth, by token number, before it is shown: central's audit log. An
	// error keeps the page from being shown.
	OnView func(seq uint64) error
	// Clients, when set, also limits wrong dates of birth (and unknown
	// links) per client address, across links: each link's own lock stops
	// guessing one person's date, this stops one address trying many
	// links. Only its Client rule is used.
	Clients *throttle.Limiter
}

// Store issues detail tokens and serves their pages, over a Storage: on
// central's bbolt file (Bolt), so the dispatcher can issue tokens inside
// its own transactions, or on PostgreSQL (central/pg).
type Store struct {
	st   Storage
	macs *macs
	opt  Options
	base string
}

// Detail is what the page shows after the check.
type Detail struct {
	Type   allimi.NotificationType
	Title  string // e.g. "교통 과태료 안내"
	Agency string // e.g. "경찰청"
	// Fields are shown in order as a list of label and value.
	Fields []Field
	// PaymentURL, https only and only for payable types (allimi.NotificationType.Payable), is
	// shown as a big button after the check.
	PaymentURL string
	// Expires is when the link stops working; Unix seconds are kept.
	Expires time.Time
	// Lang is the recipient's language (one of allimi.Languages), in
	// which the page speaks; empty is Korean. Issue keeps it with the
	// token; a shared detail has none (each recipient's is their own).
	Lang string
}

// Field is one line of a detail: {"과태료", "40,000원"}.
type Field struct{ Label, Value string }

// NewStore makes a Store over st. secret (32 bytes) keys the hash of the
// date of birth and the sealing of each record: give it a key of its own,
// kept apart from the storage.
func NewStore(st Storage, secret []byte, opts Options) (*Store, error) {
	if st == nil {
		return nil, fmt.Errorf("detail store: no storage")
	}
	if len(secret) != 32 {
		return nil, fmt.Errorf("detail store: secret is %d bytes, want 32", len(secret))
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.MaxFailures > 255 {
		return nil, fmt.Errorf("detail store: MaxFailures %d: at most 255", opts.MaxFailures)
	}
	if opts.Lockout <= 0 {
		opts.Lockout = 30 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	base := strings.TrimRight(opts.BaseURL, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("detail store: BaseURL %q: want the address phones reach, like https://allimi.example.kr", opts.BaseURL)
	}
	return &Store{st: st, macs: newMACs(secret), opt: opts, base: base}, nil
}

// Issue creates a token for one recipient of one notification inside tx
// and returns the token and the link. The whole detail is stored with the
// token; when many recipients share most of it, PutShared and IssueRef
// store the shared part once.
func (s *Store) Issue(tx Writer, d Detail, birthDate string) (token, link string, err error) {
	now := s.opt.Now()
	if err := validateDetail(d, now); err != nil {
		return "", "", err
	}
	dob, err := canonicalBirthDate(birthDate, now)
	if err != nil {
		return "", "", err
	}
	if err := allimi.ValidateLanguage("detail language", d.Lang); err != nil {
		return "", "", err
	}
	return s.put(tx, formatInline, d.Expires, dob, "", appendLang(appendDetail(nil, d), d.Lang))
}

// PutShared stores inside tx what all recipients of one notice see the
// same (type, title, agency, payment link, common fields), under key, for
// IssueRef. Its Expires bounds the tokens that refer to it: Purge deletes
// it with them. Putting the same key again replaces it (to fix a typo); the
// expiry may not move earlier.
func (s *Store) PutShared(tx Writer, key string, d Detail) error {
	if key == "" || len(key) > maxSharedKey {
		return fmt.Errorf("shared detail key %q: want 1 to %d bytes: %w", key, maxSharedKey, allimi.ErrInvalid)
	}
	if err := validateDetail(d, s.opt.Now()); err != nil {
		return err
	}
	old, v, err := tx.Shared(key)
	if err != nil {
		return fmt.Errorf("shared detail %q: %w", key, err)
	}
	if v != nil && d.Expires.Unix() < old.Unix() {
		return fmt.Errorf("shared detail %q: expiry moved earlier; tokens already refer to it until the old one: %w", key, allimi.ErrInvalid)
	}
	if err := tx.PutShared(key, time.Unix(d.Expires.Unix(), 0), appendDetail(make([]byte, 0, 256), d)); err != nil {
		return fmt.Errorf("shared detail %q: %w", key, err)
	}
	return nil
}

// IssueRef is Issue for a notice whose shared part PutShared stored under
// key: the token keeps only the recipient's own fields, shown before the
// shared ones. A zero expires takes the shared detail's; a later one is
// refused. Keep keys short: every token repeats its key.
func (s *Store) IssueRef(tx Writer, key string, fields []Field, birthDate string, expires time.Time) (token, link string, err error) {
	now := s.opt.Now()
	sharedExp, v, err := tx.Shared(key)
	if err != nil {
		return "", "", fmt.Errorf("shared detail %q: %w", key, err)
	}
	if v == nil {
		return "", "", fmt.Errorf("shared detail %q: put it with PutShared first: %w", key, allimi.ErrNotFound)
	}
	switch {
	case expires.IsZero():
		expires = sharedExp
	case expires.After(sharedExp):
		return "", "", fmt.Errorf("expiry %s: after the shared detail's %s: %w", expires.Format(time.RFC3339), sharedExp.Format(time.RFC3339), allimi.ErrInvalid)
	}
	if !expires.After(now) {
		return "", "", fmt.Errorf("expiry %s: already past: %w", expires.Format(time.RFC3339), allimi.ErrInvalid)
	}
	if err := validateFields(fields); err != nil {
		return "", "", err
	}
	dob, err := canonicalBirthDate(birthDate, now)
	if err != nil {
		return "", "", err
	}
	return s.put(tx, formatRef, expires, dob, key, appendFields(nil, fields))
}

// Reserve sets aside n token sequence numbers, base+1 to base+n, for a
// caller that makes its tokens itself with TokenFor: a dispatcher that must
// put the same link in a message each time it resends it, before the token
// is stored.
func (s *Store) Reserve(tx Writer, n uint64) (base uint64, err error) {
	base, err = tx.ReserveTokens(n)
	if err != nil {
		return 0, fmt.Errorf("reserve detail tokens: %w", err)
	}
	if base+n > maxSeq {
		return 0, fmt.Errorf("detail token sequence exhausted (%d issued)", base)
	}
	return base, nil
}

// TokenFor makes the token of a reserved sequence number from 16 secret
// bytes the caller derives (e.g. an HMAC of what the token is for), and its link.
func (s *Store) TokenFor(seq uint64, secret [16]byte) (token, link string) {
	var t rawToken
	for i, v := seqLen-1, seq; i >= 0; i-- {
		t[i] = byte(v)
		v >>= 8
	}
	copy(t[seqLen:], secret[:])
	token = t.String()
	return token, s.base + "/n/" + token
}

// put stores a record under a new token.
func (s *Store) put(tx Writer, format byte, expires time.Time, dob, shared string, plain []byte) (token, link string, err error) {
	base, err := tx.ReserveTokens(1)
	if err != nil {
		return "", "", fmt.Errorf("issue detail token: %w", err)
	}
	t, err := newToken(base + 1)
	if err != nil {
		return "", "", err
	}
	v := s.seal(&t, format, expires, dob, shared, plain)
	if err := tx.PutRecord(base+1, time.Unix(expires.Unix(), 0), v); err != nil {
		return "", "", fmt.Errorf("issue detail token: %w", err)
	}
	token = t.String()
	return token, s.base + "/n/" + token, nil
}

// seal makes t's record.
func (s *Store) seal(t *rawToken, format byte, expires time.Time, dob, shared string, plain []byte) []byte {
	v := make([]byte, headerLen, headerLen+binary.MaxVarintLen64+len(shared)+len(plain)+16)
	v[0] = format
	binary.BigEndian.PutUint64(v[offExpires:], uint64(expires.Unix()))
	copy(v[offMAC:], s.macs.dobMAC(t, dob))
	if format == formatRef {
		v = appendString(v, shared)
	}
	return s.macs.sealer(t).Seal(v, zeroNonce, plain, sealAD(t.key(), v))
}

func sealAD(key, clear []byte) []byte {
	ad := make([]byte, 0, len(key)+len(clear))
	return append(append(ad, key...), clear...)
}

// record is an opened token record.
type record struct {
	expires time.Time
	mac     []byte
	shared  string // formatRef: the shared detail's key
	plain   []byte // formatInline: the detail; formatRef: the fields
	format  byte
	lang    string // the recipient's language; empty: Korean
}

// open finds and opens t's record; a token whose random part does not
// match is not found, like one never issued.
func (s *Store) open(tx Tx, t *rawToken) (record, error) {
	v, err := tx.Record(t.seq())
	if err != nil {
		return record{}, err
	}
	if v == nil {
		return s.resolve(tx, t)
	}
	if len(v) < headerLen {
		return record{}, ErrNotFound
	}
	r := record{format: v[0], expires: expiresOf(v), mac: v[offMAC:headerLen]}
	clear, sealed := v[:headerLen], v[headerLen:]
	switch r.format {
	case formatInline:
	case formatRef:
		d := decoder{b: sealed}
		r.shared = d.string()
		if d.err != nil {
			return record{}, ErrNotFound
		}
		clear, sealed = v[:len(v)-len(d.b)], d.b
	default:
		return record{}, ErrNotFound
	}
	plain, err := s.macs.sealer(t).Open(nil, zeroNonce, sealed, sealAD(t.key(), clear))
	if err != nil {
		return record{}, ErrNotFound
	}
	r.plain = plain
	if r.format == formatInline {
		dec := decoder{b: plain}
		dec.detail()
		r.lang = dec.lang()
	}
	return r, nil
}

// resolve asks the storage for a token without a stored record.
func (s *Store) resolve(tx Tx, t *rawToken) (record, error) {
	var secret [16]byte
	copy(secret[:], t[seqLen:])
	res, ok, err := tx.Resolve(t.seq(), secret)
	if err != nil {
		return record{}, err
	}
	if !ok {
		return record{}, ErrNotFound
	}
	dob, err := canonicalBirthDate(res.BirthDate, s.opt.Now())
	if err != nil {
		return record{}, fmt.Errorf("resolved detail token: %w", err)
	}
	return record{format: formatRef, expires: res.Expires, shared: res.Shared, plain: appendFields(nil, res.Fields),
		mac: s.macs.dobMAC(t, dob), lang: res.Lang}, nil
}

// detail puts the opened record together with its shared part.
func (s *Store) detail(tx Tx, r record) (Detail, error) {
	dec := decoder{b: r.plain}
	var d Detail
	if r.format == formatInline {
		d = dec.detail()
		dec.lang()
	} else {
		own := dec.fields()
		_, v, err := tx.Shared(r.shared)
		if err != nil {
			return Detail{}, fmt.Errorf("shared detail %q: %w", r.shared, err)
		}
		if v == nil {
			return Detail{}, fmt.Errorf("shared detail %q of a live token: missing", r.shared)
		}
		sd := decoder{b: v}
		d = sd.detail()
		if err := sd.end(); err != nil {
			return Detail{}, fmt.Errorf("shared detail %q: %w", r.shared, err)
		}
		d.Fields = append(own, d.Fields...)
	}
	if err := dec.end(); err != nil {
		return Detail{}, err
	}
	d.Expires = r.expires
	d.Lang = allimi.LanguageOr(r.lang)
	return d, nil
}

// readAttempts reads t's try counter; a lock that is over starts a fresh
// series of tries.
func readAttempts(tx Tx, t *rawToken, now time.Time) (a Attempts, stored bool, err error) {
	a, stored, err = tx.Attempts(t.seq())
	if err != nil || !stored {
		return Attempts{}, false, err
	}
	if !a.LockedUntil.IsZero() && !now.Before(a.LockedUntil) {
		a = Attempts{}
	}
	return a, true, nil
}

// Check returns the detail behind token when birthDate (YYYY-MM-DD) is the
// recipient's. A malformed token is not found without a lookup. A wrong
// date counts; the MaxFailures-th wrong one in a row locks the token for
// Lockout; a right one resets the count. Counts and locks are in the
// Storage, so a restart forgets none. A date of birth that is not a real
// date (allimi.ErrInvalid) does not count.
func (s *Store) Check(token, birthDate string) (Detail, error) {
	d, _, err := s.checkToken(token, birthDate)
	return d, err
}

// checkToken is Check, and the recipient's language whenever their record
// was read (also after a wrong date, or when locked or expired); "" when
// it was not.
func (s *Store) checkToken(token, birthDate string) (Detail, string, error) {
	t, ok := parseToken(token)
	if !ok {
		return Detail{}, "", ErrNotFound
	}
	now := s.opt.Now()
	var d Detail
	var lang string
	var result error
	write := false
	err := s.st.ViewDetails(func(tx Tx) error {
		var err error
		d, lang, result, write, err = s.check(tx, false, &t, birthDate, now)
		return err
	})
	if err == nil && write {
		// Counting needs a write transaction; check again in it so that
		// concurrent wrong tries all count.
		err = s.st.UpdateDetails(func(tx Tx) error {
			var err error
			d, lang, result, _, err = s.check(tx, true, &t, birthDate, now)
			return err
		})
	}
	if err != nil {
		return Detail{}, "", fmt.Errorf("check detail token: %w", err)
	}
	return d, lang, result
}

// check decides about one try. In a read-only tx (writable false) it
// stops, with write set, where the try must change the counter; result is
// the answer for the person, err a failure of the store (which rolls tx
// back); lang is the recipient's language once their record is read.
func (s *Store) check(tx Tx, writable bool, t *rawToken, birthDate string, now time.Time) (d Detail, lang string, result error, write bool, err error) {
	r, a, stored, result, err := s.status(tx, t, now)
	if err != nil {
		return Detail{}, "", nil, false, err
	}
	if r.format != 0 {
		lang = allimi.LanguageOr(r.lang)
	}
	if result != nil {
		return Detail{}, lang, result, false, nil
	}
	dob, result := canonicalBirthDate(birthDate, now)
	if result != nil {
		return Detail{}, lang, result, false, nil
	}
	if hmac.Equal(s.macs.dobMAC(t, dob), r.mac) {
		if stored {
			if !writable {
				return Detail{}, lang, nil, true, nil
			}
			if err := tx.DeleteAttempts(t.seq()); err != nil {
				return Detail{}, lang, nil, false, err
			}
		}
		d, err = s.detail(tx, r)
		return d, lang, nil, false, err
	}
	if !writable {
		return Detail{}, lang, nil, true, nil
	}
	a.Failures++
	if a.Failures >= s.opt.MaxFailures {
		a.LockedUntil = ceilSecond(now.Add(s.opt.Lockout))
		result = &LockedError{Until: a.LockedUntil}
	} else {
		result = &WrongBirthDateError{TriesLeft: s.opt.MaxFailures - a.Failures}
	}
	return Detail{}, lang, result, false, tx.PutAttempts(t.seq(), a, r.expires)
}

// ceilSecond rounds t up to a whole second: locks are stored in seconds
// and must not end early.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); r.Before(t) {
		return r.Add(time.Second)
	}
	return t
}

// status says whether t may be tried now: not found, expired or locked.
// err is a failure of the store in reading the try counter; one in finding
// the record comes as result, as before.
func (s *Store) status(tx Tx, t *rawToken, now time.Time) (r record, a Attempts, stored bool, result, err error) {
	r, result = s.open(tx, t)
	if result != nil {
		return r, a, false, result, nil
	}
	if !now.Before(r.expires) {
		return r, a, false, ErrExpired, nil
	}
	a, stored, err = readAttempts(tx, t, now)
	if err != nil {
		return r, a, false, nil, err
	}
	if !a.LockedUntil.IsZero() {
		return r, a, stored, &LockedError{Until: a.LockedUntil}, nil
	}
	return r, a, stored, nil, nil
}

// state is status for the page's first visit: nil when the form may be
// shown; lang is the recipient's language when their record was read, ""
// when not.
func (s *Store) state(t *rawToken) (lang string, _ error) {
	now := s.opt.Now()
	var result error
	err := s.st.ViewDetails(func(tx Tx) error {
		var err error
		var r record
		r, _, _, result, err = s.status(tx, t, now)
		if r.format != 0 {
			lang = allimi.LanguageOr(r.lang)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return lang, result
}

// Purge deletes the tokens that expired at or before now, their try
// counters, and the shared details that expired with them; it returns the
// number of tokens deleted. Until purged, an expired link shows "expired"
// rather than "not found": pass a time some days back to keep that longer.
func (s *Store) Purge(now time.Time) (int, error) {
	return s.st.PurgeDetails(now)
}

func validateDetail(d Detail, now time.Time) error {
	if err := d.Type.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(d.Title) == "" {
		return fmt.Errorf("detail title: empty: %w", allimi.ErrInvalid)
	}
	if !d.Expires.After(now) {
		return fmt.Errorf("detail expiry %s: not in the future: %w", d.Expires.Format(time.RFC3339), allimi.ErrInvalid)
	}
	if d.PaymentURL != "" {
		if !d.Type.Payable() {
			return fmt.Errorf("detail payment link: notices of type %s have no payment: %w", d.Type, allimi.ErrInvalid)
		}
		u, err := url.Parse(d.PaymentURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("detail payment link %q: want an https:// address: %w", d.PaymentURL, allimi.ErrInvalid)
		}
	}
	return validateFields(d.Fields)
}

func validateFields(fs []Field) error {
	for i, f := range fs {
		if strings.TrimSpace(f.Label) == "" {
			return fmt.Errorf("detail field %d: empty label: %w", i, allimi.ErrInvalid)
		}
	}
	return nil
}

// canonicalBirthDate checks a date of birth and returns it in
// allimi.DateLayout, the form the hash is taken of.
func canonicalBirthDate(s string, now time.Time) (string, error) {
	t, err := allimi.ParseBirthDate(s, now)
	if err != nil {
		return "", errBirthDate
	}
	return t.Format(allimi.DateLayout), nil
}
