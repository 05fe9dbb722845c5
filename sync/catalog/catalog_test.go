package catalog

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/wire"
)

func newCatalogKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return pub, priv
}

func TestCatalogSignVerify(t *testing.T) {
	pub, priv := newCatalogKey(t)
	body := []byte(`{"programs":["basic-pension","energy-voucher"]}`)
	m := Sign(priv, "subsidy24", 7, body)

	sum := sha256.Sum256(body)
	assert.Equal(t, 1, m.V)
	assert.Equal(t, "subsidy24", m.Name)
	assert.Equal(t, uint64(7), m.Version)
	assert.Equal(t, hex.EncodeToString(sum[:]), m.SHA256)
	assert.Equal(t, int64(len(body)), m.Size)
	require.NoError(t, m.Verify(pub, body))

	// The manifest survives its JSON round trip.
	got, err := DecodeManifest(m.Encode())
	require.NoError(t, err)
	assert.Equal(t, m, got)
	require.NoError(t, got.Verify(pub, body))

	// An empty body is a body like any other.
	empty := Sign(priv, "empty", 1, nil)
	require.NoError(t, empty.Verify(pub, []byte{}))
}

func TestCatalogSignedBytes(t *testing.T) {
	m := Manifest{V: 1, Name: "consult-kb", Version: 12, SHA256: "ab01", Size: 345, Sig: "ignored"}
	assert.Equal(t, "allimi-catalog-v1\nconsult-kb\n12\nab01\n345\n", string(m.SignedBytes()))
}

func TestCatalogVerifyErrors(t *testing.T) {
	pub, priv := newCatalogKey(t)
	_, otherPriv := newCatalogKey(t)
	body := []byte("subsidy catalog body, version 3")
	good := Sign(priv, "subsidy24", 3, body)
	sameSize := []byte("subsidy catalog body, version 4")
	require.Len(t, sameSize, len(body))

	tests := []struct {
		name    string
		m       func() Manifest
		body    []byte
		want    error
		message []string // substrings of the error message
	}{
		{"signed by another key", func() Manifest { return Sign(otherPriv, "subsidy24", 3, body) }, body, ErrBadSignature, nil},
		{"tampered version", func() Manifest { m := good; m.Version = 4; return m }, body, ErrBadSignature, nil},
		{"tampered name", func() Manifest { m := good; m.Name = "subsidy25"; return m }, body, ErrBadSignature, nil},
		{"tampered hash and size", func() Manifest {
			m := Sign(otherPriv, "subsidy24", 3, sameSize)
			m.Sig = good.Sig
			return m
		}, sameSize, ErrBadSignature, nil},
		{"signature flipped", func() Manifest {
			m := good
			sig, _ := base64.StdEncoding.DecodeString(m.Sig)
			sig[0] ^= 1
			m.Sig = base64.StdEncoding.EncodeToString(sig)
			return m
		}, body, ErrBadSignature, nil},
		{"signature not base64", func() Manifest { m := good; m.Sig = "!!!"; return m }, body, ErrBadSignature, nil},
		{"signature missing", func() Manifest { m := good; m.Sig = ""; return m }, body, ErrBadSignature, nil},
		{"body changed, same size", func() Manifest { return good }, sameSize, ErrHashMismatch,
			[]string{good.SHA256}},
		{"upper-case hash", func() Manifest { m := good; m.SHA256 = strings.ToUpper(m.SHA256); return m }, body, ErrHashMismatch, nil},
		{"body longer", func() Manifest { return good }, append(append([]byte(nil), body...), 'x'), ErrSizeMismatch,
			[]string{"32 bytes", "says 31"}},
		{"body shorter", func() Manifest { return good }, body[:10], ErrSizeMismatch, []string{"10 bytes", "says 31"}},
		{"unsupported v", func() Manifest { m := good; m.V = 2; return m }, body, allimi.ErrUnsupportedVersion, []string{"v=2"}},
		{"missing v", func() Manifest { m := good; m.V = 0; return m }, body, allimi.ErrUnsupportedVersion, nil},
		{"invalid name", func() Manifest { return Sign(priv, "Subsidy_24", 3, body) }, body, allimi.ErrInvalid, nil},
		{"empty name", func() Manifest { return Sign(priv, "", 3, body) }, body, allimi.ErrInvalid, nil},
		{"version zero", func() Manifest { return Sign(priv, "subsidy24", 0, body) }, body, allimi.ErrInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m().Verify(pub, tt.body)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			for _, s := range tt.message {
				assert.Contains(t, err.Error(), s)
			}
		})
	}

	// A wrong-size key never verifies.
	assert.ErrorIs(t, good.Verify(pub[:16], body), ErrBadSignature)
}

func TestCatalogVerifyOrder(t *testing.T) {
	// Size is checked before the hash, the hash before the signature.
	pub, _ := newCatalogKey(t)
	_, other := newCatalogKey(t)
	m := Sign(other, "kb", 1, []byte("abc"))
	assert.ErrorIs(t, m.Verify(pub, []byte("abcd")), ErrSizeMismatch)
	assert.ErrorIs(t, m.Verify(pub, []byte("abd")), ErrHashMismatch)
	assert.ErrorIs(t, m.Verify(pub, []byte("abc")), ErrBadSignature)
}

func TestCatalogDecodeManifest(t *testing.T) {
	_, priv := newCatalogKey(t)
	good := Sign(priv, "kb", 2, []byte("x"))
	goodJSON := string(good.Encode())

	t.Run("unknown fields are kept for forward compatibility", func(t *testing.T) {
		withExtra := strings.Replace(goodJSON, "{", `{"compression":"none",`, 1)
		m, err := DecodeManifest([]byte(withExtra))
		require.NoError(t, err)
		assert.Equal(t, good, m)
	})
	t.Run("surrounding white space", func(t *testing.T) {
		m, err := DecodeManifest([]byte("\n " + goodJSON + " \n"))
		require.NoError(t, err)
		assert.Equal(t, good, m)
	})

	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", wire.ErrMalformed},
		{"null", "null", wire.ErrMalformed},
		{"array", `[1,2]`, wire.ErrMalformed},
		{"string", `"manifest"`, wire.ErrMalformed},
		{"truncated", goodJSON[:len(goodJSON)-5], wire.ErrMalformed},
		{"two objects", goodJSON + goodJSON, wire.ErrMalformed},
		{"trailing garbage", goodJSON + "}", wire.ErrMalformed},
		{"trailing text", goodJSON + " x", wire.ErrMalformed},
		{"version as string", `{"v":1,"name":"kb","version":"2"}`, wire.ErrMalformed},
		{"negative version", `{"v":1,"name":"kb","version":-2}`, wire.ErrMalformed},
		{"fractional size", `{"v":1,"name":"kb","version":2,"size":1.5}`, wire.ErrMalformed},
		{"not JSON", "allimi-catalog-v1\nkb\n", wire.ErrMalformed},
		{"too large", `{"v":1,"pad":"` + strings.Repeat("a", MaxManifestSize) + `"}`, wire.ErrOversize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeManifest([]byte(tt.in))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), "catalog manifest")
		})
	}
}

func TestCatalogManifestJSONFieldNames(t *testing.T) {
	var fields map[string]any
	require.NoError(t, json.Unmarshal(Manifest{V: 1}.Encode(), &fields))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"v", "name", "version", "sha256", "size", "sig"}, keys)
}

func TestCatalogTopics(t *testing.T) {
	assert.Equal(t, "allimi/v1/catalog/subsidy24", Topic("subsidy24"))
	assert.Equal(t, "allimi/v1/catalog/subsidy24/body", BodyTopic("subsidy24"))
	assert.Equal(t, "allimi/v1/catalog/#", Filter)

	tests := []struct {
		topic        string
		name         string
		body, wantOK bool
	}{
		{Topic("subsidy24"), "subsidy24", false, true},
		{BodyTopic("consult-kb"), "consult-kb", true, true},
		{"allimi/v1/catalog/", "", false, false},
		{"allimi/v1/catalog//body", "", false, false},
		{"allimi/v1/catalog/Subsidy", "", false, false},
		{"allimi/v1/catalog/a/b", "", false, false},
		{"allimi/v1/catalog/a/body/body", "", false, false},
		{"allimi/v1/catalog/a/bodyx", "", false, false},
		{"allimi/v1/kiosk/k1/up", "", false, false},
		{"allimi/v2/catalog/a", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			name, body, ok := ParseTopic(tt.topic)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.name, name)
			assert.Equal(t, tt.body, body)
		})
	}
}

func TestCatalogName(t *testing.T) {
	for _, ok := range []string{"a", "0", "subsidy24", "consult-kb", strings.Repeat("a", 63)} {
		assert.NoError(t, ValidateName(ok), ok)
	}
	for _, bad := range []string{"", "-a", "A", "a_b", "a/b", "a b", "a\nb", "가", strings.Repeat("a", 64)} {
		assert.ErrorIs(t, ValidateName(bad), allimi.ErrInvalid, bad)
	}
}

func TestCatalogPublicKey(t *testing.T) {
	pub, _ := newCatalogKey(t)
	s := EncodePublicKey(pub)
	got, err := DecodePublicKey(s)
	require.NoError(t, err)
	assert.Equal(t, pub, got)

	got, err = DecodePublicKey("  " + s + "\n")
	require.NoError(t, err, "white space around a configured key is ignored")
	assert.Equal(t, pub, got)

	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(pub[:31]), base64.RawStdEncoding.EncodeToString(pub[:31]), base64.URLEncoding.EncodeToString(append(pub, 0))} {
		_, err := DecodePublicKey(bad)
		require.Error(t, err, bad)
		assert.True(t, errors.Is(err, allimi.ErrInvalid), "%q: %v", bad, err)
	}
}
