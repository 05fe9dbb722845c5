package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runConsultCmd runs `allimi consult args...` and returns what it printed.
func runConsultCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	c := consultCmd()
	c.SilenceUsage, c.SilenceErrors = true, true
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs(args)
	err := c.Execute()
	return out.String(), err
}

func TestConsultCmd_JSON(t *testing.T) {
	out, err := runConsultCmd(t, "--json", "--top", "2", "집세 보태 주는 거 있어요?")
	require.NoError(t, err)
	var raw map[string][]map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	require.Len(t, raw, 1, "only answers: %s", out)
	answers := raw["answers"]
	require.Len(t, answers, 2)
	for _, a := range answers {
		assert.Len(t, a, 4, "id, score, question, answer: %v", a)
		id, ok := a["id"].(string)
		assert.True(t, ok, "the recordId is a string, as in the KB")
		assert.Len(t, id, 64)
		_, ok = a["score"].(float64)
		assert.True(t, ok)
		assert.NotEmpty(t, a["question"])
		assert.NotEmpty(t, a["answer"])
	}
	assert.Contains(t, answers[0]["question"], "주거급여")
	assert.NotContains(t, out, `\u003c`, "HTML characters are not escaped")
}

func TestConsultCmd_Text(t *testing.T) {
	out, err := runConsultCmd(t, "--top", "1", "해파리", "신고는", "어디서", "해요")
	require.NoError(t, err, "the words of the question may come as separate arguments")
	assert.Contains(t, out, "1. 해파리 신고")
	assert.Contains(t, out, "정책 변경에 따라", "the caveat is kept")
}

func TestConsultCmd_NoAnswer(t *testing.T) {
	out, err := runConsultCmd(t, "--json", "?!")
	require.NoError(t, err)
	assert.JSONEq(t, `{"answers":[]}`, out)
}

func TestConsultCmd_UsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"--json", ""}, {"  "}, {"--top", "0", "여권"}, {"--kb", filepath.Join(t.TempDir(), "missing.json"), "여권"}} {
		_, err := runConsultCmd(t, args...)
		require.Error(t, err, "%q", args)
		assert.Equal(t, 2, exitCode(err), "%q: %v", args, err)
	}
}

func TestConsultCmd_OtherKB(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "cases.json")
	require.NoError(t, os.WriteFile(export, []byte(`[
 {"recordId":"r-1","consQustCntn":"경로당 냉방비 지원","nobdAnsrCntn":"■ 여름철<br />- 주민센터","kywdNm":"경로당","datSourceNm":" ","inttCode":"1"},
 {"recordId":"r-2","consQustCntn":"여권 분실","nobdAnsrCntn":"분실 신고","kywdNm":"여권","datSourceNm":"","inttCode":"2"}
]`), 0o600))
	out, err := runConsultCmd(t, "--kb", export, "--json", "--top", "1", "경로당 에어컨 전기료")
	require.NoError(t, err)
	var got struct {
		Answers []consultAnswer `json:"answers"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Answers, 1)
	assert.Equal(t, "r-1", got.Answers[0].ID)
	assert.Equal(t, "■ 여름철\n- 주민센터", got.Answers[0].Answer)

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`[{"recordId":"a","consQustCntn":"q","nobdAnsrCntn":"x"},{"recordId":"a","consQustCntn":"q","nobdAnsrCntn":"y"}]`), 0o600))
	_, err = runConsultCmd(t, "--kb", bad, "여권")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "duplicate entry id")
	assert.Equal(t, 1, exitCode(err), "a bad file is not a typing error")
}

func TestConsultCmd_Eval(t *testing.T) {
	out, err := runConsultCmd(t, "eval", "--json")
	require.NoError(t, err)
	var ev struct {
		Entries   int `json:"entries"`
		Retriever map[string]struct {
			Top1 float64 `json:"top1"`
			Top3 float64 `json:"top3"`
		} `json:"retriever"`
		BM25 map[string]struct {
			Top1 float64 `json:"top1"`
		} `json:"bm25"`
		NsPerQuery float64 `json:"nsPerQuery"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &ev))
	assert.Equal(t, 531, ev.Entries)
	for _, split := range []string{"dev", "test"} {
		assert.Greater(t, ev.Retriever[split].Top1, ev.BM25[split].Top1, split)
	}
	assert.Greater(t, ev.NsPerQuery, 0.0)

	md, err := runConsultCmd(t, "eval")
	require.NoError(t, err)
	assert.Contains(t, md, "| test |")
	assert.Contains(t, md, "BM25")
}
