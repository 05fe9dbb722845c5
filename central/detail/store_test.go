package detail

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

func TestStore_CheckRightBirthDateReturnsDetail(t *testing.T) {
	f := newFixture(t)
	var token, link string
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error {
		var err error
		token, link, err = f.st.Issue(BoltTx(tx), penalty(), kimBirth)
		return err
	}))
	assert.Equal(t, "http://127.0.0.1:8080/n/"+token, link)

	d, err := f.st.Check(token, kimBirth)
	require.NoError(t, err)
	assert.Equal(t, penalty().Title, d.Title)
	assert.Equal(t, penalty().Agency, d.Agency)
	assert.Equal(t, penalty().Type, d.Type)
	assert.Equal(t, penalty().Fields, d.Fields)
	assert.Equal(t, penalty().PaymentURL, d.PaymentURL)
	assert.True(t, penalty().Expires.Equal(d.Expires))
}

func TestStore_IssueRefJoinsOwnAndSharedFields(t *testing.T) {
	f := newFixture(t)
	shared := penalty()
	shared.Fields = []Field{{"문의", "경찰청 민원실"}}
	var token string
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error {
		require.NoError(t, f.st.PutShared(BoltTx(tx), "n1", shared))
		var err error
		token, _, err = f.st.IssueRef(BoltTx(tx), "n1", []Field{{"과태료", "40,000원"}}, kimBirth, time.Time{})
		return err
	}))

	d, err := f.st.Check(token, kimBirth)
	require.NoError(t, err)
	assert.Equal(t, []Field{{"과태료", "40,000원"}, {"문의", "경찰청 민원실"}}, d.Fields, "the recipient's own fields come first")
	assert.Equal(t, shared.Title, d.Title)
	assert.Equal(t, shared.PaymentURL, d.PaymentURL)
	assert.True(t, shared.Expires.Equal(d.Expires), "a zero expiry takes the shared one")
}

func TestStore_IssueRefRefuses(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error { return f.st.PutShared(BoltTx(tx), "n1", checkup()) }))
	tests := []struct {
		name    string
		key     string
		expires time.Time
		want    error
	}{
		{"unknown key", "n2", time.Time{}, allimi.ErrNotFound},
		{"expiry after the shared one", "n1", checkup().Expires.Add(time.Hour), allimi.ErrInvalid},
		{"expiry already past", "n1", t0.Add(-time.Hour), allimi.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.db.Update(func(tx *bbolt.Tx) error {
				_, _, err := f.st.IssueRef(BoltTx(tx), tt.key, nil, kimBirth, tt.expires)
				return err
			})
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestStore_IssueRefuses(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		change    func(*Detail)
		birthDate string
	}{
		{"unknown type", func(d *Detail) { d.Type = "parking" }, kimBirth},
		{"empty title", func(d *Detail) { d.Title = " " }, kimBirth},
		{"no expiry", func(d *Detail) { d.Expires = time.Time{} }, kimBirth},
		{"payment on a type without payment", func(d *Detail) { d.Type = allimi.TypeHealthCheckup }, kimBirth},
		{"payment over plain http", func(d *Detail) { d.PaymentURL = "http://pay.example.kr/" }, kimBirth},
		{"payment by script", func(d *Detail) { d.PaymentURL = "javascript:alert(1)" }, kimBirth},
		{"field without label", func(d *Detail) { d.Fields = append(d.Fields, Field{"", "x"}) }, kimBirth},
		{"impossible birth date", func(*Detail) {}, "1950-02-30"},
		{"birth date in the future", func(*Detail) {}, "2030-01-01"},
		{"birth date without dashes", func(*Detail) {}, "19500102"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := penalty()
			tt.change(&d)
			err := f.db.Update(func(tx *bbolt.Tx) error {
				_, _, err := f.st.Issue(BoltTx(tx), d, tt.birthDate)
				return err
			})
			assert.ErrorIs(t, err, allimi.ErrInvalid)
		})
	}
}

func TestStore_WrongBirthDateFourTimesThenRightResets(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)

	for left := 4; left >= 1; left-- {
		_, err := f.st.Check(token, "1950-01-03")
		var wrong *WrongBirthDateError
		require.ErrorAs(t, err, &wrong)
		assert.ErrorIs(t, err, ErrWrongBirthDate)
		assert.Equal(t, left, wrong.TriesLeft)
	}
	_, err := f.st.Check(token, kimBirth)
	require.NoError(t, err)
	assert.Zero(t, f.attemptsStored(), "a right answer deletes the counter")

	_, err = f.st.Check(token, "1950-01-03")
	var wrong *WrongBirthDateError
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, 4, wrong.TriesLeft, "the count starts again")
}

func TestStore_FifthWrongLocksUntilLockoutPasses(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	for range 4 {
		_, err := f.st.Check(token, "1951-01-02")
		require.ErrorIs(t, err, ErrWrongBirthDate)
	}
	_, err := f.st.Check(token, "1951-01-02")
	var locked *LockedError
	require.ErrorAs(t, err, &locked, "the fifth wrong try locks")
	assert.True(t, t0.Add(30*time.Minute).Equal(locked.Until), "until %v", locked.Until)

	f.advance(30*time.Minute - time.Second)
	_, err = f.st.Check(token, kimBirth)
	assert.ErrorIs(t, err, ErrLocked, "even the right date is refused while locked")

	f.advance(time.Second)
	_, err = f.st.Check(token, kimBirth)
	assert.NoError(t, err)
}

func TestStore_LockEndsOnAWholeSecondNotEarlier(t *testing.T) {
	f := newFixture(t)
	f.advance(300 * time.Millisecond)
	token := f.issue(penalty(), kimBirth)
	for range 5 {
		_, _ = f.st.Check(token, "1951-01-02")
	}
	f.advance(30 * time.Minute)
	_, err := f.st.Check(token, kimBirth)
	assert.ErrorIs(t, err, ErrLocked, "the stored second is rounded up")
	f.advance(700 * time.Millisecond)
	_, err = f.st.Check(token, kimBirth)
	assert.NoError(t, err)
}

func TestStore_AfterALockFiveTriesAgain(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	for range 5 {
		_, _ = f.st.Check(token, "1951-01-02")
	}
	f.advance(30 * time.Minute)
	_, err := f.st.Check(token, "1951-01-02")
	var wrong *WrongBirthDateError
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, 4, wrong.TriesLeft)
}

func TestStore_LockSurvivesReopen(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	for range 5 {
		_, _ = f.st.Check(token, "1951-01-02")
	}
	f.reopen()

	_, err := f.st.Check(token, kimBirth)
	assert.ErrorIs(t, err, ErrLocked)
	f.advance(30 * time.Minute)
	_, err = f.st.Check(token, kimBirth)
	assert.NoError(t, err)
}

func TestStore_WrongTriesSurviveReopen(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	for range 3 {
		_, _ = f.st.Check(token, "1951-01-02")
	}
	f.reopen()
	_, err := f.st.Check(token, "1951-01-02")
	var wrong *WrongBirthDateError
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, 1, wrong.TriesLeft)
}

func TestStore_ExpiredTokenIsRefused(t *testing.T) {
	f := newFixture(t)
	d := penalty()
	d.Expires = t0.Add(time.Hour)
	token := f.issue(d, kimBirth)
	f.advance(time.Hour)
	_, err := f.st.Check(token, kimBirth)
	assert.ErrorIs(t, err, ErrExpired)
}

func TestStore_UnknownOrForgedTokenIsNotFoundAndNotCounted(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	forged := []byte(token)
	forged[TokenLen-1] ^= 'A' ^ 'B' // same sequence, another random part
	if forged[TokenLen-1] == token[TokenLen-1] {
		forged[TokenLen-1] = 'C'
	}
	tests := map[string]string{
		"never issued":     "AAAAAQ" + strings.Repeat("x", TokenLen-6),
		"forged":           string(forged),
		"too short":        token[:TokenLen-1],
		"too long":         token + "A",
		"standard base64":  "+" + token[1:],
		"empty":            "",
		"path traversal":   "../../../../etc/passwd00000",
		"another sequence": "B" + token[1:],
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.st.Check(tok, "1951-01-02")
			assert.ErrorIs(t, err, ErrNotFound)
			assert.ErrorIs(t, err, allimi.ErrNotFound)
		})
	}
	assert.Zero(t, f.attemptsStored(), "no try was counted against the real token")
}

func TestStore_ImpossibleBirthDateIsNotCounted(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	for _, dob := range []string{"1950-02-30", "1950-13-01", "", "1950-1-2", "2027-01-01", "1850-01-01"} {
		_, err := f.st.Check(token, dob)
		assert.ErrorIs(t, err, allimi.ErrInvalid, dob)
		assert.NotContains(t, err.Error(), dob+`"`, "the error does not quote what was typed")
	}
	assert.Zero(t, f.attemptsStored())
}

func TestStore_TokensAreDistinctAndURLSafe(t *testing.T) {
	f := newFixture(t)
	seen := make(map[string]bool, 10000)
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9_-]{22,}$`)
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error {
		for range 10000 {
			token, link, err := f.st.Issue(BoltTx(tx), checkup(), kimBirth)
			require.NoError(t, err)
			require.Regexp(t, urlSafe, token)
			require.True(t, strings.HasSuffix(link, "/n/"+token))
			seen[token] = true
		}
		return nil
	}))
	assert.Len(t, seen, 10000)
}

func TestStore_FileHoldsNoBirthDateNorDetailsInClear(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	_, err := f.st.Check(token, "1950-01-03") // a counter is stored too
	require.ErrorIs(t, err, ErrWrongBirthDate)
	raw, ok := parseToken(token)
	require.True(t, ok)
	f.close()

	b, err := os.ReadFile(f.path)
	require.NoError(t, err)
	for _, s := range []string{"1950-01-02", "19500102", "1950-01-03", "40,000원", token} {
		assert.NotContains(t, string(b), s)
	}
	assert.NotContains(t, string(b), string(raw[seqLen:]), "the token's random part is not stored")
}

func TestStore_PurgeRemovesExpired(t *testing.T) {
	f := newFixture(t)
	short := checkup()
	short.Expires = t0.Add(time.Hour)
	shared := checkup()
	shared.Expires = t0.Add(2 * time.Hour)
	var gone, ref, kept []string
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error {
		require.NoError(t, f.st.PutShared(BoltTx(tx), "n1", shared))
		for range 5 {
			tok, _, err := f.st.Issue(BoltTx(tx), short, kimBirth)
			require.NoError(t, err)
			gone = append(gone, tok)
			tok, _, err = f.st.IssueRef(BoltTx(tx), "n1", nil, kimBirth, time.Time{})
			require.NoError(t, err)
			ref = append(ref, tok)
			tok, _, err = f.st.Issue(BoltTx(tx), checkup(), kimBirth)
			require.NoError(t, err)
			kept = append(kept, tok)
		}
		return nil
	}))
	_, err := f.st.Check(gone[0], "1951-01-01")
	require.ErrorIs(t, err, ErrWrongBirthDate)
	purgeBatch = 4 // cross transaction boundaries
	t.Cleanup(func() { purgeBatch = 50000 })

	n, err := f.st.Purge(t0.Add(90 * time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	_, err = f.st.Check(gone[0], kimBirth)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Zero(t, f.attemptsStored(), "the purged token's counter went with it")
	_, err = f.st.Check(ref[0], kimBirth)
	assert.NoError(t, err)

	n, err = f.st.Purge(t0.Add(2 * time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	for _, tok := range kept {
		_, err := f.st.Check(tok, kimBirth)
		assert.NoError(t, err)
	}
	err = f.db.Update(func(tx *bbolt.Tx) error {
		_, _, err := f.st.IssueRef(BoltTx(tx), "n1", nil, kimBirth, time.Time{})
		return err
	})
	assert.ErrorIs(t, err, allimi.ErrNotFound, "the shared detail expired with its tokens")
}

func TestStore_PutSharedKeepsExpiryFromMovingEarlier(t *testing.T) {
	f := newFixture(t)
	d := checkup()
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error { return f.st.PutShared(BoltTx(tx), "n1", d) }))
	d.Title = "국가건강검진 안내 (고침)"
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error { return f.st.PutShared(BoltTx(tx), "n1", d) }))
	d.Expires = d.Expires.Add(-time.Hour)
	err := f.db.Update(func(tx *bbolt.Tx) error { return f.st.PutShared(BoltTx(tx), "n1", d) })
	assert.ErrorIs(t, err, allimi.ErrInvalid)
}

func TestNewStore_RefusesBadOptions(t *testing.T) {
	f := newFixture(t)
	_, err := NewStore(openBolt(t, f.db, nil), []byte("short"), Options{BaseURL: "https://a.kr"})
	assert.Error(t, err)
	for _, base := range []string{"", "allimi.kr", "ftp://a.kr"} {
		_, err := NewStore(openBolt(t, f.db, nil), f.secret, Options{BaseURL: base})
		assert.Error(t, err, base)
	}
}

func TestStore_ConcurrentWrongTriesAllCount(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	errs := make(chan error, 5)
	for range 5 {
		go func() {
			_, err := f.st.Check(token, "1951-01-02")
			errs <- err
		}()
	}
	locked := 0
	for range 5 {
		if errors.Is(<-errs, ErrLocked) {
			locked++
		}
	}
	assert.Equal(t, 1, locked, "exactly one of five concurrent wrong tries is the fifth")
	_, err := f.st.Check(token, kimBirth)
	assert.ErrorIs(t, err, ErrLocked)
}

func TestStore_IssueRefRecordIsSmall(t *testing.T) {
	f := newFixture(t)
	own := []Field{{"과태료", "40,000원"}}
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error {
		require.NoError(t, f.st.PutShared(BoltTx(tx), "n1", penalty()))
		_, _, err := f.st.IssueRef(BoltTx(tx), "n1", own, kimBirth, time.Time{})
		require.NoError(t, err)
		k, v := tx.Bucket(bucketTokens).Cursor().First()
		fields := len(appendFields(nil, own))
		assert.Len(t, k, 5)
		// header 25, key "n1" 3, GCM tag 16: 44 bytes besides the fields.
		assert.Equal(t, 44+fields, len(v))
		return nil
	}))
}
