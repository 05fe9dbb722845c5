package consult

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func TestFeedback_Validate(t *testing.T) {
	assert.NoError(t, Feedback{EntryID: "648db3e80eb13948c51cc41811643dee9b3103654b7ded1fd5ec5bc6430f3a1e", Helpful: true}.Validate())
	for _, id := range []string{"", " a", "a/b", "-a", string(make([]byte, MaxIDLength+1))} {
		err := Feedback{EntryID: id}.Validate()
		assert.ErrorIs(t, err, ErrInvalidEntry, "%q", id)
		assert.ErrorIs(t, err, allimi.ErrInvalid)
	}
}

func TestFeedback_JSON(t *testing.T) {
	b, err := json.Marshal(Feedback{EntryID: "a1", Helpful: false})
	require.NoError(t, err)
	assert.JSONEq(t, `{"entryId":"a1","helpful":false}`, string(b))
}

func TestKB_CheckFeedback(t *testing.T) {
	kb := KB{Entries: []Entry{
		{ID: "live", Question: "q", Answer: "a"},
		{ID: "old", Question: "q", Answer: "a", Retired: true},
	}}
	assert.NoError(t, kb.CheckFeedback(Feedback{EntryID: "live", Helpful: true}))
	assert.NoError(t, kb.CheckFeedback(Feedback{EntryID: "old"}), "a retired entry still takes feedback")
	err := kb.CheckFeedback(Feedback{EntryID: "gone"})
	assert.ErrorIs(t, err, ErrUnknownEntry)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	assert.ErrorIs(t, kb.CheckFeedback(Feedback{EntryID: "a b"}), ErrInvalidEntry)
}
