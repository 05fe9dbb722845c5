package kiosk

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/outbox"
)

var testNow = time.Date(2026, 3, 14, 10, 0, 0, 0, time.Local)

func validSession() *Session {
	s := NewSession()
	s.Name, s.Mobile = "김영희", "010-1234-5678"
	s.BirthYear, s.BirthMonth, s.BirthDay = 1948, 5, 17
	s.Types[allimi.TypeHealthCheckup] = true
	return s
}

func TestSession_BadInputGetsItsOwnMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *Session)
		key  string
	}{
		{"empty name", func(s *Session) { s.Name = "  " }, "err.name_empty"},
		{"name with a control character", func(s *Session) { s.Name = "김\x07영희" }, "err.name_invalid"},
		{"011 number", func(s *Session) { s.Mobile = "011-123-4567" }, "err.mobile_invalid"},
		{"landline", func(s *Session) { s.Mobile = "02-123-4567" }, "err.mobile_invalid"},
		{"too short", func(s *Session) { s.Mobile = "010-123-456" }, "err.mobile_invalid"},
		{"letters", func(s *Session) { s.Mobile = "010-abcd-5678" }, "err.mobile_invalid"},
		{"empty number", func(s *Session) { s.Mobile = "" }, "err.mobile_invalid"},
		{"no day", func(s *Session) { s.BirthDay = 0 }, "err.birth_missing"},
		{"30 February", func(s *Session) { s.BirthMonth, s.BirthDay = 2, 30 }, "err.birth_impossible"},
		{"31 April", func(s *Session) { s.BirthMonth, s.BirthDay = 4, 31 }, "err.birth_impossible"},
		{"29 February 1949", func(s *Session) { s.BirthYear, s.BirthMonth, s.BirthDay = 1949, 2, 29 }, "err.birth_impossible"},
		{"tomorrow", func(s *Session) { s.BirthYear, s.BirthMonth, s.BirthDay = 2026, 3, 15 }, "err.birth_future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := validSession()
			tc.edit(s)
			_, err := s.SignupDraft(testNow)
			var ie *InputError
			require.True(t, errors.As(err, &ie), "got %v", err)
			assert.Equal(t, tc.key, ie.Key)
			for _, l := range Langs {
				msg := ie.Message(l)
				assert.NotEqual(t, tc.key, msg, "%s has no message for %s", l, tc.key)
				assert.NotContains(t, msg, "{", "%s message keeps a placeholder", l)
			}
		})
	}
	// 29 February of a leap year is a real date.
	s := validSession()
	s.BirthYear, s.BirthMonth, s.BirthDay = 1948, 2, 29
	_, err := s.SignupDraft(testNow)
	assert.NoError(t, err)
}

func TestSession_LongNameIsRefused(t *testing.T) {
	s := validSession()
	s.Name = strings.Repeat("가", 50)
	_, err := s.SignupDraft(testNow)
	require.NoError(t, err, "50 characters are allowed")
	s.Name = strings.Repeat("가", 51)
	_, err = s.SignupDraft(testNow)
	var ie *InputError
	require.True(t, errors.As(err, &ie))
	assert.Equal(t, "err.name_long", ie.Key)
}

func TestSession_ChoicesAreRequired(t *testing.T) {
	s := validSession()
	s.Types = map[allimi.NotificationType]bool{}
	_, err := s.SignupDraft(testNow)
	var ie *InputError
	require.True(t, errors.As(err, &ie))
	assert.Equal(t, "err.types_none", ie.Key)

	s = validSession()
	s.Channels[allimi.ChannelSMS] = false
	_, err = s.SignupDraft(testNow)
	require.True(t, errors.As(err, &ie))
	assert.Equal(t, "err.channels_none", ie.Key)

	s = validSession()
	s.Official = &StaffMember{ID: "o1"}
	_, err = s.SignupDraft(testNow)
	require.True(t, errors.As(err, &ie))
	assert.Equal(t, "err.method_none", ie.Key)
}

// TestSession_DraftsAreWhatCentralAccepts stores the drafts in a real
// outbox, which validates them with the same rules central applies.
func TestSession_DraftsAreWhatCentralAccepts(t *testing.T) {
	db, err := outbox.OpenDB(filepath.Join(t.TempDir(), "k"))
	require.NoError(t, err)
	defer db.Close()
	ob, err := outbox.Open(db, "k1")
	require.NoError(t, err)

	s := validSession()
	s.Mobile = "01012345678"
	s.Channels[allimi.ChannelKakao] = true
	s.Official, s.Method = &StaffMember{ID: "official-01"}, allimi.MethodVaccination
	d, err := s.SignupDraft(time.Now())
	require.NoError(t, err)
	w := validSession()
	w.Official, w.Method = &StaffMember{ID: "official-01"}, allimi.MethodSpoken
	wd, err := w.WithdrawDraft(time.Now())
	require.NoError(t, err)

	evs, err := ob.Append(d, wd)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	for _, e := range evs {
		e := e
		require.NoError(t, e.Validate(time.Now()))
	}
	var p allimi.ConsentPayload
	require.NoError(t, json.Unmarshal(evs[0].Payload, &p))
	assert.Equal(t, "010-1234-5678", evs[0].Citizen.Mobile)
	assert.Len(t, p.Consents, 2)
	require.NoError(t, json.Unmarshal(evs[1].Payload, &p))
	assert.Len(t, p.Consents, len(allimi.Channels), "a withdrawal covers every channel")
	for _, c := range p.Consents {
		assert.Equal(t, allimi.ActionWithdraw, c.Action)
	}
}

func TestSession_SubmitStoresOnce(t *testing.T) {
	rec := &MemoryRecorder{Kiosk: "k1"}
	s := validSession()
	d, err := s.SignupDraft(testNow)
	require.NoError(t, err)
	r1, err := s.submit(rec, d)
	require.NoError(t, err)
	r2, err := s.submit(rec, d)
	require.NoError(t, err)
	assert.Equal(t, r1, r2)
	assert.Len(t, rec.Events, 1)

	s.Clear()
	assert.True(t, s.Empty())
	_, err = NewSession().submit(nil, d)
	assert.ErrorIs(t, err, ErrNotRegistered)
}

// TestSession_SignupSlipCodeIsDrawnNotDerived: the code on the slip is the
// one the record carries, drawn at random; the same person signing up
// twice at the same kiosk gets two codes, neither the one anyone could
// compute from the kiosk's id and record count.
func TestSession_SignupSlipCodeIsDrawnNotDerived(t *testing.T) {
	rec := &MemoryRecorder{Kiosk: "k1"}
	var codes []string
	for range 2 {
		s := validSession()
		d, err := s.SignupDraft(testNow)
		require.NoError(t, err)
		r, err := s.submit(rec, d)
		require.NoError(t, err)
		assert.True(t, allimi.IsRandomReceiptCode(r.Code), "XXXX-XXXX-XXXX: %q", r.Code)
		assert.Equal(t, d.Payload.(*allimi.ConsentPayload).Receipt, r.Code, "the slip shows the code central indexes")
		assert.NotEqual(t, ReceiptCode(r.Kiosk, r.Seq), r.Code)
		codes = append(codes, r.Code)
	}
	assert.NotEqual(t, codes[0], codes[1])
}

func TestSession_ReceiptCodesComeFromTheUIsSourceAcrossClears(t *testing.T) {
	draws := 0
	u := New(test.NewWindow(nil), Options{Config: Config{ID: "k1"}.WithDefaults(), Logger: quietLogger(), ReceiptCode: func() (string, error) {
		draws++
		return "4F7K-Q2MX-9TDR", nil
	}})
	for range 2 {
		fill := validSession()
		fill.drawCode = u.session.drawCode
		*u.session = *fill
		d, err := u.session.SignupDraft(testNow)
		require.NoError(t, err)
		assert.Equal(t, "4F7K-Q2MX-9TDR", d.Payload.(*allimi.ConsentPayload).Receipt)
		u.session.Clear()
	}
	assert.Equal(t, 2, draws)

	failing := validSession()
	failing.drawCode = func() (string, error) { return "", errors.New("no randomness") }
	_, err := failing.SignupDraft(testNow)
	assert.ErrorContains(t, err, "no randomness", "no code, no record")
}

func TestReceiptCode(t *testing.T) {
	code := ReceiptCode("demo-kiosk", 42)
	assert.Regexp(t, regexp.MustCompile(`^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{5}-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{5}$`), code)
	assert.Equal(t, code, ReceiptCode("demo-kiosk", 42), "derived, not random")
	seen := map[string]bool{}
	for seq := uint64(1); seq <= 2000; seq++ {
		c := ReceiptCode("demo-kiosk", seq)
		assert.False(t, seen[c], "collision at %d", seq)
		seen[c] = true
	}
	assert.NotEqual(t, code, ReceiptCode("other-kiosk", 42))
}

func TestToday_KeepsOnlyTodaysMaskedEntries(t *testing.T) {
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	defer db.Close()
	for _, log := range []TodayLog{&MemoryToday{}, must(OpenBoltToday(db))} {
		yesterday := testNow.Add(-24 * time.Hour)
		require.NoError(t, log.Add(TodayEntry{At: yesterday, Name: "어*제"}))
		require.NoError(t, log.Add(TodayEntry{At: testNow.Add(-time.Hour), Name: "오*늘"}))
		require.NoError(t, log.Add(TodayEntry{At: testNow.Add(-time.Hour), Name: "같*때"}))
		got, err := log.List(testNow)
		require.NoError(t, err)
		var names []string
		for _, e := range got {
			names = append(names, e.Name)
		}
		assert.ElementsMatch(t, []string{"오*늘", "같*때"}, names, "%T", log)
		got, err = log.List(testNow.Add(24 * time.Hour))
		require.NoError(t, err)
		assert.Empty(t, got, "%T: the next day the list is empty", log)
	}
}

func TestToday_PurgedEntriesAreGoneFromTheFile(t *testing.T) {
	dir := t.TempDir()
	db, err := outbox.OpenDB(dir)
	require.NoError(t, err)
	defer db.Close()
	log := must(OpenBoltToday(db))
	for i := range 50 {
		require.NoError(t, log.Add(TodayEntry{At: testNow.Add(-time.Hour), Name: fmt.Sprintf("오*늘%02d", i), Mobile: "010-****-5678"}))
	}
	file := func() []byte { return must(os.ReadFile(filepath.Join(dir, outbox.DBFile))) }
	require.Contains(t, string(file()), "오*늘07")

	got, err := log.List(testNow.Add(24 * time.Hour))
	require.NoError(t, err)
	require.Empty(t, got)
	assert.NotContains(t, string(file()), "오*늘", "yesterday's entries are still readable in kiosk.db")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPIN_HashAndMatch(t *testing.T) {
	h, err := HashPIN("4321")
	require.NoError(t, err)
	assert.NotContains(t, h, "4321")
	staff := []StaffMember{{ID: "a", PINHash: testPINHash}, {ID: "b", PINHash: h}}
	m, ok := matchPIN(staff, "4321")
	require.True(t, ok)
	assert.Equal(t, "b", m.ID)
	_, ok = matchPIN(staff, "0000")
	assert.False(t, ok)
	for _, bad := range []string{"12", "12a4", ""} {
		_, err := HashPIN(bad)
		assert.Error(t, err, bad)
	}
}
