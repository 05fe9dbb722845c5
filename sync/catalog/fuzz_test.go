package catalog

import (
	"bytes"
	"crypto/ed25519"
	"testing"
)

// The manifest decoder, at the trust boundary of catalogs: whatever the
// bytes, it returns a value or an error, never panics, and what it accepts
// survives a round trip.

func FuzzDecodeManifest(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(bytes.NewReader(make([]byte, 64)))
	m := Sign(priv, "subsidy24", 3, []byte("body"))
	f.Add(m.Encode())
	f.Add([]byte(`{"v":1,"name":"x","version":0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			return
		}
		m2, err := DecodeManifest(m.Encode())
		if err != nil {
			t.Fatalf("an accepted manifest does not decode again: %v", err)
		}
		if !bytes.Equal(m2.SignedBytes(), m.SignedBytes()) {
			t.Fatalf("manifest round trip changed what is signed")
		}
		_ = m.Verify(priv.Public().(ed25519.PublicKey), []byte("body")) // must not panic
	})
}
