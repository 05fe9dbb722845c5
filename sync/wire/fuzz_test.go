package wire_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"allimi"
	"allimi/internal/loadgen"
	"allimi/sync/wire"
)

// Every decoder of what arrives over MQTT: whatever the bytes, it returns
// a value or an error, never panics, and what it accepts survives a round
// trip.

func FuzzDecodeEvent(f *testing.F) {
	d := loadgen.Signup("k1", 1, []allimi.Channel{allimi.ChannelKakao}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	payload, _ := json.Marshal(d.Payload)
	good, _ := json.Marshal(allimi.Event{V: 1, Kiosk: "k1", Seq: 1, HLC: 1 << 16, Kind: d.Kind, Citizen: d.Citizen, Payload: payload})
	f.Add(good)
	f.Add([]byte(`{"v":1,"kiosk":"k1","seq":1,"hlc":65536,"kind":"feedback","citizen":{},"payload":{"entry":"a","helpful":true}}`))
	f.Add([]byte(`{"v":1,"kiosk":"k1","seq":1,"hlc":65536,"kind":"question-audio","citizen":{},"payload":{"code":"ABCDE-FGHJK","index":0,"chunks":1,"size":4,"data":"AAECAw=="}}`))
	f.Add([]byte(`{"v":1,"kiosk":"k1","seq":2,"hlc":65537,"kind":"question","citizen":{"name":"김순자","mobile":"01012345678","birthDate":""},` +
		`"payload":{"code":"ABCDE-FGHJK","lang":"ko","text":"질문","reply":"sms","audioBytes":4,"chunks":1,"sha256":"` + strings.Repeat("0", 64) + `"}}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`[]`))
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := wire.DecodeEvent(b)
		if err != nil {
			return
		}
		if _, err := e.ValidatePayload(now); err != nil {
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("a valid event does not encode: %v", err)
		}
		e2, err := wire.DecodeEvent(again)
		if err != nil {
			t.Fatalf("a valid event does not decode again: %v", err)
		}
		if _, err := e2.ValidatePayload(now); err != nil {
			t.Fatalf("a valid event is not valid again: %v", err)
		}
	})
}

func FuzzDecodeAck(f *testing.F) {
	f.Add([]byte(`{"v":1,"kiosk":"k1","upTo":42}`))
	f.Add([]byte(`{"v":1,"kiosk":"k1","upTo":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := wire.DecodeAck(b)
		if err != nil {
			return
		}
		again, _ := json.Marshal(a)
		if a2, err := wire.DecodeAck(again); err != nil || a2 != a {
			t.Fatalf("ack round trip: %+v → %+v, %v", a, a2, err)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"v":1,"id":"a1","op":"verify.send","mobile":"010-1234-5678"}`))
	f.Add([]byte(`{"v":1,"id":"a1","op":"conflicts.resolve","conflict":3,"decision":"grant","official":"o"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := wire.DecodeRequest(b)
		if err != nil {
			return
		}
		again, _ := json.Marshal(r)
		if r2, err := wire.DecodeRequest(again); err != nil || r2 != r {
			t.Fatalf("request round trip: %+v → %+v, %v", r, r2, err)
		}
	})
}
