package bolt

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"allimi"
)

func FuzzDecodeNotificationRequest(f *testing.F) {
	f.Add([]byte(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`), false)
	f.Add([]byte(`{"type":"traffic-fine","params":{"amount":"40,000","dueDate":"2026-12-31","violation":"신호위반"},"audience":{"citizens":[{"mobile":"010-1234-5678","birthDate":"1950-01-02"}]}}`), false)
	f.Add([]byte("{\"type\":\"vaccination\",\"params\":{\"date\":\"2026-12-01\"}}\n{\"mobile\":\"01012345678\",\"birthDate\":\"1950-01-02\",\"params\":{\"dose\":\"1\"}}\n"), true)
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte, ndjson bool) {
		req, err := allimi.DecodeNotificationRequest(bytes.NewReader(b), ndjson)
		if err != nil {
			return
		}
		if _, err := req.Validate(now); err != nil {
			return
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("an accepted request does not encode: %v", err)
		}
		req2, err := allimi.DecodeNotificationRequest(bytes.NewReader(again), false)
		if err != nil {
			t.Fatalf("an accepted request does not decode again: %v\n%s", err, again)
		}
		if _, err := req2.Validate(now); err != nil {
			t.Fatalf("an accepted request is refused again: %v\n%s", err, again)
		}
	})
}

func FuzzStoredRecords(f *testing.F) {
	at := time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC)
	f.Add((&citizenRecord{PII: []byte("sealed"), Active: 2, Created: at, Updated: at}).encode())
	f.Add(encodeConsentState(&consentState{Action: allimi.ActionGrant, HLC: 9, Kiosk: "k", By: allimi.Actor{Kind: allimi.ActorOfficial, Official: "o", Method: allimi.MethodPaper}, At: at}))
	f.Add(encodePII(allimi.Citizen{Name: "김순자", Mobile: "010-1234-5678", BirthDate: "1948-03-01"}))
	f.Add([]byte(`{"action":"grant"}`))
	blk := &deliveryBlock{}
	blk.recs[0], blk.recs[3], blk.present = allimi.DeliveryRecord{State: allimi.DeliveryAccepted, First: 1, Updated: 2}, allimi.DeliveryRecord{State: allimi.DeliveryRetrying, Reason: "503"}, 1|1<<3
	f.Add(blk.encode())
	f.Add(appendRecipient(appendRecipient(nil, make([]byte, 32), 1, 7, nil), make([]byte, 32), 3, 8, map[string]string{"place": "보건소"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := decodeDeliveryBlock(b); err == nil {
			d2, err := decodeDeliveryBlock(d.encode())
			if err != nil || d2.present != d.present || d2.recs != d.recs {
				t.Fatalf("delivery block round trip: %v", err)
			}
		}
		if rb, err := openRecipientBlock(recipientKey(1, 0), b); err == nil {
			for i := 0; ; i++ {
				r, ok, err := rb.Next()
				if err != nil || !ok {
					break
				}
				if r.Seq != uint32(i+1) || len(r.CK) != 32 {
					t.Fatalf("recipient %d read as %d with a %d-byte key", i+1, r.Seq, len(r.CK))
				}
			}
		}
		if c, err := decodeCitizenRecord(b); err == nil && len(b) > 0 && b[0] == recordBinary {
			c2, err := decodeCitizenRecord(c.encode())
			if err != nil || c2.Active != c.Active || !bytes.Equal(c2.PII, c.PII) {
				t.Fatalf("citizen record round trip: %v", err)
			}
		}
		if s, err := decodeConsentState(b); err == nil && len(b) > 0 && b[0] == recordBinary {
			s2, err := decodeConsentState(encodeConsentState(&s))
			if err != nil || s2.Action != s.Action || s2.HLC != s.HLC || s2.By != s.By {
				t.Fatalf("consent state round trip: %v", err)
			}
		}
		if c, err := decodePII(b); err == nil && len(b) > 0 && b[0] == encodePII(allimi.Citizen{})[0] {
			if c2, err := decodePII(encodePII(c)); err != nil || c2 != c {
				t.Fatalf("PII round trip: %v", err)
			}
		}
	})
}
