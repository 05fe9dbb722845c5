package voice

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Whatever the kiosk shows is read aloud: no text may crash the reader,
// and no digit is left for espeak-ng to spell in English.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"과태료 43,850원", "2026. 3. 1.", "010-1234-5678", "국번 없이 129", "99999999999999999999999원", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		out := Normalize(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		if strings.ContainsAny(out, "0123456789") && len(out) < 10000 {
			// Only numbers too large to read are left as they are.
			for _, f := range numberPattern.FindAllString(out, -1) {
				if len(strings.ReplaceAll(f, ",", "")) < 20 {
					t.Fatalf("digits left in %q (from %q)", out, s)
				}
			}
		}
	})
}
