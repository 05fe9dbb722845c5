package central_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/api"
	"allimi/central/channel"
	"allimi/central/notify"
)

// signUpAt commits sign-ups of people at kiosk, each granting
// health-checkup notices on chs, as the kiosk's records would.
func signUpAt(t *testing.T, st fanoutSetup, kiosk string, at time.Time, people []allimi.Citizen, chs ...allimi.Channel) {
	t.Helper()
	batch := make([]allimi.Incoming, len(people))
	for i, c := range people {
		var consents []allimi.Consent
		for _, ch := range chs {
			consents = append(consents, allimi.Consent{Type: allimi.TypeHealthCheckup, Channel: ch, Action: allimi.ActionGrant,
				By: allimi.Actor{Kind: allimi.ActorSelf}, At: at})
		}
		p, err := json.Marshal(allimi.ConsentPayload{Consents: consents, Verified: true})
		require.NoError(t, err)
		e := allimi.Event{V: allimi.EventVersion, Kiosk: kiosk, Seq: uint64(i + 1), HLC: allimi.NextHLC(0, at), Kind: allimi.KindSignup,
			Citizen: c, Payload: p}
		require.NoError(t, e.Validate(time.Now()))
		batch[i] = allimi.Incoming{Kiosk: kiosk, Event: &e}
	}
	out, err := st.Commit(batch)
	require.NoError(t, err)
	require.Equal(t, len(people), out.Stored)
}

func person(i int) allimi.Citizen {
	return allimi.Citizen{Name: fmt.Sprintf("주민%d", i), Mobile: fmt.Sprintf("010-3000-%04d", i), BirthDate: "1950-01-01"}
}

// getCSV GETs url as staff asking for CSV, and parses it.
func getCSV(t *testing.T, url, token, accept string) [][]string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv"), resp.Header.Get("Content-Type"))
	rows, err := csv.NewReader(resp.Body).ReadAll()
	require.NoError(t, err)
	return rows
}

// The ministry's tables end to end: people signed up at kiosks of Seoul
// (KakaoTalk and SMS; none of them uses KakaoTalk) and of Busan (Naver),
// a campaign sent on a day the dispatcher's clock says; the people per
// channel with shares, the messages per day and per region with their
// outcomes, each channel's state in the notification's answer. The
// messenger's refusals went by the people's own SMS: fallbacks, no dead
// letter.
func TestStats_MinistryTablesPerDayAndRegion(t *testing.T) {
	t.Run("bbolt", func(t *testing.T) { testMinistryTables(t, false) })
	t.Run("postgres", func(t *testing.T) { testMinistryTables(t, true) })
}

func testMinistryTables(t *testing.T, postgres bool) {
	day := time.Date(2026, 11, 20, 10, 0, 0, 0, allimi.KST)
	seoul := []allimi.Citizen{person(1), person(2), person(3)}
	busan := []allimi.Citizen{person(4), person(5)}
	f := newFanout(t, fanoutOptions{now: func() time.Time { return day }, postgres: postgres,
		faults: []channel.Fault{{Channel: allimi.ChannelKakao, Kind: channel.FaultNotUser, Rate: 1}},
		setup: func(st fanoutSetup) {
			for id, region := range map[string]string{"jongno": "서울/종로구", "haeundae": "부산광역시/해운대구"} {
				_, err := st.AddKiosk(id)
				require.NoError(t, err)
				require.NoError(t, st.SetKioskRegion(id, region))
			}
			signUpAt(t, st, "jongno", day.Add(-24*time.Hour), seoul, allimi.ChannelKakao, allimi.ChannelSMS)
			signUpAt(t, st, "haeundae", day.Add(-24*time.Hour), busan, allimi.ChannelNaver)
		}})
	admin := f.keys.AdminToken

	var subs api.SubscriberStats
	getJSONAs(t, f.tc.http+"/api/v1/stats/subscribers", admin, &subs)
	assert.EqualValues(t, 5, subs.Total)
	byCh := map[allimi.Channel]api.ChannelSubscribers{}
	for _, c := range subs.Channels {
		byCh[c.Channel] = c
	}
	assert.EqualValues(t, 3, byCh[allimi.ChannelKakao].Subscribers)
	assert.EqualValues(t, 2, byCh[allimi.ChannelNaver].Subscribers)
	assert.EqualValues(t, 3, byCh[allimi.ChannelSMS].Subscribers)
	assert.Zero(t, byCh[allimi.ChannelToss].Subscribers)
	assert.Equal(t, 37.5, byCh[allimi.ChannelKakao].Share, "3 of the channels' 8")
	assert.Equal(t, 25.0, byCh[allimi.ChannelNaver].Share)
	assert.Equal(t, 60.0, byCh[allimi.ChannelSMS].OfPeople, "3 of 5 people")
	assert.Equal(t, "카카오톡", byCh[allimi.ChannelKakao].Name)

	code, created := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricSent, 3)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelNaver, notify.MetricSent, 2)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricFellBack, 3)
	assert.Zero(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricDeadLetter))
	assert.Len(t, f.fake.Messages(allimi.ChannelSMS), 3, "each by their own SMS, once")

	// Per day: the dispatcher's day, in KST.
	var m api.MessageStats
	getJSONAs(t, f.tc.http+"/api/v1/stats/messages?from=2026-11-20&to=2026-11-20&by=day", admin, &m)
	assert.Equal(t, "day", m.By)
	rows := map[allimi.Channel]api.MessageRow{}
	for _, r := range m.Rows {
		assert.Equal(t, "2026-11-20", r.Day)
		assert.Equal(t, allimi.TypeHealthCheckup, r.Type)
		assert.Equal(t, "국가건강검진", r.TypeName)
		rows[r.Channel] = r
	}
	assert.EqualValues(t, 3, rows[allimi.ChannelKakao].FellBack)
	assert.Zero(t, rows[allimi.ChannelKakao].Sent)
	assert.Zero(t, rows[allimi.ChannelKakao].DeadLetters)
	assert.EqualValues(t, 3, rows[allimi.ChannelSMS].Sent)
	assert.EqualValues(t, 2, rows[allimi.ChannelNaver].Sent)
	getJSONAs(t, f.tc.http+"/api/v1/stats/messages?from=2026-11-21&to=2026-11-30&by=day", admin, &m)
	assert.Empty(t, m.Rows, "another day")

	// Per region: the 시도 and 시군구 of the kiosk each person signed up at.
	getJSONAs(t, f.tc.http+"/api/v1/stats/messages?from=2026-11-01&to=2026-11-30&by=region", admin, &m)
	type where struct {
		sido, sigungu string
		ch            allimi.Channel
	}
	regions := map[where]api.MessageRow{}
	for _, r := range m.Rows {
		regions[where{r.Sido, r.Sigungu, r.Channel}] = r
	}
	assert.EqualValues(t, 3, regions[where{"서울특별시", "종로구", allimi.ChannelSMS}].Sent)
	assert.EqualValues(t, 3, regions[where{"서울특별시", "종로구", allimi.ChannelKakao}].FellBack)
	assert.Zero(t, regions[where{"서울특별시", "종로구", allimi.ChannelSMS}].DeliveredPct, "no receipts: 0 % delivered")
	assert.EqualValues(t, 2, regions[where{"부산광역시", "해운대구", allimi.ChannelNaver}].Sent)
	assert.Len(t, m.Rows, 3)

	// As CSV, by ?format=csv or by Accept.
	table := getCSV(t, f.tc.http+"/api/v1/stats/messages?from=2026-11-20&to=2026-11-20&by=region&format=csv", admin, "")
	require.Len(t, table, 4)
	assert.Equal(t, []string{"sido", "sigungu", "type", "typeName", "channel", "sent", "delivered", "failed", "fellBack", "deadLetters",
		"expired", "deliveredPct", "failedPct", "fellBackPct"}, table[0])
	assert.Contains(t, table, []string{"부산광역시", "해운대구", "health-checkup", "국가건강검진", "naver", "2", "0", "0", "0", "0", "0", "0.0", "0.0", "0.0"})
	table = getCSV(t, f.tc.http+"/api/v1/stats/subscribers", admin, "text/csv")
	assert.Equal(t, []string{"channel", "name", "subscribers", "share", "ofPeople"}, table[0])
	assert.Contains(t, table, []string{"kakao", "카카오톡", "3", "37.5", "60.0"})
	assert.Contains(t, table, []string{"total", "합계", "5", "", ""})

	// Staff only; a bad period is refused.
	for _, path := range []string{"/api/v1/stats/subscribers", "/api/v1/stats/messages"} {
		resp := getAs(t, f.tc.http+path, "")
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
	}
	for _, q := range []string{"from=2026-11-21&to=2026-11-20", "from=yesterday", "by=week"} {
		resp := getAs(t, f.tc.http+"/api/v1/stats/messages?"+q, admin)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
	}

	// The notification's channels.
	var n struct {
		ID         uint64                               `json:"id"`
		Status     string                               `json:"status"`
		Recipients int64                                `json:"recipients"`
		Deliveries int64                                `json:"deliveries"`
		Channels   map[allimi.Channel]api.ChannelStatus `json:"channels"`
	}
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/notifications/%v", f.tc.http, created["id"]), nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&n))
	resp.Body.Close()
	assert.EqualValues(t, 5, n.Recipients)
	assert.EqualValues(t, 8, n.Deliveries)
	assert.Equal(t, api.ChannelStatus{Deliveries: 3, FellBack: 3}, n.Channels[allimi.ChannelKakao])
	assert.Equal(t, api.ChannelStatus{Deliveries: 3, Sent: 3}, n.Channels[allimi.ChannelSMS])
	assert.Equal(t, api.ChannelStatus{Deliveries: 2, Sent: 2}, n.Channels[allimi.ChannelNaver])
	assert.NotContains(t, n.Channels, allimi.ChannelToss)

	var dl struct{ Total int }
	getJSONAs(t, f.tc.http+"/api/v1/deadletters", admin, &dl)
	assert.Zero(t, dl.Total, "a messenger's refusal of someone with SMS is no dead letter")

	// The open stats gain the people per channel; the page shows shares.
	var open struct {
		Subscribers          int64                    `json:"subscribers"`
		SubscribersByChannel map[allimi.Channel]int64 `json:"subscribersByChannel"`
	}
	getJSONAs(t, f.tc.http+"/api/v1/stats", "", &open)
	assert.EqualValues(t, 5, open.Subscribers)
	assert.EqualValues(t, 2, open.SubscribersByChannel[allimi.ChannelNaver])
	page := getAs(t, f.tc.http+"/stats", "")
	defer page.Body.Close()
	body, err := io.ReadAll(page.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), `<td class="l">카카오톡</td><td>3</td><td>37.5 %</td>`)
}
