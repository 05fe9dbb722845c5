package jsonfast_test

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/jsonfast"
)

// decodeV1 is what the callers did before jsonfast, and still do when it
// refuses: encoding/json, one value, nothing after it.
func decodeV1(b []byte, v any, strict bool) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if strict {
		d.DisallowUnknownFields()
	}
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return io.ErrUnexpectedEOF // anything after the value
	}
	return nil
}

// agree checks the contract on one input: what Decode accepts,
// encoding/json accepts and decodes the same; what it refuses leaves v zero.
func agree[T any](t *testing.T, b []byte, strict bool) (accepted bool) {
	t.Helper()
	var fast, slow T
	ok := jsonfast.Decode(b, &fast)
	errV1 := decodeV1(b, &slow, strict)
	if !ok {
		var zero T
		assert.True(t, reflect.DeepEqual(zero, fast), "a refused decode leaves the value zero: %q", b)
		return false
	}
	require.NoError(t, errV1, "jsonfast accepted what encoding/json refuses: %q", b)
	assert.Equal(t, slow, fast, "decoded differently: %q", b)
	return true
}

var signupPayload = `{"consents":[{"type":"vaccination","channel":"kakao","action":"grant","by":{"kind":"self"},"at":"2026-12-07T09:00:00+09:00"},` +
	`{"type":"health-checkup","channel":"sms","action":"withdraw","by":{"kind":"official","official":"o-17","method":"paper"},"at":"2026-12-07T09:01:00+09:00"}],` +
	`"verified":true,"region":"서울특별시/종로구","receipt":"ABCD-EFGH-JKLM","profile":{"age":75,"flags":["disability"]}}`

func TestDecode_AgreesWithEncodingJSON(t *testing.T) {
	payloads := []struct {
		name, in string
		accepted bool
	}{
		{"a sign-up", signupPayload, true},
		{"white space around", " \n" + signupPayload + "\t\n", true},
		{"empty object", `{}`, true},
		{"null", `null`, true},
		{"unknown field", `{"consents":[],"priority":"high"}`, false},
		{"unknown field in an actor", `{"consents":[{"type":"vaccination","by":{"kind":"self","x":1}}]}`, false},
		{"data after", signupPayload + ` {}`, false},
		{"stray brace after", signupPayload + `}`, false},
		{"a name in other case", `{"Verified":true}`, false},                 // encoding/json's call
		{"the same name twice", `{"verified":true,"verified":false}`, false}, // encoding/json's call
		{"invalid UTF-8", "{\"region\":\"\xff\"}", false},
		{"truncated", signupPayload[:40], false},
		{"wrong type", `{"verified":"yes"}`, false},
		{"bad time", `{"consents":[{"at":"yesterday"}]}`, false},
	}
	for _, c := range payloads {
		t.Run("payload/"+c.name, func(t *testing.T) {
			assert.Equal(t, c.accepted, agree[allimi.ConsentPayload](t, []byte(c.in), true))
		})
	}
	envelope := `{"v":1,"kiosk":"k1","seq":7,"hlc":99,"kind":"signup","citizen":{"name":"김영희","mobile":"01012345678","birthDate":"1948-05-17"},"payload":` + signupPayload + `}`
	envelopes := []struct {
		name, in string
		accepted bool
	}{
		{"a sign-up", envelope, true},
		{"payload with white space", `{"v":1,"payload": { "verified" : true } }`, true},
		{"a field of a newer build", `{"v":1,"kiosk":"k1","colour":"red"}`, false}, // encoding/json's call (it ignores the field)
		{"a name in other case", `{"v":1,"Kiosk":"k1"}`, false},                    // encoding/json's call (it matches it)
		{"stray brace after", envelope + `}`, false},
		{"data after", envelope + ` 1`, false},
		{"not an object", `[1,2]`, false},
	}
	for _, c := range envelopes {
		t.Run("envelope/"+c.name, func(t *testing.T) {
			assert.Equal(t, c.accepted, agree[allimi.Event](t, []byte(c.in), false))
		})
	}
}

// FuzzDecode holds the contract on inputs the fuzzer makes (go test runs the
// seeds; make fuzz runs it longer).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(signupPayload), true)
	f.Add([]byte(`{"verified":true,"verified":false}`), true)
	f.Add([]byte(`{"Consents":[{"Type":"x"}]}`), false)
	f.Fuzz(func(t *testing.T, b []byte, strict bool) {
		agree[allimi.ConsentPayload](t, b, strict)
		agree[allimi.Event](t, b, strict)
	})
}

// Marshal writes what encoding/json reads back as the same value, for
// the records central keeps: a sign-up's payload and a whole event.
func TestMarshal_ReadsBackTheSame(t *testing.T) {
	var p allimi.ConsentPayload
	require.NoError(t, json.Unmarshal([]byte(signupPayload), &p))
	for _, v := range []any{p, allimi.ConsentPayload{}, allimi.ConsentPayload{Consents: p.Consents}} {
		b, err := jsonfast.Marshal(v)
		require.NoError(t, err)
		var back allimi.ConsentPayload
		require.NoError(t, decodeV1(b, &back, true), "%s", b)
		assert.Equal(t, v, back)
		v1, err := json.Marshal(v)
		require.NoError(t, err)
		assert.JSONEq(t, string(v1), string(b), "the same JSON as encoding/json's")
	}
	e := allimi.Event{V: 1, Kiosk: "k1", Seq: 7, HLC: 99, Kind: allimi.KindSignup,
		Citizen: allimi.Citizen{Name: "김영희 <Kim> & co", Mobile: "010-1234-5678", BirthDate: "1948-05-17"},
		Payload: json.RawMessage(signupPayload)}
	b, err := jsonfast.Marshal(&e)
	require.NoError(t, err)
	v1, err := json.Marshal(&e)
	require.NoError(t, err)
	assert.JSONEq(t, string(v1), string(b))
	var back allimi.Event
	require.NoError(t, decodeV1(b, &back, true))
	assert.Equal(t, e.Citizen, back.Citizen)
	assert.JSONEq(t, signupPayload, string(back.Payload))
}
