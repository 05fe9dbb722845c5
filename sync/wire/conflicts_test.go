package wire

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// v1ConflictReply is a reply to conflicts.list as central has sent it to
// kiosks since v1.
const v1ConflictReply = `{"v":1,"id":"a","ok":true,"conflicts":[{"id":7,"name":"최*자","mobile":"010-****-4821",` +
	`"type":"vaccination","channel":"kakao","grantAt":"2026-03-14T09:58:12Z","withdrawAt":"2026-03-14T09:59:12Z"}]}`

// TestReply_ConflictsTravelInTheV1SummaryShape: central's conflicts go to
// a kiosk byte for byte as v1 kiosks read them (the masked person and when
// each side was recorded, nothing of the kiosks or officials), and a kiosk
// reads a v1 central's reply into the same allimi.Conflict.
func TestReply_ConflictsTravelInTheV1SummaryShape(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 58, 12, 0, time.UTC)
	c := allimi.Conflict{ID: 7, Type: allimi.TypeVaccination, Channel: allimi.ChannelKakao, Name: "최*자", Mobile: "010-****-4821",
		Grant:      allimi.ConsentRef{Kiosk: "centre-a", Seq: 3, At: at, By: allimi.Actor{Kind: allimi.ActorOfficial, Official: "o-7", Method: allimi.MethodSpoken}},
		Withdrawal: allimi.ConsentRef{Kiosk: "centre-b", Seq: 9, At: at.Add(time.Minute), By: allimi.Actor{Kind: allimi.ActorSelf}},
		DetectedAt: at.Add(2 * time.Minute)}
	b, err := json.Marshal(Reply{V: 1, ID: "a", OK: true, Conflicts: []allimi.Conflict{c}})
	require.NoError(t, err)
	assert.Equal(t, v1ConflictReply, string(b))

	rep, err := DecodeReply([]byte(v1ConflictReply))
	require.NoError(t, err)
	require.Len(t, rep.Conflicts, 1)
	got := rep.Conflicts[0]
	assert.Equal(t, allimi.Conflict{ID: 7, Type: allimi.TypeVaccination, Channel: allimi.ChannelKakao, Name: "최*자", Mobile: "010-****-4821",
		Grant: allimi.ConsentRef{At: at}, Withdrawal: allimi.ConsentRef{At: at.Add(time.Minute)}}, got)
}

func TestReply_WithoutConflictsHasNoConflictsField(t *testing.T) {
	for name, cs := range map[string][]allimi.Conflict{"nil": nil, "empty": {}} {
		b, err := json.Marshal(Reply{V: 1, ID: "a", OK: true, Conflicts: cs})
		require.NoError(t, err)
		assert.Equal(t, `{"v":1,"id":"a","ok":true}`, string(b), name)
	}
	rep, err := DecodeReply([]byte(`{"v":1,"id":"a","ok":true,"conflicts":null}`))
	require.NoError(t, err)
	assert.Nil(t, rep.Conflicts)
}
