package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/record"
	"allimi/subsidy"
)

// kimProfile is what Kim told a kiosk when she granted new-benefits: her
// birth date, sex, income band, a disability code, her household and
// where she lives. Each is what a grep of the file must not find.
const kimProfile = `{"birthDate":"1950-01-02","sex":"F","income":"JA0202","traits":["JA0328"],"household":["JA0402"]}`

const kimRegion = "전남/순천시"

var kimTraits = []string{"1950-01-02", `"sex":"F"`, "JA0202", "JA0328", "JA0402", "순천시"}

// benefitsEvent is Kim signing up for new-benefits on KakaoTalk with her
// conditions, from kiosk as record seq.
func benefitsEvent(t *testing.T, kiosk string, seq uint64, receipt string) allimi.Event {
	t.Helper()
	p, err := json.Marshal(allimi.ConsentPayload{Verified: true, Profile: json.RawMessage(kimProfile), Region: kimRegion, Receipt: receipt,
		Consents: []allimi.Consent{{Type: allimi.TypeNewBenefits, Channel: allimi.ChannelKakao, Action: allimi.ActionGrant,
			By: allimi.Actor{Kind: allimi.ActorSelf}, At: storeT0}}})
	require.NoError(t, err)
	e := allimi.Event{V: allimi.EventVersion, Kiosk: kiosk, Seq: seq, HLC: allimi.NextHLC(0, storeT0),
		Kind: allimi.KindSignup, Citizen: storeKim, Payload: p}
	require.NoError(t, e.Validate(storeNow))
	return e
}

// plaintextIn lists which of needles the bytes hold, as grep -a would.
func plaintextIn(b []byte, needles []string) []string {
	var found []string
	for _, n := range needles {
		if bytes.Contains(b, []byte(n)) {
			found = append(found, n)
		}
	}
	return found
}

func (f *storeFixture) fileBytes() []byte {
	f.t.Helper()
	b, err := os.ReadFile(f.path)
	require.NoError(f.t, err)
	return b
}

// kimKeepsHerConditions checks that what central holds of Kim still reads:
// her grant, her receipt page, her sealed conditions, and her consent log
// with the change the sign-up made.
func (f *storeFixture) kimKeepsHerConditions(code string) {
	t := f.t
	t.Helper()
	a, found, err := f.st.ConsentOf(storeKim.Mobile, storeKim.BirthDate, allimi.TypeNewBenefits, allimi.ChannelKakao)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, allimi.ActionGrant, a)
	v, err := f.st.Receipt(code, storeKim.BirthDate)
	require.NoError(t, err, "the receipt page still opens")
	assert.Equal(t, "김*수", v.Name)

	ck := f.keys.CitizenKey(storeKim.Mobile, storeKim.BirthDate)
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		sealed := tx.Bucket(bucketProfiles).Get(ck)
		require.NotNil(t, sealed, "the conditions are kept, sealed")
		plain, err := f.keys.Open(sealed, append([]byte("profile\x00"), ck...))
		require.NoError(t, err)
		var bp benefitProfile
		require.NoError(t, json.Unmarshal(plain, &bp))
		assert.JSONEq(t, kimProfile, string(bp.Profile))
		assert.Equal(t, kimRegion, bp.Region)

		var entries []allimi.ConsentPayload
		c := tx.Bucket(bucketConsentLog).Cursor()
		for k, v := c.Seek(ck); k != nil && bytes.HasPrefix(k, ck); k, v = c.Next() {
			var p allimi.ConsentPayload
			require.NoError(t, json.Unmarshal(v, &p), "%s", v)
			entries = append(entries, p)
		}
		require.Len(t, entries, 1)
		require.Len(t, entries[0].Consents, 1)
		assert.Equal(t, allimi.TypeNewBenefits, entries[0].Consents[0].Type)
		assert.Equal(t, allimi.ActionGrant, entries[0].Consents[0].Action)
		assert.True(t, entries[0].Verified)
		assert.Empty(t, entries[0].Profile)
		assert.Empty(t, entries[0].Region)
		return nil
	}))
}

func TestStore_NewBenefitsConditionsAreNotInTheFileInPlaintext(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	code := "7KQ2-MXR4-TD9P"
	f.commit(benefitsEvent(t, "k1", 1, code))
	f.close()
	// The attack: read the file as bytes, as anyone with the disk or a
	// backup can.
	assert.Empty(t, plaintextIn(f.fileBytes(), append(kimTraits, storeKim.Mobile, storeKim.Name, code)),
		"personal data or the receipt code readable in central.db")
	f.open(StoreOptions{})
	f.kimKeepsHerConditions(code)
}

// TestOpenStore_MigratesPlaintextConsentLogAway writes a database as
// earlier builds did (the consent log holding each event's raw payload,
// a rejection quoting the refused birth date, the receipt indexed by its
// code, no format marker), opens it, and checks that the plaintext is gone
// from the file and from a backup while everything still reads; a second
// open changes nothing.
func TestOpenStore_MigratesPlaintextConsentLogAway(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	e := benefitsEvent(t, "k1", 1, "")
	f.commit(e)
	code := allimi.ReceiptCode("k1", 1) // the slip of an earlier kiosk
	ck := f.keys.CitizenKey(storeKim.Mobile, storeKim.BirthDate)
	// What earlier builds wrote: applyConsents put e.Payload, and
	// keepProfile listed subsidy's own message, value and all.
	_, perr := subsidy.NewPerson(subsidy.Profile{BirthDate: "2099-03-04"}, storeNow)
	require.Error(t, perr)
	require.NoError(t, f.st.db.Update(func(tx *bbolt.Tx) error {
		logKey := bytes.Join([][]byte{ck, u64(e.HLC), record.Key(e.Kiosk, e.Seq)}, nil)
		require.NotNil(t, tx.Bucket(bucketConsentLog).Get(logKey))
		if err := tx.Bucket(bucketConsentLog).Put(logKey, e.Payload); err != nil {
			return err
		}
		if err := f.st.logRejection(tx, allimi.Incoming{Kiosk: "k1", Reject: fmt.Errorf("record %d: conditions not kept: %w",
			2, fmt.Errorf("payload.profile: %w: %w", perr, allimi.ErrInvalid))}); err != nil {
			return err
		}
		rb := tx.Bucket(bucketReceipts)
		v := rb.Get(f.st.codeKey(code))
		require.NotNil(t, v)
		if err := rb.Delete(f.st.codeKey(code)); err != nil {
			return err
		}
		if err := rb.Put([]byte(code), v); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Delete(keyPIIFormat)
	}))
	f.close()
	old := f.fileBytes()
	require.NotEmpty(t, plaintextIn(old, kimTraits), "precondition: the old file holds the conditions in plaintext")
	require.Contains(t, string(old), "2099-03-04", "precondition: the old rejection quotes the date")
	require.Contains(t, string(old), code, "precondition: the receipt is indexed by its code")

	f.open(StoreOptions{})
	f.close()
	after := f.fileBytes()
	assert.Empty(t, plaintextIn(after, append(kimTraits, "2099-03-04", code)), "plaintext left in central.db after the migration")

	f.open(StoreOptions{})
	f.kimKeepsHerConditions(code)
	rs, err := f.st.Rejections(10)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "record 2: conditions not kept: payload.profile or payload.region: invalid (value withheld: personal data)", rs[0].Reason)
	var backup bytes.Buffer
	_, err = f.st.WriteBackup(&backup)
	require.NoError(t, err)
	assert.Empty(t, plaintextIn(backup.Bytes(), append(kimTraits, "2099-03-04", code)), "plaintext in a backup made after the migration")
	f.close()

	// Once migrated, opening again rewrites nothing: the file is the same
	// one (a compaction would have replaced it).
	before, err := os.Stat(f.path)
	require.NoError(t, err)
	f.open(StoreOptions{})
	f.close()
	again, err := os.Stat(f.path)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, again), "a second open compacted the file again")
}

// TestOpenStore_MigrationRunsInBatches migrates more entries than one
// migration transaction takes: all of them are rewritten, each once.
func TestOpenStore_MigrationRunsInBatches(t *testing.T) {
	defer func(n int) { migrationBatch = n }(migrationBatch)
	migrationBatch = 2
	f := newStoreFixture(t, StoreOptions{})
	people := []allimi.Citizen{
		{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"},
		{Name: "이영희", Mobile: "010-9876-5432", BirthDate: "1948-11-30"},
		{Name: "박민수", Mobile: "010-2222-3333", BirthDate: "1952-06-07"},
		{Name: "최순자", Mobile: "010-4444-5555", BirthDate: "1946-09-10"},
		{Name: "정영수", Mobile: "010-6666-7777", BirthDate: "1955-12-13"},
	}
	var events []allimi.Event
	for i, c := range people {
		e := benefitsEvent(t, "k1", uint64(i+1), "")
		e.Citizen = c
		events = append(events, e)
	}
	f.commit(events...)
	// Back to how earlier builds kept them: raw payloads, codes as keys.
	require.NoError(t, f.st.db.Update(func(tx *bbolt.Tx) error {
		for _, e := range events {
			ck := f.keys.CitizenKey(e.Citizen.Mobile, e.Citizen.BirthDate)
			if err := tx.Bucket(bucketConsentLog).Put(bytes.Join([][]byte{ck, u64(e.HLC), record.Key(e.Kiosk, e.Seq)}, nil), e.Payload); err != nil {
				return err
			}
			code := allimi.ReceiptCode(e.Kiosk, e.Seq)
			rb := tx.Bucket(bucketReceipts)
			v := append([]byte(nil), rb.Get(f.st.codeKey(code))...)
			if err := rb.Delete(f.st.codeKey(code)); err != nil {
				return err
			}
			if err := rb.Put([]byte(code), v); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(keyPIIFormat)
	}))
	f.close()
	require.NotEmpty(t, plaintextIn(f.fileBytes(), kimTraits), "precondition")

	f.open(StoreOptions{})
	f.close()
	var codes []string
	for _, e := range events {
		codes = append(codes, allimi.ReceiptCode(e.Kiosk, e.Seq))
	}
	assert.Empty(t, plaintextIn(f.fileBytes(), append(kimTraits, codes...)))
	f.open(StoreOptions{})
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		assert.Equal(t, len(events), tx.Bucket(bucketConsentLog).Stats().KeyN)
		assert.Equal(t, len(events), tx.Bucket(bucketReceipts).Stats().KeyN)
		return nil
	}))
	for i, e := range events {
		v, err := f.st.Receipt(codes[i], e.Citizen.BirthDate)
		require.NoError(t, err, "receipt %d", i)
		assert.Equal(t, e.Citizen.MaskedName(), v.Name)
	}
}

// TestOpenData_MigratesADirectoryTheBuildBeforeWrote opens a data
// directory that the build before this migration wrote (testdata/
// pii-format-0: Kim's sign-up with her new-benefits conditions, and Lee's
// whose profile birth date does not exist, refused with the date quoted),
// and checks that the plaintext is gone and everything still reads.
func TestOpenData_MigratesADirectoryTheBuildBeforeWrote(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{DBFile, "keys.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "pii-format-0", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	personal := []string{"1949-07-21", "JA0202", "JA0328", "JA0402", "순천시", "1947-02-31",
		allimi.ReceiptCode("kiosk-a", 1), allimi.ReceiptCode("kiosk-a", 2)}
	old, err := os.ReadFile(filepath.Join(dir, DBFile))
	require.NoError(t, err)
	require.Equal(t, personal, plaintextIn(old, personal), "precondition: the earlier build left all of it readable")

	st, keys, err := OpenData(dir, StoreOptions{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	now, err := os.ReadFile(filepath.Join(dir, DBFile))
	require.NoError(t, err)
	assert.Empty(t, plaintextIn(now, personal), "plaintext left after the migration")

	st, err = OpenStore(filepath.Join(dir, DBFile), keys, StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	v, err := st.Receipt(allimi.ReceiptCode("kiosk-a", 1), "1949-07-21")
	require.NoError(t, err, "the slip Kim took home still opens her page")
	assert.Equal(t, "김*자", v.Name)
	require.Len(t, v.Consents, 1)
	a, found, err := st.ConsentOf("010-2468-1357", "1949-07-21", allimi.TypeNewBenefits, allimi.ChannelKakao)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, allimi.ActionGrant, a)
	ck := keys.CitizenKey("010-2468-1357", "1949-07-21")
	require.NoError(t, st.db.View(func(tx *bbolt.Tx) error {
		plain, err := keys.Open(tx.Bucket(bucketProfiles).Get(ck), append([]byte("profile\x00"), ck...))
		require.NoError(t, err, "her conditions are still kept, sealed")
		var bp benefitProfile
		require.NoError(t, json.Unmarshal(plain, &bp))
		assert.Contains(t, string(bp.Profile), "JA0328")
		assert.Equal(t, "전남/순천시", bp.Region)
		assert.Equal(t, 2, tx.Bucket(bucketConsentLog).Stats().KeyN, "one log entry per sign-up, none lost")
		return nil
	}))
	rs, err := st.Rejections(10)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "record 2: conditions not kept: payload.profile or payload.region: invalid (value withheld: personal data)", rs[0].Reason)
}

// A migration whose compaction cannot be done (here: something in the way
// of the copy, as a disk with no room for one would be) still lets central
// start, says so, and compacts at the next start.
func TestOpenData_MigrationCompactsAtTheNextStartWhenItCouldNot(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{DBFile, "keys.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "pii-format-0", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	personal := []string{"1949-07-21", "JA0328", "순천시"}
	blocker := filepath.Join(dir, DBFile+".compact")
	require.NoError(t, os.MkdirAll(filepath.Join(blocker, "in-the-way"), 0o700))

	var logs bytes.Buffer
	st, _, err := OpenData(dir, StoreOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err, "central starts although the compaction failed")
	_, found, err := st.ConsentOf("010-2468-1357", "1949-07-21", allimi.TypeNewBenefits, allimi.ChannelKakao)
	require.NoError(t, err)
	assert.True(t, found, "the data is migrated and reads")
	require.NoError(t, st.Close())
	assert.Contains(t, logs.String(), "its old plaintext is still on free pages of the file")
	compactDue := func() bool {
		db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
		require.NoError(t, err)
		defer db.Close()
		due := false
		require.NoError(t, db.View(func(tx *bbolt.Tx) error {
			due = tx.Bucket(bucketMeta).Get(keyPIICompactDue) != nil
			return nil
		}))
		return due
	}
	assert.True(t, compactDue(), "the compaction is still to do")

	require.NoError(t, os.RemoveAll(blocker))
	logs.Reset()
	st, _, err = OpenData(dir, StoreOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	assert.Contains(t, logs.String(), "compacted the old plaintext away")
	now, err := os.ReadFile(filepath.Join(dir, DBFile))
	require.NoError(t, err)
	assert.Empty(t, plaintextIn(now, personal))
	assert.False(t, compactDue())

	logs.Reset()
	st, _, err = OpenData(dir, StoreOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	assert.NotContains(t, logs.String(), "compacted", "once done, never again")
}
