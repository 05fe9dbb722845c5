package channel

import (
	"encoding/json"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParams_JSONKeepsTheTemplateOrder(t *testing.T) {
	p := ParamsOf("name", "홍길동", "year", "2026", "link", "http://x/n/AB\"C")
	b, err := jsonv2.Marshal(p, wireOptions)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"홍길동","year":"2026","link":"http://x/n/AB\"C"}`, string(b))

	v1, err := json.Marshal(struct {
		P Params `json:"p"`
	}{p})
	require.NoError(t, err)
	assert.Equal(t, `{"p":{"name":"홍길동","year":"2026","link":"http://x/n/AB\"C"}}`, string(v1), "encoding/json gets the same object")

	var back map[string]string
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, map[string]string{"name": "홍길동", "year": "2026", "link": "http://x/n/AB\"C"}, back)
	assert.Equal(t, 3, p.Len())
}

func TestParams_InvalidUTF8BecomesReplacement(t *testing.T) {
	b, err := jsonv2.Marshal(ParamsOf("name", "김\xff"), wireOptions)
	require.NoError(t, err)
	assert.Equal(t, "{\"name\":\"김\uFFFD\"}", string(b))
}

func TestParams_MismatchedIsAnError(t *testing.T) {
	_, err := jsonv2.Marshal(Params{Names: []string{"name", "link"}, Values: []string{"김"}}, wireOptions)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 names for 1 values")
}

func TestParams_ZeroIsLeftOut(t *testing.T) {
	b, err := jsonv2.Marshal(kakaoRecipient{RecipientNo: "01012345678"}, wireOptions)
	require.NoError(t, err)
	assert.Equal(t, `{"recipientNo":"01012345678"}`, string(b))
	assert.True(t, Params{}.IsZero())
}
