package jsonfast_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"allimi"
	"allimi/internal/jsonfast"
	"allimi/internal/loadgen"
)

func signupRecord(b testing.TB) []byte {
	d := loadgen.Signup("k1", 7, []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}, time.Date(2026, 12, 7, 9, 0, 0, 0, allimi.KST))
	p, err := json.Marshal(d.Payload)
	if err != nil {
		b.Fatal(err)
	}
	e := allimi.Event{V: 1, Kiosk: "k1", Seq: 7, HLC: 99, Kind: d.Kind, Citizen: d.Citizen, Payload: p}
	out, err := json.Marshal(e)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkSignup decodes one sign-up record, envelope then payload, the
// way central's ingest does: with jsonfast, and with encoding/json alone.
func BenchmarkSignup(b *testing.B) {
	rec := signupRecord(b)
	b.Run("jsonfast", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		for b.Loop() {
			var e allimi.Event
			var p allimi.ConsentPayload
			if !jsonfast.Decode(rec, &e) || !jsonfast.Decode(e.Payload, &p) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(rec)))
		for b.Loop() {
			var e allimi.Event
			var p allimi.ConsentPayload
			if err := json.NewDecoder(bytes.NewReader(rec)).Decode(&e); err != nil {
				b.Fatal(err)
			}
			d := json.NewDecoder(bytes.NewReader(e.Payload))
			d.DisallowUnknownFields()
			if err := d.Decode(&p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
