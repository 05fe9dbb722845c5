package allimi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// storedConflict is a conflict as central's store has kept it since the
// first build: the person only under their key, no name or number.
const storedConflict = `{"id":7,"type":"vaccination","channel":"kakao",` +
	`"grant":{"kiosk":"centre-a","seq":3,"at":"2026-03-14T09:58:12Z","by":{"kind":"official","official":"o-7","method":"spoken"}},` +
	`"withdrawal":{"kiosk":"centre-b","seq":9,"at":"2026-03-14T09:59:12Z","by":{"kind":"self"}},` +
	`"detectedAt":"2026-03-14T10:00:12Z","citizenKey":"AQID"}`

// TestConflict_ShownKeepsTheShapeOfTheConflictList: a stored conflict, shown
// to an official, is byte for byte the entry GET /api/v1/conflicts has
// always answered: the person masked, their key gone.
func TestConflict_ShownKeepsTheShapeOfTheConflictList(t *testing.T) {
	var c allimi.Conflict
	require.NoError(t, json.Unmarshal([]byte(storedConflict), &c))
	assert.Equal(t, []byte{1, 2, 3}, c.CitizenKey)

	open := c.Shown(allimi.Citizen{Name: "최민자", Mobile: "010-5555-4821", BirthDate: "1946-05-05"})
	b, err := json.Marshal(open)
	require.NoError(t, err)
	assert.Equal(t, `{"id":7,"type":"vaccination","channel":"kakao",`+
		`"grant":{"kiosk":"centre-a","seq":3,"at":"2026-03-14T09:58:12Z","by":{"kind":"official","official":"o-7","method":"spoken"}},`+
		`"withdrawal":{"kiosk":"centre-b","seq":9,"at":"2026-03-14T09:59:12Z","by":{"kind":"self"}},`+
		`"detectedAt":"2026-03-14T10:00:12Z","name":"최*자","mobile":"010-****-4821"}`, string(b))
	assert.NotNil(t, c.CitizenKey, "Shown works on a copy")

	c.Resolved = &allimi.Resolution{Decision: allimi.ActionGrant, Official: "k1/o-1", At: time.Date(2026, 3, 14, 10, 58, 12, 0, time.UTC)}
	b, err = json.Marshal(c.Shown(allimi.Citizen{Name: "최민자", Mobile: "010-5555-4821"}))
	require.NoError(t, err)
	assert.Equal(t, `{"id":7,"type":"vaccination","channel":"kakao",`+
		`"grant":{"kiosk":"centre-a","seq":3,"at":"2026-03-14T09:58:12Z","by":{"kind":"official","official":"o-7","method":"spoken"}},`+
		`"withdrawal":{"kiosk":"centre-b","seq":9,"at":"2026-03-14T09:59:12Z","by":{"kind":"self"}},`+
		`"detectedAt":"2026-03-14T10:00:12Z","resolved":{"decision":"grant","official":"k1/o-1","at":"2026-03-14T10:58:12Z"},`+
		`"name":"최*자","mobile":"010-****-4821"}`, string(b))
	for _, secret := range []string{"최민자", "5555", "1946-05-05", "AQID"} {
		assert.NotContains(t, string(b), secret)
	}
}
