package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// AuditLog checks allimi.AuditLog: views and consent changes are
// recorded, one entry each, in a chain that verifies and survives a
// restart. When the backend is an AuditTamperer it also checks that
// VerifyAudit finds an entry changed, one changed and rehashed, and one
// removed, in the middle or at the end.
func AuditLog[B RegistryBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"EmptyVerifies", auditEmpty[B]},
		{"ViewsAndChangesChained", auditChained[B]},
		{"Durable", auditDurable[B]},
		{"FindsAChangedEntry", auditTamper[B](func(t *testing.T, a AuditTamperer, last uint64) uint64 {
			a.RewriteAudit(t, last-1, func(e *allimi.AuditEntry) { e.What = "receipt of someone else" })
			return last - 1
		})},
		{"FindsAChangedEntryRehashed", auditTamper[B](func(t *testing.T, a AuditTamperer, last uint64) uint64 {
			a.RewriteAudit(t, last-1, func(e *allimi.AuditEntry) { e.What = "nothing to see"; e.Hash = e.Digest() })
			return last // the entry after it no longer follows it
		})},
		{"FindsARemovedEntry", auditTamper[B](func(t *testing.T, a AuditTamperer, last uint64) uint64 {
			a.DeleteAudit(t, last-1)
			return last - 1
		})},
		{"FindsTheLastEntryRemoved", auditTamper[B](func(t *testing.T, a AuditTamperer, last uint64) uint64 {
			a.DeleteAudit(t, last)
			return last
		})},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func verify(t *testing.T, b allimi.AuditLog) allimi.AuditReport {
	t.Helper()
	r, err := b.VerifyAudit()
	require.NoError(t, err)
	assert.Zero(t, r.Broken)
	assert.Empty(t, r.Reason)
	return r
}

func auditEmpty[B RegistryBackend[B]](t *testing.T, b B) {
	r := verify(t, b)
	assert.Zero(t, r.Entries)
}

// viewed commits kim's sign-up and records views of her receipt, and
// returns her key from the receipt.
func viewed(t *testing.T, b interface {
	allimi.Registry
	allimi.AuditLog
}, views int) []byte {
	t.Helper()
	code, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	at := time.Now().Add(-time.Minute)
	commit(t, b, (&kiosk{id: "kiosk-a"}).signup(t, kim, allimi.ConsentPayload{
		Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelSMS), Receipt: code, Verified: true}, at))
	v, err := b.Receipt(code, kim.BirthDate)
	require.NoError(t, err)
	for range views {
		require.NoError(t, b.AuditView("receipt-view", v.CitizenKey, "receipt of a sign-up at kiosk-a"))
	}
	return v.CitizenKey
}

func auditChained[B RegistryBackend[B]](t *testing.T, b B) {
	ck := viewed(t, b, 0)
	r := verify(t, b)
	require.Positive(t, r.Entries, "a sign-up changes a person's consents: audited")
	assert.NotEmpty(t, r.Head)
	heads := map[string]bool{r.Head: true}
	for i := 1; i <= 3; i++ {
		require.NoError(t, b.AuditView("detail-view", ck, "notice 1"))
		next := verify(t, b)
		assert.Equal(t, r.Entries+i, next.Entries, "one entry per view")
		assert.False(t, heads[next.Head], "every entry moves the head")
		heads[next.Head] = true
	}
	n := verify(t, b).Entries
	at := time.Now().Add(-time.Minute)
	commit(t, b, (&kiosk{id: "kiosk-b"}).consent(t, kim, withdrawals(at, allimi.TypeHealthCheckup, allimi.ChannelSMS), at))
	assert.Greater(t, verify(t, b).Entries, n, "a withdrawal is audited")
}

func auditDurable[B RegistryBackend[B]](t *testing.T, b B) {
	ck := viewed(t, b, 2)
	r := verify(t, b)
	b = b.Reopen(t)
	again := verify(t, b)
	assert.Equal(t, r, again)
	require.NoError(t, b.AuditView("receipt-view", ck, "receipt"))
	next := verify(t, b)
	assert.Equal(t, r.Entries+1, next.Entries, "the chain goes on after a restart")
}

// auditTamper makes a test that writes a sign-up's entries and three
// views', lets tamper change the stored log (whose last entry is last),
// and wants VerifyAudit to report the break at the entry tamper returns.
func auditTamper[B RegistryBackend[B]](tamper func(t *testing.T, a AuditTamperer, last uint64) uint64) func(*testing.T, B) {
	return func(t *testing.T, b B) {
		a, ok := any(b).(AuditTamperer)
		if !ok {
			t.Skip("the backend's harness cannot change its stored audit log (storetest.AuditTamperer)")
		}
		viewed(t, b, 3)
		last := uint64(verify(t, b).Entries)
		require.GreaterOrEqual(t, last, uint64(4), "a sign-up and three views")
		broken := tamper(t, a, last)
		r, err := b.VerifyAudit()
		assert.ErrorIs(t, err, allimi.ErrAuditBroken)
		assert.Equal(t, broken, r.Broken)
		assert.NotEmpty(t, r.Reason)
		assert.EqualValues(t, broken-1, r.Entries, "the entries before the break verify")
	}
}
