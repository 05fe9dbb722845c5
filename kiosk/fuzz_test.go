package kiosk

import (
	"errors"
	"testing"

	"allimi"
	"allimi/assets"
)

// Central's answer to an enrolment code comes over the network: whatever
// the status and bytes, the kiosk has credentials with a valid id, or a
// message it can show in every language, never a panic.
func FuzzDecodeEnrolAnswer(f *testing.F) {
	f.Add(200, []byte(`{"id":"gongju-01","username":"kiosk-gongju-01","password":"pw","catalogKey":"a2V5","broker":"ssl://central:8883","tls":{"ca":"-----BEGIN CERTIFICATE-----","cert":"c","key":"k"}}`))
	f.Add(410, []byte(`{"error":"enrolment code already used: ask the official for a new one","reason":"used"}`))
	f.Add(404, []byte(`{"error":"enrolment code unknown","reason":"unknown"}`))
	f.Add(429, []byte(`{"error":"too many wrong codes: wait a minute","reason":"throttled"}`))
	f.Add(502, []byte("<html>Bad Gateway</html>"))
	f.Add(200, []byte(`{"id":"../../etc","password":"x"}`))
	tr, err := LoadTranslations(assets.Translations())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		a, err := decodeEnrolAnswer(status, raw)
		if err == nil {
			if status != 200 {
				t.Fatalf("status %d taken as credentials", status)
			}
			if allimi.ValidateKioskID(a.ID) != nil || a.Password == "" {
				t.Fatalf("credentials without a valid id or password: %+v", a)
			}
			return
		}
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Fatalf("an error the screen cannot say: %v", err)
		}
		for _, l := range Langs {
			if _, ok := tr[l][ie.Key]; !ok {
				t.Fatalf("%s has no message %q", l, ie.Key)
			}
		}
	})
}
