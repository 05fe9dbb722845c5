package central_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/notify"
)

// movable is a clock a test moves on while central runs.
type movable struct{ off atomic.Int64 }

func (m *movable) now() time.Time          { return time.Now().Add(time.Duration(m.off.Load())) }
func (m *movable) advance(d time.Duration) { m.off.Add(int64(d)) }

// call sends an agency's request to central and decodes the answer.
func (f *fanout) call(t *testing.T, method, path, body, idem string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.tc.http+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// steps are an enrolment's steps by name.
func steps(t *testing.T, v map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, ok := v["steps"].([]any)
	require.True(t, ok, "%v", v)
	for _, s := range list {
		m := s.(map[string]any)
		out[m["step"].(string)] = m
	}
	return out
}

func (f *fanout) waitStep(t *testing.T, id, step, state string) map[string]map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, v := f.call(t, http.MethodGet, "/api/v1/programs/enrolments/"+id, "", "")
		require.Equal(t, http.StatusOK, code, v)
		s := steps(t, v)
		if s[step]["state"] == state || time.Now().After(deadline) {
			require.Equal(t, state, s[step]["state"], "%s of %s", step, id)
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A check-up program over HTTP, on either store: the notice goes at once
// to the person's app in the step's own words, the reminders come when
// their day comes (the clock moved on), and nothing is sent twice.
func TestPrograms_CheckupSendsTheNoticeThenTheRemindersOnTheirDay(t *testing.T) {
	for _, store := range []string{"bolt", "postgres"} {
		t.Run(store, func(t *testing.T) {
			clock := &movable{}
			f := newFanout(t, fanoutOptions{people: 2, now: clock.now, postgres: store == "postgres"})
			p := f.people[0]
			due := clock.now().AddDate(0, 0, 90).In(allimi.KST)
			body := fmt.Sprintf(`{"citizen":{"mobile":%q,"birthDate":%q},"anchors":{"due":%q}}`, p.Mobile, p.BirthDate, due.Format(time.RFC3339))
			code, v := f.call(t, http.MethodPost, "/api/v1/programs/health-checkup/enrolments", body, "nhis-2027-kim")
			require.Equal(t, http.StatusCreated, code, v)
			id, _ := v["id"].(string)
			require.NotEmpty(t, id)
			s := steps(t, v)
			assert.Equal(t, "sent", s["notice"]["state"])
			assert.Equal(t, "scheduled", s["remind60"]["state"])
			remind60, err := time.Parse(time.RFC3339, s["remind60"]["due"].(string))
			require.NoError(t, err)
			assert.Equal(t, "10:00", remind60.In(allimi.KST).Format("15:04"))

			f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 1)
			msgs := f.fake.Messages(allimi.ChannelKakao)
			require.Len(t, msgs, 1)
			assert.Equal(t, p.Mobile, msgs[0].Recipient)
			assert.Contains(t, msgs[0].Text, p.Name+"님은 "+fmt.Sprint(due.Year())+"년 국가건강검진 대상자입니다")
			assert.Contains(t, msgs[0].Text, "http://"+f.tc.cfg.HTTP+"/n/", "the link follows --http")

			code, again := f.call(t, http.MethodPost, "/api/v1/programs/health-checkup/enrolments", body, "nhis-2027-kim")
			require.Equal(t, http.StatusOK, code, again)
			assert.Equal(t, id, again["id"])

			clock.advance(remind60.Sub(clock.now()) + time.Minute)
			f.waitStep(t, id, "remind60", "sent")
			f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 2)
			msgs = f.fake.Messages(allimi.ChannelKakao)
			require.Len(t, msgs, 2)
			assert.Contains(t, msgs[1].Text, "국가건강검진 두 달 남음", "the step's own words")

			// The person had the check-up: the last reminder is dropped.
			code, v = f.call(t, http.MethodPost, "/api/v1/programs/enrolments/"+id+"/events", `{"event":"examined"}`, "")
			require.Equal(t, http.StatusOK, code, v)
			assert.Equal(t, "cancelled", steps(t, v)["remind14"]["state"])
			clock.advance(60 * 24 * time.Hour)
			time.Sleep(1500 * time.Millisecond) // the scheduler's longest sleep
			assert.Len(t, f.fake.Messages(allimi.ChannelKakao), 2, "nothing after the end")
		})
	}
}

// The vaccination program's contract: seven steps, the event steps
// without a due time until their event; an event sends its steps at once;
// new anchors move what is not sent; DELETE cancels the rest.
func TestPrograms_VaccinationContract(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 1})
	dose1 := time.Now().AddDate(0, 0, 3).In(allimi.KST).Truncate(time.Hour)
	dose2 := dose1.AddDate(0, 0, 28)
	body := fmt.Sprintf(`{"citizen":{"mobile":"010-2222-3333","birthDate":"1950-01-02"},"anchors":{"dose1":%q,"dose2":%q},"params":{"place":"종로구 보건소"}}`,
		dose1.Format(time.RFC3339), dose2.Format(time.RFC3339))
	code, v := f.call(t, http.MethodPost, "/api/v1/programs/vaccination/enrolments", body, "")
	require.Equal(t, http.StatusCreated, code, v)
	id := v["id"].(string)
	s := steps(t, v)
	require.Len(t, s, 7)
	assert.Equal(t, "sent", s["appointment"]["state"])
	for _, ev := range []string{"dose1.result", "dose1.adverse-effects", "dose2.result", "dose2.adverse-effects"} {
		assert.Nil(t, s[ev]["due"], "%s waits for its event", ev)
		assert.Equal(t, "scheduled", s[ev]["state"], ev)
	}
	day := dose1.AddDate(0, 0, -1)
	assert.Equal(t, time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, allimi.KST).UTC().Format(time.RFC3339), s["dose1.reminder"]["due"])

	code, v = f.call(t, http.MethodPost, "/api/v1/programs/enrolments/"+id+"/events", `{"event":"dose1.administered","params":{"vaccine":"화이자"}}`, "")
	require.Equal(t, http.StatusOK, code, v)
	s = steps(t, v)
	assert.Equal(t, "sent", s["dose1.result"]["state"])
	assert.Equal(t, "sent", s["dose1.adverse-effects"]["state"])
	assert.Equal(t, "scheduled", s["dose2.result"]["state"])

	later := dose2.AddDate(0, 0, 7)
	code, v = f.call(t, http.MethodPatch, "/api/v1/programs/enrolments/"+id, fmt.Sprintf(`{"anchors":{"dose2":%q}}`, later.Format(time.RFC3339)), "")
	require.Equal(t, http.StatusOK, code, v)
	day = later.AddDate(0, 0, -1)
	assert.Equal(t, time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, allimi.KST).UTC().Format(time.RFC3339), steps(t, v)["dose2.reminder"]["due"])

	code, v = f.call(t, http.MethodGet, "/api/v1/programs/enrolments/"+id, "", "")
	require.Equal(t, http.StatusOK, code)
	code, v = f.call(t, http.MethodDelete, "/api/v1/programs/enrolments/"+id, "", "")
	require.Equal(t, http.StatusOK, code, v)
	s = steps(t, v)
	assert.Equal(t, "cancelled", s["dose2.reminder"]["state"])
	assert.Equal(t, "cancelled", s["dose2.result"]["state"])
	assert.Equal(t, "sent", s["appointment"]["state"], "what was sent stays sent")

	code, v = f.call(t, http.MethodPost, "/api/v1/programs/enrolments/"+id+"/events", `{"event":"dose2.administered"}`, "")
	assert.Equal(t, http.StatusConflict, code, v)
}

// Bad requests get a clear error naming what is wrong, and store nothing.
func TestPrograms_BadRequestsAreRefusedClearly(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 1})
	dose1 := time.Now().AddDate(0, 0, 3).Format(time.RFC3339)
	for _, c := range []struct {
		name, path, body, field string
		code                    int
	}{
		{"unknown program", "/api/v1/programs/hair-cut/enrolments", `{}`, "", http.StatusNotFound},
		{"unknown field", "/api/v1/programs/vaccination/enrolments", `{"citizen":{"mobile":"010-2222-3333","birthDate":"1950-01-02"},"anchors":{"dose1":"` + dose1 + `"},"colour":"red"}`, "body", http.StatusBadRequest},
		{"trailing data", "/api/v1/programs/vaccination/enrolments", `{"citizen":{"mobile":"010-2222-3333","birthDate":"1950-01-02"},"anchors":{"dose1":"` + dose1 + `"}} {}`, "body", http.StatusBadRequest},
		{"bad date of birth", "/api/v1/programs/vaccination/enrolments", `{"citizen":{"mobile":"010-2222-3333","birthDate":"1950-02-30"},"anchors":{"dose1":"` + dose1 + `"}}`, "citizen.birthDate", http.StatusBadRequest},
		{"anchor not RFC 3339", "/api/v1/programs/vaccination/enrolments", `{"citizen":{"mobile":"010-2222-3333","birthDate":"1950-01-02"},"anchors":{"dose1":"next week"}}`, "anchors.dose1", http.StatusBadRequest},
		{"no such enrolment", "/api/v1/programs/enrolments/nope/events", `{"event":"paid"}`, "", http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, v := f.call(t, http.MethodPost, c.path, c.body, "")
			assert.Equal(t, c.code, code, v)
			assert.NotEmpty(t, v["error"])
			if c.field != "" {
				assert.Equal(t, c.field, v["field"], v)
			}
		})
	}
	// Another agency's token does not see it; no token is a 401.
	_, v := f.call(t, http.MethodPost, "/api/v1/programs/vaccination/enrolments",
		`{"citizen":{"mobile":"010-2222-3333","birthDate":"1950-01-02"},"anchors":{"dose1":"`+dose1+`"}}`, "")
	id := v["id"].(string)
	req, _ := http.NewRequest(http.MethodGet, f.tc.http+"/api/v1/programs/enrolments/"+id, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	// The agency's policy holds: nhis may not send licence renewals.
	code, v := f.call(t, http.MethodPost, "/api/v1/programs/licence-renewal/enrolments",
		`{"citizen":{"mobile":"010-2222-3333","birthDate":"1950-01-02"},"anchors":{"due":"`+dose1+`"}}`, "")
	assert.Equal(t, http.StatusForbidden, code, v)
	assert.Len(t, f.fake.Messages(""), 0, "the person is not subscribed: nothing went out")
}
