package consult

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func smallKB() KB {
	return KB{Provenance: "test", Entries: []Entry{
		{ID: "a1", Question: "주거급여 신청", Answer: "주민센터\n\n" + StandardCaveat, Keywords: []string{"주거급여"}, Agency: "1140100", Caveat: StandardCaveat},
		{ID: "b2", Question: "여권 분실", Answer: "신고 <하세요>", Source: "외교부"},
	}}
}

func TestCatalog_RoundTrip(t *testing.T) {
	kb := smallKB()
	body, err := EncodeCatalog(kb)
	require.NoError(t, err)
	again, err := EncodeCatalog(kb)
	require.NoError(t, err)
	assert.Equal(t, body, again, "deterministic")
	assert.Contains(t, string(body), "<하세요>", "HTML is not escaped")
	got, err := DecodeCatalog(body)
	require.NoError(t, err)
	assert.Equal(t, kb, got)
	viaLoad, err := LoadKB(body)
	require.NoError(t, err)
	assert.Equal(t, kb, viaLoad)
}

func TestCatalog_EmptyKB(t *testing.T) {
	body, err := EncodeCatalog(KB{})
	require.NoError(t, err)
	assert.Contains(t, string(body), `"entries": []`)
	kb, err := DecodeCatalog(body)
	require.NoError(t, err)
	assert.Empty(t, kb.Entries)
}

func TestDecodeCatalog_Errors(t *testing.T) {
	good, err := EncodeCatalog(smallKB())
	require.NoError(t, err)
	for _, tc := range []struct {
		name, in, says string
		is             error
	}{
		{"not JSON", "{\n\"format\": \"allimi-consult-kb\",\n\"v\": 1,\n\"entries\": [}", "line 4", ErrMalformedKB},
		{"other format", `{"format":"subsidy24","v":1,"entries":[]}`, `format "subsidy24"`, ErrMalformedKB},
		{"later version", `{"format":"allimi-consult-kb","v":2,"entries":[]}`, "v=2", ErrMalformedKB},
		{"data after", string(good) + "{}", "data after the JSON object", ErrMalformedKB},
		{"wrong type", `{"format":"allimi-consult-kb","v":1,"entries":[{"id":5}]}`, "field entries.id", ErrMalformedKB},
		{"duplicate ids", `{"format":"allimi-consult-kb","v":1,"entries":[{"id":"x","question":"q","answer":"a"},{"id":"x","question":"q","answer":"b"}]}`, "entries[0] and entries[1]: id x", ErrDuplicateID},
		{"missing answer", `{"format":"allimi-consult-kb","v":1,"entries":[{"id":"x","question":"q"}]}`, "entry x: answer is empty", ErrInvalidEntry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeCatalog([]byte(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
			assert.ErrorIs(t, err, tc.is)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
		})
	}
}

func TestEncodeCatalog_RefusesInvalid(t *testing.T) {
	_, err := EncodeCatalog(KB{Entries: []Entry{{ID: "x", Question: "q"}}})
	assert.ErrorIs(t, err, ErrInvalidEntry)
}

func TestLoadKB_BothForms(t *testing.T) {
	kb, err := LoadKB([]byte(twoCases))
	require.NoError(t, err)
	assert.Len(t, kb.Entries, 2)
	assert.Empty(t, kb.Provenance)
	for _, bad := range []string{"", "  ", "nonsense", "42"} {
		_, err := LoadKB([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformedKB, "%q", bad)
	}
}

func TestKB_Apply(t *testing.T) {
	kb := smallKB()
	before, err := EncodeCatalog(kb)
	require.NoError(t, err)
	added := Entry{
		ID:       "central-2026-0001",
		Question: " 경로당 <b>냉방비</b> 지원 ",
		Answer:   "■ 지원<br />- 여름철<br /><br />※ 본 내용은 정책 변경에 따라 수정되거나 종료될 수 있습니다.",
		Keywords: []string{"경로당", " 경로당", "냉방비"},
	}
	out, err := kb.Apply(Update{Add: []Entry{added}, Retire: []string{"b2"}})
	require.NoError(t, err)
	require.Len(t, out.Entries, 3)
	assert.True(t, out.Entries[1].Retired)
	got := out.Entries[2]
	assert.Equal(t, "경로당 냉방비 지원", got.Question)
	assert.Equal(t, "■ 지원\n- 여름철\n\n"+StandardCaveat, got.Answer)
	assert.Equal(t, []string{"경로당", "냉방비"}, got.Keywords)
	assert.Equal(t, StandardCaveat, got.Caveat)
	after, err := EncodeCatalog(kb)
	require.NoError(t, err)
	assert.Equal(t, before, after, "Apply leaves the original alone")

	ix, err := NewIndex(out, DefaultLexicon())
	require.NoError(t, err)
	r, err := ix.Search("경로당 냉방비", 3)
	require.NoError(t, err)
	require.NotEmpty(t, r.Answers)
	assert.Equal(t, "central-2026-0001", r.Answers[0].ID)
	r, err = ix.Search("여권 분실", 3)
	require.NoError(t, err)
	for _, a := range r.Answers {
		assert.NotEqual(t, "b2", a.ID, "retired")
	}
}

func TestKB_ApplyErrors(t *testing.T) {
	kb := smallKB()
	kb.Entries[1].Retired = true
	for _, tc := range []struct {
		name string
		u    Update
		says string
		is   error
	}{
		{"id in use", Update{Add: []Entry{{ID: "a1", Question: "q", Answer: "a"}}}, "add[0]: id a1 is already", ErrDuplicateID},
		{"id of a retired entry", Update{Add: []Entry{{ID: "b2", Question: "q", Answer: "a"}}}, "never reused", ErrDuplicateID},
		{"twice in one update", Update{Add: []Entry{{ID: "n", Question: "q", Answer: "a"}, {ID: "n", Question: "q", Answer: "a"}}}, "add[1]", ErrDuplicateID},
		{"no answer", Update{Add: []Entry{{ID: "n", Question: "q", Answer: "<br />"}}}, "answer is empty", ErrInvalidEntry},
		{"bad id", Update{Add: []Entry{{ID: "새 항목", Question: "q", Answer: "a"}}}, "entry id", ErrInvalidEntry},
		{"retire unknown", Update{Retire: []string{"zz"}}, `retire[0]: id "zz"`, ErrUnknownEntry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := kb.Apply(tc.u)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
			assert.ErrorIs(t, err, tc.is)
			assert.Equal(t, kb, out, "unchanged on error")
		})
	}
	// Retiring again, or retiring what the same update adds, is fine.
	out, err := kb.Apply(Update{Add: []Entry{{ID: "n", Question: "q", Answer: "a"}}, Retire: []string{"b2", "n"}})
	require.NoError(t, err)
	assert.True(t, out.Entries[2].Retired)
	assert.Len(t, out.Active(), 1)
	body, err := EncodeCatalog(out)
	require.NoError(t, err)
	assert.True(t, bytes.Contains(body, []byte(`"retired": true`)))
}
