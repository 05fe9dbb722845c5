package pg

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/throttle"
)

// detailPage is what the detail page answered.
type detailPage struct {
	status int
	body   string
}

func getPage(t *testing.T, link string) detailPage {
	t.Helper()
	res, err := http.Get(link)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return detailPage{res.StatusCode, string(b)}
}

func postBirthDate(t *testing.T, link, birthDate string) detailPage {
	t.Helper()
	res, err := http.PostForm(link, url.Values{"birthDate": {birthDate}})
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return detailPage{res.StatusCode, string(b)}
}

// TestDetails_LinkOfADeliveryOpensOverHTTP follows a delivery's link as a
// phone would: a notification created on PostgreSQL, its message accepted
// by a provider, its link opened over loopback HTTP on the detail pages'
// Handler; a wrong date of birth is refused and counted, the right one
// shows the notice and is audited, and another recipient's link locks
// after five wrong dates, the right one included, across a restart.
func TestDetails_LinkOfADeliveryOpensOverHTTP(t *testing.T) {
	c := openStore(t)
	var handler atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	serve := func() {
		limits, err := throttle.OpenLimits(c.Store, c.keys.Derive("limits"), throttle.LimitsConfig{})
		require.NoError(t, err)
		d, err := c.OpenDetails(srv.URL, limits.Detail)
		require.NoError(t, err)
		handler.Store(d.Handler())
	}
	serve()

	kim := allimi.Citizen{Name: "김영자", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}
	lee := allimi.Citizen{Name: "이순자", Mobile: "010-2345-6789", BirthDate: "1948-03-04"}
	c.Seed(t, []allimi.Citizen{kim, lee}, allimi.TypeHealthCheckup, allimi.ChannelSMS)
	req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Params: map[string]string{"year": "2026"},
		Title: "국가건강검진 안내", Fields: []allimi.DetailField{{Label: "기간", Value: "12월 31일까지"}}}
	req.Audience.Citizens = []allimi.RecipientRequest{{Mobile: kim.Mobile, BirthDate: kim.BirthDate},
		{Mobile: lee.Mobile, BirthDate: lee.BirthDate}}
	n, _, err := c.CreateNotification("health-centre", "", req)
	require.NoError(t, err)
	require.EqualValues(t, 2, n.Recipients)

	links := map[uint32]string{}
	var refs []allimi.DeliveryRef
	require.NoError(t, c.ReadDeliveries(func(r allimi.DeliveryReader) error {
		for seq := uint32(1); seq <= 2; seq++ {
			o, err := r.Outgoing(&n, allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: allimi.ChannelSMS})
			require.NoError(t, err)
			links[seq] = c.DetailLink(o.Ref, o.Token)
			refs = append(refs, o.Ref)

			// The same keys give the same link on central/bolt.
			b, err := bolt.OpenStore(filepath.Join(t.TempDir(), bolt.DBFile), c.keys, bolt.StoreOptions{LinkBase: srv.URL})
			require.NoError(t, err)
			assert.Equal(t, b.DetailLink(o.Ref, o.Token), links[seq], "recipient %d's link as central/bolt makes it", seq)
			require.NoError(t, b.Close())
		}
		return nil
	}))
	require.True(t, strings.HasPrefix(links[1], srv.URL+"/n/"), links[1])

	assert.Equal(t, http.StatusNotFound, getPage(t, links[1]).status, "no page before a provider took the message")
	now := time.Now().UnixMilli()
	require.NoError(t, c.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		for _, ref := range refs {
			if err := tx.PutDelivery(ref, allimi.DeliveryRecord{State: allimi.DeliveryAccepted, Attempts: 1, First: now, Updated: now}); err != nil {
				return err
			}
		}
		return nil
	}))

	p := getPage(t, links[1])
	require.Equal(t, http.StatusOK, p.status, p.body)
	assert.NotContains(t, p.body, "12월 31일까지", "nothing shown before the check")

	p = postBirthDate(t, links[1], "1950-01-03")
	assert.Equal(t, http.StatusForbidden, p.status, "a wrong date of birth")
	assert.NotContains(t, p.body, "12월 31일까지")
	auditBefore := lastAudit(t, c)

	p = postBirthDate(t, links[1], kim.BirthDate)
	require.Equal(t, http.StatusOK, p.status, p.body)
	assert.Contains(t, p.body, "국가건강검진 안내")
	assert.Contains(t, p.body, "12월 31일까지", "the notice's own field")
	assert.Contains(t, p.body, "대상 연도", "the recipient's field")

	e := lastAudit(t, c)
	assert.Equal(t, auditBefore.Seq+1, e.Seq, "one entry for the page shown")
	assert.Equal(t, allimi.AuditDetailView, e.Kind)
	assert.Equal(t, "web", e.By)
	assert.Equal(t, c.keys.Pseudonym(c.keys.CitizenKey(kim.Mobile, kim.BirthDate)), e.Person, "the recipient, by pseudonym")
	assert.Contains(t, e.What, "notification")
	_, err = c.VerifyAudit()
	require.NoError(t, err)

	// Lee's page locks after five wrong dates; a restart unlocks nothing.
	for i := 1; i <= 4; i++ {
		p = postBirthDate(t, links[2], "1948-03-05")
		require.Equal(t, http.StatusForbidden, p.status, "wrong try %d", i)
	}
	c.Reopen(t)
	serve()
	p = postBirthDate(t, links[2], "1948-03-05")
	assert.Equal(t, http.StatusTooManyRequests, p.status, "the fifth wrong date locks")
	p = postBirthDate(t, links[2], lee.BirthDate)
	assert.Equal(t, http.StatusTooManyRequests, p.status, "even the right date waits out the lock")
	assert.NotContains(t, p.body, "12월 31일까지")
	assert.Equal(t, http.StatusTooManyRequests, getPage(t, links[2]).status)
	assert.Equal(t, e.Seq, lastAudit(t, c).Seq, "nothing shown, nothing audited")
	p = postBirthDate(t, links[1], kim.BirthDate)
	assert.Equal(t, http.StatusOK, p.status, "another recipient's page is not locked")
}

func lastAudit(t *testing.T, c *conformanceStore) allimi.AuditEntry {
	t.Helper()
	var v []byte
	err := c.pool.QueryRow(context.Background(), `SELECT entry FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&v)
	var e allimi.AuditEntry
	if errors.Is(err, pgx.ErrNoRows) {
		return e // none yet: Seq 0
	}
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(v, &e))
	return e
}
