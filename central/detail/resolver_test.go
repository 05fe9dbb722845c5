package detail

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"
)

// mapResolver answers for reserved tokens from a map, as central answers
// from its recipients.
type mapResolver struct {
	recs  map[uint64]resolved
	calls int
	err   error
}

type resolved struct {
	secret  [16]byte
	fields  []Field
	dob     string
	expires time.Time
	lang    string
}

func (m *mapResolver) ResolveToken(_ *bbolt.Tx, seq uint64, secret [16]byte) (Resolved, bool, error) {
	m.calls++
	if m.err != nil {
		return Resolved{}, false, m.err
	}
	r, ok := m.recs[seq]
	if !ok || r.secret != secret {
		return Resolved{}, false, nil
	}
	return Resolved{Fields: r.fields, Shared: "n1", BirthDate: r.dob, Expires: r.expires, Lang: r.lang}, true, nil
}

// resolverFixture is a store whose tokens 1..3 are reserved and answered by
// a resolver, with no record stored per token.
func resolverFixture(t *testing.T) (*fixture, *mapResolver, []string) {
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "central.db"), secret: []byte(strings.Repeat("k", 32))}
	f.now.Store(t0.UnixNano())
	db, err := bbolt.Open(f.path, 0o600, &bbolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	res := &mapResolver{recs: map[uint64]resolved{}}
	st, err := NewStore(openBolt(t, db, res), f.secret, Options{Now: f.clock, BaseURL: "http://127.0.0.1:8080/",
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	require.NoError(t, err)
	f.db, f.st = db, st
	t.Cleanup(func() { require.NoError(t, db.Close()) })

	var base uint64
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		if err := st.PutShared(BoltTx(tx), "n1", penalty()); err != nil {
			return err
		}
		base, err = st.Reserve(BoltTx(tx), 3)
		return err
	}))
	var tokens []string
	for i := uint64(1); i <= 3; i++ {
		var secret [16]byte
		secret[0], secret[15] = byte(i), 0xa5
		res.recs[base+i] = resolved{secret: secret, fields: []Field{{"수신자", "김*자"}}, dob: kimBirth, expires: t0.Add(24 * time.Hour)}
		tok, link := st.TokenFor(base+i, secret)
		assert.True(t, strings.HasSuffix(link, "/n/"+tok))
		tokens = append(tokens, tok)
	}
	return f, res, tokens
}

func TestStore_ResolvedTokenShowsOwnAndSharedFieldsAfterTheCheck(t *testing.T) {
	f, res, tokens := resolverFixture(t)
	d, err := f.st.Check(tokens[1], kimBirth)
	require.NoError(t, err)
	assert.Equal(t, []Field{{"수신자", "김*자"}, {"과태료", "40,000원"}, {"납부기한", "2026-12-31"}}, d.Fields)
	assert.Equal(t, penalty().PaymentURL, d.PaymentURL)
	assert.Equal(t, t0.Add(24*time.Hour), d.Expires, "the recipient's expiry, not the shared one")
	assert.Positive(t, res.calls)
	require.NoError(t, f.db.View(func(tx *bbolt.Tx) error {
		assert.Zero(t, tx.Bucket(bucketTokens).Stats().KeyN, "nothing stored per token")
		return nil
	}))
}

func TestStore_ResolvedTokenLocksAfterFiveWrongDates(t *testing.T) {
	f, _, tokens := resolverFixture(t)
	for i := 1; i < 5; i++ {
		_, err := f.st.Check(tokens[0], "1950-01-03")
		var wrong *WrongBirthDateError
		require.ErrorAs(t, err, &wrong)
		assert.Equal(t, 5-i, wrong.TriesLeft)
	}
	_, err := f.st.Check(tokens[0], "1950-01-03")
	var locked *LockedError
	require.ErrorAs(t, err, &locked)
	_, err = f.st.Check(tokens[0], kimBirth)
	require.ErrorAs(t, err, &locked, "even the right date waits out the lock")
	_, err = f.st.Check(tokens[2], kimBirth)
	assert.NoError(t, err, "another recipient's page is not locked")

	f.advance(31 * time.Minute)
	_, err = f.st.Check(tokens[0], kimBirth)
	assert.NoError(t, err)
}

func TestStore_ResolvedTokenWithAForgedSecretIsNotFound(t *testing.T) {
	f, _, tokens := resolverFixture(t)
	forged := []byte(tokens[0])
	last := len(forged) - 2 // inside the secret part, away from padding bits
	if forged[last] == 'A' {
		forged[last] = 'B'
	} else {
		forged[last] = 'A'
	}
	_, err := f.st.Check(string(forged), kimBirth)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Zero(t, f.attemptsStored(), "an unknown token is not counted")
}

func TestStore_ResolvedTokenExpires(t *testing.T) {
	f, _, tokens := resolverFixture(t)
	f.advance(25 * time.Hour)
	_, err := f.st.Check(tokens[0], kimBirth)
	assert.ErrorIs(t, err, ErrExpired)
}

func TestStore_ResolverFailureIsNotAWrongDate(t *testing.T) {
	f, res, tokens := resolverFixture(t)
	res.err = errors.New("disk on fire")
	_, err := f.st.Check(tokens[0], kimBirth)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk on fire")
	assert.Zero(t, f.attemptsStored())
}
