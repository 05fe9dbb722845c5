package storetest

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/detail"
)

// DetailBackend is what the Details suite needs of a store: the storage
// of the detail pages, and a restart.
type DetailBackend[B any] interface {
	detail.Storage
	Reopen(t *testing.T) B
}

// Details checks detail.Storage, alone and under the pages' logic
// (detail.Store): what is stored is read back as it was given, in
// transactions that commit or roll back whole; reserved token numbers
// never repeat; wrong dates of birth count, concurrent ones too, and lock,
// across a restart; and purging deletes what expired and only that.
func Details[B DetailBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"KeepsWhatItIsGiven", detailsKeeps[B]},
		{"RolledBackLeavesNothing", detailsRollback[B]},
		{"ReservedNumbersNeverRepeat", detailsReserve[B]},
		{"IssuedTokensOpenWithTheRightDate", detailsIssue[B]},
		{"SharedDetailReplacedNeverEarlier", detailsShared[B]},
		{"WrongDatesLockAcrossARestart", detailsLock[B]},
		{"ConcurrentWrongDatesAllCount", detailsConcurrent[B]},
		{"UnknownTokenIsNotFoundNorCounted", detailsUnknown[B]},
		{"PurgeDeletesWhatExpired", detailsPurge[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// detailClock is a clock only the test moves, in whole seconds as the
// pages keep times.
type detailClock struct{ ns atomic.Int64 }

func newDetailClock() *detailClock {
	c := &detailClock{}
	c.ns.Store(time.Now().Truncate(time.Second).UnixNano())
	return c
}

func (c *detailClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *detailClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

var detailSecret = []byte(strings.Repeat("d", 32))

const (
	detailBirth = "1950-01-02"
	detailWrong = "1950-01-03"
)

func detailStore(t *testing.T, st detail.Storage, c *detailClock, maxFailures int) *detail.Store {
	t.Helper()
	d, err := detail.NewStore(st, detailSecret, detail.Options{Now: c.now, BaseURL: "https://allimi.example", MaxFailures: maxFailures,
		Lockout: 30 * time.Minute})
	require.NoError(t, err)
	return d
}

func detailNotice(expires time.Time) detail.Detail {
	return detail.Detail{Type: allimi.TypeTrafficPenalty, Title: "교통 과태료 안내", Agency: "경찰청",
		Fields: []detail.Field{{Label: "과태료", Value: "40,000원"}}, PaymentURL: "https://pay.example.kr/p?id=1", Expires: expires}
}

// issue issues one token with its whole detail in a transaction of its
// own.
func issue(t *testing.T, st detail.Storage, d *detail.Store, n detail.Detail) string {
	t.Helper()
	var token string
	require.NoError(t, st.UpdateDetails(func(tx detail.Tx) error {
		var err error
		token, _, err = d.Issue(tx, n, detailBirth)
		return err
	}))
	return token
}

// tokenSeq is the number a token carries.
func tokenSeq(t *testing.T, token string) uint64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	var b [8]byte
	copy(b[3:], raw[:5])
	return binary.BigEndian.Uint64(b[:])
}

func detailsKeeps[B DetailBackend[B]](t *testing.T, b B) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	var base uint64
	require.NoError(t, b.UpdateDetails(func(tx detail.Tx) error {
		var err error
		if base, err = tx.ReserveTokens(2); err != nil {
			return err
		}
		if err := tx.PutRecord(base+1, exp, []byte("sealed record")); err != nil {
			return err
		}
		if err := tx.PutShared("n1", exp, []byte("shared detail")); err != nil {
			return err
		}
		if err := tx.PutShared("n2", exp, []byte{}); err != nil {
			return err
		}
		got, v, err := tx.Shared("n1")
		require.NoError(t, err)
		assert.Equal(t, "shared detail", string(v), "read back in the same transaction")
		assert.True(t, exp.Equal(got))
		return tx.PutAttempts(base+2, detail.Attempts{Failures: 3, LockedUntil: exp}, exp)
	}))
	b = b.Reopen(t)
	require.NoError(t, b.ViewDetails(func(tx detail.Tx) error {
		v, err := tx.Record(base + 1)
		require.NoError(t, err)
		assert.Equal(t, "sealed record", string(v))
		v, err = tx.Record(base + 2)
		require.NoError(t, err)
		assert.Nil(t, v, "a number reserved without a record has none")

		got, v, err := tx.Shared("n1")
		require.NoError(t, err)
		assert.Equal(t, "shared detail", string(v))
		assert.True(t, exp.Equal(got), "expiry %s, want %s", got, exp)
		_, v, err = tx.Shared("n2")
		require.NoError(t, err)
		assert.NotNil(t, v, "an empty shared detail is there")
		_, v, err = tx.Shared("n3")
		require.NoError(t, err)
		assert.Nil(t, v)

		a, ok, err := tx.Attempts(base + 2)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, 3, a.Failures)
		assert.True(t, exp.Equal(a.LockedUntil))
		_, ok, err = tx.Attempts(base + 1)
		require.NoError(t, err)
		assert.False(t, ok)

		_, ok, err = tx.Resolve(base+2, [16]byte{1})
		require.NoError(t, err)
		assert.False(t, ok, "a token its caller does not know is not resolved")
		return nil
	}))
	require.NoError(t, b.UpdateDetails(func(tx detail.Tx) error {
		if err := tx.PutAttempts(base+2, detail.Attempts{Failures: 1}, exp); err != nil {
			return err
		}
		a, ok, err := tx.Attempts(base + 2)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, detail.Attempts{Failures: 1}, a, "replaced, unlocked")
		return tx.DeleteAttempts(base + 2)
	}))
	require.NoError(t, b.ViewDetails(func(tx detail.Tx) error {
		_, ok, err := tx.Attempts(base + 2)
		require.NoError(t, err)
		assert.False(t, ok, "deleted")
		return nil
	}))
}

func detailsRollback[B DetailBackend[B]](t *testing.T, b B) {
	c := newDetailClock()
	d := detailStore(t, b, c, 0)
	var token string
	failed := errors.New("the caller's own write failed")
	err := b.UpdateDetails(func(tx detail.Tx) error {
		require.NoError(t, d.PutShared(tx, "n1", detailNotice(c.now().Add(time.Hour))))
		var err error
		token, _, err = d.Issue(tx, detailNotice(c.now().Add(time.Hour)), detailBirth)
		require.NoError(t, err)
		return failed
	})
	require.ErrorIs(t, err, failed)
	_, err = d.Check(token, detailBirth)
	assert.ErrorIs(t, err, detail.ErrNotFound, "the token's record went with the transaction")
	err = b.UpdateDetails(func(tx detail.Tx) error {
		_, _, err := d.IssueRef(tx, "n1", nil, detailBirth, time.Time{})
		return err
	})
	assert.ErrorIs(t, err, allimi.ErrNotFound, "the shared detail too")
}

func detailsReserve[B DetailBackend[B]](t *testing.T, b B) {
	c := newDetailClock()
	d := detailStore(t, b, c, 0)
	var ranges [][2]uint64 // first, last
	reserve := func(n uint64) {
		require.NoError(t, b.UpdateDetails(func(tx detail.Tx) error {
			base, err := d.Reserve(tx, n)
			ranges = append(ranges, [2]uint64{base + 1, base + n})
			return err
		}))
	}
	reserve(3)
	reserve(5)
	tok := issue(t, b, d, detailNotice(c.now().Add(time.Hour)))
	ranges = append(ranges, [2]uint64{tokenSeq(t, tok), tokenSeq(t, tok)})
	b = b.Reopen(t)
	d = detailStore(t, b, c, 0)
	reserve(2)
	tok = issue(t, b, d, detailNotice(c.now().Add(time.Hour)))
	ranges = append(ranges, [2]uint64{tokenSeq(t, tok), tokenSeq(t, tok)})

	// Concurrent reservations get ranges of their own.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var r [2]uint64
			assert.NoError(t, b.UpdateDetails(func(tx detail.Tx) error {
				base, err := d.Reserve(tx, 10)
				r = [2]uint64{base + 1, base + 10}
				return err
			}))
			mu.Lock()
			ranges = append(ranges, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, r := range ranges {
		assert.Positive(t, r[0], "numbers start at 1")
		for j, o := range ranges {
			if i != j {
				assert.True(t, r[1] < o[0] || o[1] < r[0], "ranges %v and %v overlap", r, o)
			}
		}
		if i > 0 && i < 6 {
			assert.Greater(t, r[0], ranges[i-1][1], "one after the other, increasing")
		}
	}
}

func detailsIssue[B DetailBackend[B]](t *testing.T, b B) {
	c := newDetailClock()
	d := detailStore(t, b, c, 0)
	whole := detailNotice(c.now().Add(24 * time.Hour))
	shared := detailNotice(c.now().Add(48 * time.Hour))
	shared.Fields = []detail.Field{{Label: "문의", Value: "경찰청 민원실"}}
	var inline, ref string
	require.NoError(t, b.UpdateDetails(func(tx detail.Tx) error {
		var err error
		if inline, _, err = d.Issue(tx, whole, detailBirth); err != nil {
			return err
		}
		if err := d.PutShared(tx, "n7", shared); err != nil {
			return err
		}
		ref, _, err = d.IssueRef(tx, "n7", []detail.Field{{Label: "수신자", Value: "김*자"}}, detailBirth, time.Time{})
		return err
	}))
	b = b.Reopen(t)
	d = detailStore(t, b, c, 0)
	got, err := d.Check(inline, detailBirth)
	require.NoError(t, err)
	assert.Equal(t, whole.Title, got.Title)
	assert.Equal(t, whole.Fields, got.Fields)
	assert.Equal(t, whole.PaymentURL, got.PaymentURL)
	assert.True(t, whole.Expires.Equal(got.Expires))

	got, err = d.Check(ref, detailBirth)
	require.NoError(t, err)
	assert.Equal(t, []detail.Field{{Label: "수신자", Value: "김*자"}, {Label: "문의", Value: "경찰청 민원실"}}, got.Fields,
		"the recipient's own fields first")
	assert.Equal(t, shared.Agency, got.Agency)
	assert.True(t, shared.Expires.Equal(got.Expires), "a zero expiry takes the shared one")

	c.advance(25 * time.Hour)
	_, err = d.Check(inline, detailBirth)
	assert.ErrorIs(t, err, detail.ErrExpired)
	_, err = d.Check(ref, detailBirth)
	assert.NoError(t, err)
}

func detailsShared[B DetailBackend[B]](t *testing.T, b B) {
	c := newDetailClock()
	d := detailStore(t, b, c, 0)
	n := detailNotice(c.now().Add(time.Hour))
	put := func(n detail.Detail) error {
		return b.UpdateDetails(func(tx detail.Tx) error { return d.PutShared(tx, "n1", n) })
	}
	require.NoError(t, put(n))
	n.Title, n.Expires = "교통 과태료 안내 (정정)", n.Expires.Add(time.Hour)
	require.NoError(t, put(n), "replaced, later")
	earlier := n
	earlier.Expires = earlier.Expires.Add(-30 * time.Minute)
	assert.ErrorIs(t, put(earlier), allimi.ErrInvalid, "the expiry may not move earlier")

	var token string
	require.NoError(t, b.UpdateDetails(func(tx detail.Tx) error {
		var err error
		token, _, err = d.IssueRef(tx, "n1", nil, detailBirth, time.Time{})
		return err
	}))
	got, err := d.Check(token, detailBirth)
	require.NoError(t, err)
	assert.Equal(t, n.Title, got.Title, "the replacement")
	assert.True(t, n.Expires.Equal(got.Expires))
	err = b.UpdateDetails(func(tx detail.Tx) error {
		_, _, err := d.IssueRef(tx, "n2", nil, detailBirth, time.Time{})
		return err
	})
	assert.ErrorIs(t, err, allimi.ErrNotFound, "no shared detail under that key")
}

func detailsLock[B DetailBackend[B]](t *testing.T, b B) {
	c := newDetailClock()
	d := detailStore(t, b, c, 5)
	token := issue(t, b, d, detailNotice(c.now().Add(24*time.Hour)))
	other := issue(t, b, d, detailNotice(c.now().Add(24*time.Hour)))
	for i := 1; i <= 2; i++ {
		_, err := d.Check(token, detailWrong)
		var wrong *detail.WrongBirthDateError
		require.ErrorAs(t, err, &wrong)
		assert.Equal(t, 5-i, wrong.TriesLeft)
	}
	b = b.Reopen(t)
	d = detailStore(t, b, c, 5)
	for i := 3; i <= 4; i++ {
		_, err := d.Check(token, detailWrong)
		var wrong *detail.WrongBirthDateError
		require.ErrorAs(t, err, &wrong)
		assert.Equal(t, 5-i, wrong.TriesLeft, "tries counted before the restart still count")
	}
	_, err := d.Check(token, detailWrong)
	var locked *detail.LockedError
	require.ErrorAs(t, err, &locked)
	assert.False(t, locked.Until.Before(c.now().Add(30*time.Minute)), "locked for the lockout")
	b = b.Reopen(t)
	d = detailStore(t, b, c, 5)
	_, err = d.Check(token, detailBirth)
	require.ErrorAs(t, err, &locked, "still locked after a restart, even for the right date")
	_, err = d.Check(other, detailBirth)
	assert.NoError(t, err, "another token is not locked")

	c.advance(31 * time.Minute)
	_, err = d.Check(token, detailBirth)
	require.NoError(t, err, "the lock has passed")
	_, err = d.Check(token, detailWrong)
	var wrong *detail.WrongBirthDateError
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, 4, wrong.TriesLeft, "the right date reset the count")
}

func detailsConcurrent[B DetailBackend[B]](t *testing.T, b B) {
	c := newDetailClock()
	d := detailStore(t, b, c, 50)
	token := issue(t, b, d, detailNotice(c.now().Add(24*time.Hour)))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := d.Check(token, detailWrong)
			assert.ErrorIs(t, err, detail.ErrWrongBirthDate)
		})
	}
	wg.Wait()
	_, err := d.Check(token, detailWrong)
	var wrong *detail.WrongBirthDateError
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, 50-9, wrong.TriesLeft, "every concurrent wrong date counted")
}

func detailsUnknown[B DetailBackend[B]](t *testing.T, b B) {
	c := newDetailClock()
	d := detailStore(t, b, c, 0)
	var base uint64
	require.NoError(t, b.UpdateDetails(func(tx detail.Tx) error {
		var err error
		base, err = d.Reserve(tx, 1)
		return err
	}))
	reserved, _ := d.TokenFor(base+1, [16]byte{1, 2, 3})
	never, _ := d.TokenFor(base+1000, [16]byte{1, 2, 3})
	token := issue(t, b, d, detailNotice(c.now().Add(time.Hour)))
	forged := []byte(token)
	if last := len(forged) - 2; forged[last] == 'A' { // inside the secret part
		forged[last] = 'B'
	} else {
		forged[last] = 'A'
	}
	for _, tok := range []string{reserved, never, string(forged), "not-a-token"} {
		_, err := d.Check(tok, detailWrong)
		assert.ErrorIs(t, err, detail.ErrNotFound, tok)
	}
	_, err := d.Check(token, detailBirth)
	assert.NoError(t, err, "the real token counted no wrong try of the forged one")
	require.NoError(t, b.ViewDetails(func(tx detail.Tx) error {
		for _, seq := range []uint64{base + 1, base + 1000, tokenSeq(t, token)} {
			_, ok, err := tx.Attempts(seq)
			require.NoError(t, err)
			assert.False(t, ok, "no try counted for %d", seq)
		}
		return nil
	}))
}

func detailsPurge[B DetailBackend[B]](t *testing.T, b B) {
	c := newDetailClock()
	d := detailStore(t, b, c, 0)
	soon, later := c.now().Add(time.Hour), c.now().Add(48*time.Hour)
	short := issue(t, b, d, detailNotice(soon))
	long := issue(t, b, d, detailNotice(later))
	require.NoError(t, b.UpdateDetails(func(tx detail.Tx) error {
		if err := d.PutShared(tx, "soon", detailNotice(soon)); err != nil {
			return err
		}
		return d.PutShared(tx, "later", detailNotice(later))
	}))
	for _, tok := range []string{short, long} {
		_, err := d.Check(tok, detailWrong)
		require.ErrorIs(t, err, detail.ErrWrongBirthDate)
	}
	n, err := b.PurgeDetails(c.now())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing expired yet")

	c.advance(2 * time.Hour)
	_, err = d.Check(short, detailBirth)
	assert.ErrorIs(t, err, detail.ErrExpired, "expired, not yet purged")
	n, err = d.Purge(c.now())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = d.Check(short, detailBirth)
	assert.ErrorIs(t, err, detail.ErrNotFound, "purged")
	require.NoError(t, b.ViewDetails(func(tx detail.Tx) error {
		_, ok, err := tx.Attempts(tokenSeq(t, short))
		require.NoError(t, err)
		assert.False(t, ok, "its tries went with it")
		_, ok, err = tx.Attempts(tokenSeq(t, long))
		require.NoError(t, err)
		assert.True(t, ok, "a live token's tries stay")
		_, v, err := tx.Shared("soon")
		require.NoError(t, err)
		assert.Nil(t, v, "the expired shared detail is purged")
		_, v, err = tx.Shared("later")
		require.NoError(t, err)
		assert.NotNil(t, v)
		return nil
	}))
	_, err = d.Check(long, detailBirth)
	assert.NoError(t, err)
}

// DetailLinkBackend is a DeliveryBackend that serves detail pages: the
// links it gives its deliveries (DetailLink) open on DetailPages.
type DetailLinkBackend interface {
	DeliveryBackend
	DetailPages() *detail.Store
}

// DetailLinks checks the pages of a store's own deliveries: a recipient's
// link opens once a provider took their message, with their own date of
// birth, and shows their own fields before the notice's; a link whose
// secret is another's does not open.
func DetailLinks(t *testing.T, open func(*testing.T) DetailLinkBackend) {
	b := open(t)
	ps := people(1, 2)
	b.Seed(t, ps, allimi.TypeHealthCheckup, allimi.ChannelSMS)
	req := checkupRequest()
	req.Audience.All = false
	req.Audience.Citizens = []allimi.RecipientRequest{{Mobile: ps[0].Mobile, BirthDate: ps[0].BirthDate, Params: map[string]string{"year": "2027"}},
		recipient(ps[1])}
	n, _, err := b.CreateNotification("health-centre", "", req)
	require.NoError(t, err)
	require.EqualValues(t, 2, n.Recipients)
	var tokens []string
	var refs []allimi.DeliveryRef
	read(t, b, func(r allimi.DeliveryReader) {
		for seq := uint32(1); seq <= 2; seq++ {
			o, err := r.Outgoing(&n, ref(n, seq, allimi.ChannelSMS))
			require.NoError(t, err)
			link := b.DetailLink(o.Ref, o.Token)
			tokens = append(tokens, link[strings.LastIndex(link, "/n/")+3:])
			refs = append(refs, o.Ref)
		}
	})
	d := b.DetailPages()
	_, err = d.Check(tokens[0], ps[0].BirthDate)
	assert.ErrorIs(t, err, detail.ErrNotFound, "no page before a provider took the message")

	update(t, b, func(tx allimi.DeliveryTx) {
		require.NoError(t, tx.PutDelivery(refs[0], record(allimi.DeliveryAccepted, "")))
		require.NoError(t, tx.PutDelivery(refs[1], record(allimi.DeliveryFailed, "rejected")))
	})
	_, err = d.Check(tokens[1], ps[1].BirthDate)
	assert.ErrorIs(t, err, detail.ErrNotFound, "a message that failed has no page")
	_, err = d.Check(tokens[0], ps[1].BirthDate)
	assert.ErrorIs(t, err, detail.ErrWrongBirthDate, "another person's date of birth")
	page, err := d.Check(tokens[0], ps[0].BirthDate)
	require.NoError(t, err)
	assert.Equal(t, req.Title, page.Title)
	assert.Equal(t, allimi.TypeHealthCheckup, page.Type)
	assert.Equal(t, []detail.Field{{Label: "대상 연도", Value: "2027"}, {Label: "기간", Value: "12월 31일까지"}}, page.Fields,
		"the recipient's own fields, then the notice's")
	assert.Equal(t, n.ExpiresAt.Unix(), page.Expires.Unix())

	update(t, b, func(tx allimi.DeliveryTx) {
		require.NoError(t, tx.PutDelivery(refs[1], record(allimi.DeliveryDelivered, "")))
	})
	page, err = d.Check(tokens[1], ps[1].BirthDate)
	require.NoError(t, err, "delivered on a retry")
	assert.Equal(t, []detail.Field{{Label: "대상 연도", Value: "2026"}, {Label: "기간", Value: "12월 31일까지"}}, page.Fields)

	// One recipient's number with another's secret opens nothing.
	raw0, err := base64.RawURLEncoding.DecodeString(tokens[0])
	require.NoError(t, err)
	raw1, err := base64.RawURLEncoding.DecodeString(tokens[1])
	require.NoError(t, err)
	copy(raw0[:5], raw1[:5])
	_, err = d.Check(base64.RawURLEncoding.EncodeToString(raw0), ps[1].BirthDate)
	assert.ErrorIs(t, err, detail.ErrNotFound)

	if re, ok := b.(DeliveryReopener); ok {
		b = re.ReopenDeliveries(t).(DetailLinkBackend)
		_, err = b.DetailPages().Check(tokens[0], ps[0].BirthDate)
		assert.NoError(t, err, "after a restart")
	}
}
