package central

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/wire"
)

func TestRequests_KioskOfficialSeesAndSettlesItsConflicts(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	id := storeConflicted(t, f) // a grant from k1, a withdrawal from k2
	r := newRequests(f.st, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()

	for _, k := range []string{"k1", "k2"} {
		rep := r.answer(ctx, k, wire.Request{V: 1, ID: "a", Op: wire.OpListConflicts})
		require.True(t, rep.OK, rep.Error)
		require.Len(t, rep.Conflicts, 1, k)
		c := rep.Conflicts[0]
		assert.Equal(t, id, c.ID)
		assert.Equal(t, "김*수", c.Name, "masked")
		assert.NotContains(t, c.Mobile, storeKim.Mobile[4:8])
		assert.Equal(t, allimi.TypeHealthCheckup, c.Type)
		assert.True(t, c.Withdrawal.At.After(c.Grant.At))
	}
	rep := r.answer(ctx, "k3", wire.Request{V: 1, ID: "b", Op: wire.OpListConflicts})
	require.True(t, rep.OK)
	assert.Empty(t, rep.Conflicts, "another kiosk's officials do not see it")

	rep = r.answer(ctx, "k3", wire.Request{V: 1, ID: "c", Op: wire.OpResolveConflict, Conflict: id, Decision: allimi.ActionGrant, Official: "o-1"})
	assert.False(t, rep.OK)
	assert.Equal(t, "not-found", rep.Code)
	rep = r.answer(ctx, "k1", wire.Request{V: 1, ID: "d", Op: wire.OpResolveConflict, Conflict: id, Decision: allimi.ActionGrant})
	assert.Equal(t, "invalid", rep.Code, "no official")
	rep = r.answer(ctx, "k1", wire.Request{V: 1, ID: "e", Op: wire.OpResolveConflict, Conflict: id, Decision: "maybe", Official: "o-1"})
	assert.Equal(t, "invalid", rep.Code)
	assert.Equal(t, allimi.ActionWithdraw, f.consent(), "nothing changed")

	rep = r.answer(ctx, "k1", wire.Request{V: 1, ID: "f", Op: wire.OpResolveConflict, Conflict: id, Decision: allimi.ActionGrant, Official: "o-1"})
	require.True(t, rep.OK, rep.Error)
	assert.Equal(t, allimi.ActionGrant, f.consent())
	all := f.conflicts(true)
	require.Len(t, all, 1)
	assert.Equal(t, "k1/o-1", all[0].Resolved.Official, "recorded with the kiosk it was settled at")
	rep = r.answer(ctx, "k1", wire.Request{V: 1, ID: "g", Op: wire.OpListConflicts})
	assert.Empty(t, rep.Conflicts)
}
