package requests

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/sync/wire"
)

func TestRequests_KioskOfficialSeesAndSettlesItsConflicts(t *testing.T) {
	f := newConflictFixture(t) // a grant from k1, a withdrawal from k2
	id := f.id
	l := f.st.Limits
	r := New(f.st, Limits{Check: l.SMSCheck, Hour: l.SMSHour, Day: l.SMSDay, PerHour: l.SMSPerHour, PerDay: l.SMSPerDay}, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	for _, k := range []string{"k1", "k2"} {
		rep := r.Answer(ctx, k, wire.Request{V: 1, ID: "a", Op: wire.OpListConflicts})
		require.True(t, rep.OK, rep.Error)
		require.Len(t, rep.Conflicts, 1, k)
		c := rep.Conflicts[0]
		assert.Equal(t, id, c.ID)
		assert.Equal(t, "김*수", c.Name, "masked")
		assert.NotContains(t, c.Mobile, conflictKim.Mobile[4:8])
		assert.Equal(t, allimi.TypeHealthCheckup, c.Type)
		assert.True(t, c.Withdrawal.At.After(c.Grant.At))
	}
	rep := r.Answer(ctx, "k3", wire.Request{V: 1, ID: "b", Op: wire.OpListConflicts})
	require.True(t, rep.OK)
	assert.Empty(t, rep.Conflicts, "another kiosk's officials do not see it")

	rep = r.Answer(ctx, "k3", wire.Request{V: 1, ID: "c", Op: wire.OpResolveConflict, Conflict: id, Decision: allimi.ActionGrant, Official: "o-1"})
	assert.False(t, rep.OK)
	assert.Equal(t, "not-found", rep.Code)
	rep = r.Answer(ctx, "k1", wire.Request{V: 1, ID: "d", Op: wire.OpResolveConflict, Conflict: id, Decision: allimi.ActionGrant})
	assert.Equal(t, "invalid", rep.Code, "no official")
	rep = r.Answer(ctx, "k1", wire.Request{V: 1, ID: "e", Op: wire.OpResolveConflict, Conflict: id, Decision: "maybe", Official: "o-1"})
	assert.Equal(t, "invalid", rep.Code)
	assert.Equal(t, allimi.ActionWithdraw, f.Consent(), "nothing changed")

	rep = r.Answer(ctx, "k1", wire.Request{V: 1, ID: "f", Op: wire.OpResolveConflict, Conflict: id, Decision: allimi.ActionGrant, Official: "o-1"})
	require.True(t, rep.OK, rep.Error)
	assert.Equal(t, allimi.ActionGrant, f.Consent())
	all := f.Conflicts(true)
	require.Len(t, all, 1)
	assert.Equal(t, "k1/o-1", all[0].Resolved.Official, "recorded with the kiosk it was settled at")
	rep = r.Answer(ctx, "k1", wire.Request{V: 1, ID: "g", Op: wire.OpListConflicts})
	assert.Empty(t, rep.Conflicts)
}

var conflictKim = allimi.Citizen{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}

// conflictFixture is a registry holding one conflict: Kim's grant of
// health check-up notices by KakaoTalk at kiosk k1, and a withdrawal at k2
// ten minutes later.
type conflictFixture struct {
	t  *testing.T
	st *bolt.Store
	id uint64
}

func newConflictFixture(t *testing.T) *conflictFixture {
	t.Helper()
	dir := t.TempDir()
	keys, err := keyring.Load(dir)
	require.NoError(t, err)
	st, err := bolt.OpenStore(filepath.Join(dir, bolt.DBFile), keys, bolt.StoreOptions{ConflictWindow: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var batch []allimi.Incoming
	for i, c := range []struct {
		kiosk  string
		action allimi.ConsentAction
		at     time.Time
	}{{"k1", allimi.ActionGrant, t0}, {"k2", allimi.ActionWithdraw, t0.Add(10 * time.Minute)}} {
		kind := allimi.KindSignup
		if c.action == allimi.ActionWithdraw {
			kind = allimi.KindConsent
		}
		p, err := json.Marshal(allimi.ConsentPayload{Consents: []allimi.Consent{{Type: allimi.TypeHealthCheckup,
			Channel: allimi.ChannelKakao, Action: c.action, At: c.at,
			By: allimi.Actor{Kind: allimi.ActorSelf}}}})
		require.NoError(t, err)
		e := allimi.Event{V: allimi.EventVersion, Kiosk: c.kiosk, Seq: 1, HLC: allimi.NextHLC(0, c.at),
			Kind: kind, Citizen: conflictKim, Payload: p}
		require.NoError(t, e.Validate(t0.Add(time.Hour)), "event %d", i)
		batch = append(batch, allimi.Incoming{Kiosk: c.kiosk, Event: &e})
	}
	_, err = st.Commit(batch)
	require.NoError(t, err)
	f := &conflictFixture{t: t, st: st}
	cs := f.Conflicts(false)
	require.Len(t, cs, 1)
	require.Equal(t, allimi.ActionWithdraw, f.Consent())
	f.id = cs[0].ID
	return f
}

func (f *conflictFixture) Consent() allimi.ConsentAction {
	f.t.Helper()
	a, found, err := f.st.ConsentOf(conflictKim.Mobile, conflictKim.BirthDate, allimi.TypeHealthCheckup, allimi.ChannelKakao)
	require.NoError(f.t, err)
	require.True(f.t, found)
	return a
}

func (f *conflictFixture) Conflicts(all bool) []allimi.Conflict {
	f.t.Helper()
	cs, err := f.st.Conflicts(all)
	require.NoError(f.t, err)
	return cs
}
