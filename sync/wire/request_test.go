package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeRequest_RefusesWhatCentralCannotAnswer(t *testing.T) {
	r, err := DecodeRequest([]byte(`{"v":1,"id":"a1","op":"verify.send","mobile":"010-1234-5678"}`))
	require.NoError(t, err)
	assert.Equal(t, OpSendCode, r.Op)

	for name, b := range map[string]string{
		"not JSON":      `{"v":1,`,
		"unknown op":    `{"v":1,"id":"a","op":"delete.everything"}`,
		"no id":         `{"v":1,"op":"verify.send"}`,
		"long id":       `{"v":1,"op":"verify.send","id":"` + strings.Repeat("x", 65) + `"}`,
		"other version": `{"v":2,"id":"a","op":"verify.send"}`,
		"trailing data": `{"v":1,"id":"a","op":"verify.send"} {}`,
		"oversize":      `{"v":1,"id":"a","op":"verify.send","code":"` + strings.Repeat("1", MaxRequestSize) + `"}`,
	} {
		_, err := DecodeRequest([]byte(b))
		assert.Error(t, err, name)
		if name == "oversize" {
			assert.ErrorIs(t, err, ErrOversize)
		} else {
			assert.ErrorIs(t, err, ErrMalformed, name)
		}
	}
}

func TestRequestTopics(t *testing.T) {
	id, ok := ParseRequestTopic(RequestTopic("sejong-01"))
	assert.True(t, ok)
	assert.Equal(t, "sejong-01", id)
	_, ok = ParseRequestTopic(UpTopic("sejong-01"))
	assert.False(t, ok)
	_, ok = ParseRequestTopic("allimi/v1/kiosk/UPPER/req")
	assert.False(t, ok)
}
