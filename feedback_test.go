package allimi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func feedbackEvent(t *testing.T, c allimi.Citizen, payload string) allimi.Event {
	t.Helper()
	return allimi.Event{V: 1, Kiosk: "k1", Seq: 1, HLC: 1 << 16, Kind: allimi.KindFeedback, Citizen: c, Payload: json.RawMessage(payload)}
}

func TestEvent_FeedbackNamesAnEntryAndNobody(t *testing.T) {
	now := time.Now()
	e := feedbackEvent(t, allimi.Citizen{}, `{"entry":"648db3e80eb1","helpful":true}`)
	require.NoError(t, e.Validate(now))
	f, err := e.Feedback()
	require.NoError(t, err)
	assert.Equal(t, allimi.FeedbackPayload{Entry: "648db3e80eb1", Helpful: true}, f)

	for name, tc := range map[string]struct {
		c       allimi.Citizen
		payload string
		want    string
	}{
		"a person":     {allimi.Citizen{Name: "김순자", Mobile: "010-1234-5678", BirthDate: "1948-03-01"}, `{"entry":"a","helpful":true}`, "names nobody"},
		"no entry":     {allimi.Citizen{}, `{"helpful":true}`, "payload.entry"},
		"odd entry":    {allimi.Citizen{}, `{"entry":"../../etc","helpful":true}`, "payload.entry"},
		"the question": {allimi.Citizen{}, `{"entry":"a","helpful":true,"question":"집세 보태 주는 거"}`, "unknown field"},
		"not JSON":     {allimi.Citizen{}, `{"entry":`, "payload"},
	} {
		e := feedbackEvent(t, tc.c, tc.payload)
		err := e.Validate(now)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, allimi.ErrInvalid, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
}
