package consult

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/assets"
)

func TestStripHTML(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"br becomes a line break", "■ 문의처<br />- 보건복지부 129 <br /><br />※ 끝", "■ 문의처\n- 보건복지부 129\n\n※ 끝"},
		{"br variants", "a<br>b<BR/>c<br  />d", "a\nb\nc\nd"},
		{"entities are decoded", "&lt;개정&gt; &amp; &#49464;&#xAE08; &quot;x&quot;", "<개정> & 세금 \"x\""},
		{"text in angle brackets stays", "<자료출처 : 국가데이터처 홈페이지(https://kostat.go.kr)><br /><1차>", "<자료출처 : 국가데이터처 홈페이지(https://kostat.go.kr)>\n<1차>"},
		{"ampersands without semicolons stay", "R&D 사업, https://x.kr/?a=1&boardId=2&not=3", "R&D 사업, https://x.kr/?a=1&boardId=2&not=3"},
		{"inline tags go", "<b>굵게</b> <a href=\"https://x\">링크</a>", "굵게 링크"},
		{"at most one blank line", "a<br /><br /><br /><br />b", "a\n\nb"},
		{"indentation stays, trailing spaces go", "■ 문의처<br />   - 110   <br />", "■ 문의처\n   - 110"},
		{"invisible characters go", "a\u200bb\uf09ec", "abc"},
		{"text becomes NFC", "\u1112\u1161\u11ab", "한"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, stripHTML(tc.in))
		})
	}
}

func TestFindCaveat(t *testing.T) {
	assert.Equal(t, StandardCaveat, findCaveat("■ 문의처\n- 110\n\n※ 본 내용은 정책 변경에 따라 수정되거나 종료될 수 있습니다."))
	assert.Equal(t, StandardCaveat, findCaveat("■ x\n\n※ 본 내용은 정책 변경에 따\n- 다자녀 전기료 경감"), "a caveat cut short is the standard one")
	assert.Equal(t, "※ 이 내용은 정책 변경에 따라 바뀝니다.", findCaveat("- 110 ※ 이 내용은 정책 변경에 따라 바뀝니다."))
	assert.Equal(t, "", findCaveat("■ 문의처\n- 110"))
}

const twoCases = `[
 {"recordId":"aa01","consQustCntn":"주거급여 신청<br />방법","nobdAnsrCntn":"■ 신청<br />- 주민센터<br /><br />※ 본 내용은 정책 변경에 따라 수정되거나 종료될 수 있습니다.<br />","kywdNm":"주거급여, 주거급여 신청,주거급여,  ","datSourceNm":" ","inttCode":"1140100"},
 {"recordId":"bb02","consQustCntn":"여권 분실","nobdAnsrCntn":"분실 신고","kywdNm":"여권분실","datSourceNm":"외교부","inttCode":"1260000"}
]`

func TestParseCallCases(t *testing.T) {
	entries, err := ParseCallCases([]byte(twoCases))
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, Entry{
		ID:       "aa01",
		Question: "주거급여 신청 방법",
		Answer:   "■ 신청\n- 주민센터\n\n" + StandardCaveat,
		Keywords: []string{"주거급여", "주거급여 신청"},
		Agency:   "1140100",
		Caveat:   StandardCaveat,
	}, entries[0])
	assert.Equal(t, "외교부", entries[1].Source)
	assert.Empty(t, entries[1].Caveat)
}

func TestParseCallCases_Errors(t *testing.T) {
	for _, tc := range []struct {
		name, in, says string
		is             error
	}{
		{"not JSON", "[{\"recordId\": \"a\",\n \"consQustCntn\": }]", "line 2", ErrMalformedKB},
		{"not an array", `{"recordId":"a"}`, "call cases", ErrMalformedKB},
		{"id of the wrong type", `[{"recordId":7,"consQustCntn":"q","nobdAnsrCntn":"a"}]`, "record 0: field recordId", ErrMalformedKB},
		{"missing answer", `[{"recordId":"a","consQustCntn":"q"}]`, "record 0: recordId, consQustCntn and nobdAnsrCntn are required", ErrMalformedKB},
		{"empty question", `[{"recordId":"a","consQustCntn":" <br /> ","nobdAnsrCntn":"x"}]`, "entry a: question is empty", ErrInvalidEntry},
		{"bad id", `[{"recordId":"a b","consQustCntn":"q","nobdAnsrCntn":"x"}]`, `entry id "a b"`, ErrInvalidEntry},
		{"duplicate ids", `[{"recordId":"a","consQustCntn":"q","nobdAnsrCntn":"x"},{"recordId":"b","consQustCntn":"q","nobdAnsrCntn":"x"},{"recordId":"a","consQustCntn":"q2","nobdAnsrCntn":"y"}]`, "entries[0] and entries[2]: id a", ErrDuplicateID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCallCases([]byte(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
			assert.ErrorIs(t, err, tc.is)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
		})
	}
}

func TestEmbeddedKB(t *testing.T) {
	kb, err := DecodeCatalog(assets.ConsultKB())
	require.NoError(t, err)
	assert.Len(t, kb.Entries, 531)
	assert.Equal(t, CallCasesProvenance, kb.Provenance)
	assert.Contains(t, assets.ConsultProvenance(), "dev-samuel-codes/policy_risk_persona_simulator (data/raw/qna_calls/)")
	hexID := regexp.MustCompile(`^[0-9a-f]{64}$`)
	caveats := 0
	for _, e := range kb.Entries {
		assert.Regexp(t, hexID, e.ID)
		assert.NotContains(t, e.Answer, "<br", e.ID)
		assert.NotContains(t, e.Question, "\n", e.ID)
		assert.False(t, e.Retired, e.ID)
		if e.Caveat != "" {
			caveats++
			assert.Contains(t, e.Answer, "정책 변경에 따", e.ID)
		}
	}
	assert.Equal(t, 522, caveats, "answers with the policy caveat")
}

// The embedded catalog is what kbimport makes of the shared export, when
// the export is there to compare with (it is not part of the product).
func TestEmbeddedKBIsUpToDate(t *testing.T) {
	src := filepath.Join("..", "..", "shared", "data", "consult", "qna_call_cases.json")
	export, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not here: nothing to compare with", src)
	}
	require.NoError(t, err)
	body, err := ImportCallCases(export)
	require.NoError(t, err)
	if !bytes.Equal(body, assets.ConsultKB()) {
		t.Fatalf("assets/consult/kb.json is stale: run go generate ./assets")
	}
	again, err := ImportCallCases(export)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(body, again), "the import is deterministic")
	assert.True(t, strings.HasSuffix(string(body), "\n"))
}
