package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"allimi/internal/atomicfile"
)

// KeysFile holds central's secrets, apart from the bbolt file so that a copy
// of the database alone reveals no phone number.
const KeysFile = "keys.json"

// Keys are central's secrets, created on first use.
type Keys struct {
	// HashKey keys the HMAC that turns (mobile, date of birth) into the
	// citizen's lookup key.
	HashKey []byte `json:"hashKey"`
	// DataKey is the AES-256-GCM key for personal data at rest.
	DataKey []byte `json:"dataKey"`
	// CatalogSeed is the Ed25519 seed that signs catalogs.
	CatalogSeed []byte `json:"catalogSeed"`
	// BrokerPassword is central's own password on the embedded broker.
	BrokerPassword string `json:"brokerPassword"`
	// AdminToken authorises changes through the HTTP API.
	AdminToken string `json:"adminToken"`
	// ReceiptToken authenticates providers posting delivery receipts.
	ReceiptToken string `json:"receiptToken"`

	aead cipher.AEAD
}

// Load reads DIR/keys.json, creating it (mode 0600) with fresh random
// keys when absent.
func Load(dir string) (*Keys, error) {
	path := filepath.Join(dir, KeysFile)
	b, err := os.ReadFile(path)
	var k Keys
	switch {
	case errors.Is(err, fs.ErrNotExist):
		k = Keys{HashKey: random(32), DataKey: random(32), CatalogSeed: random(ed25519.SeedSize),
			BrokerPassword: Token(24), AdminToken: Token(24), ReceiptToken: Token(24)}
		b, _ = json.MarshalIndent(k, "", "  ")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		if err := atomicfile.Write(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	default:
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, fmt.Errorf("%s is damaged (%v): restore it from backup; without it stored phone numbers cannot be read", path, err)
		}
	}
	if len(k.HashKey) != 32 || len(k.DataKey) != 32 || len(k.CatalogSeed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: a key has the wrong length: restore it from backup", path)
	}
	if k.ReceiptToken == "" { // keys.json written before receipts existed
		k.ReceiptToken = Token(24)
		b, _ = json.MarshalIndent(k, "", "  ")
		if err := atomicfile.Write(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}
	block, err := aes.NewCipher(k.DataKey)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return &k, nil
}

// CitizenKey is the keyed hash central files a citizen under: the same person
// (mobile number and date of birth) always gets the same key, and the key
// reveals neither.
func (k *Keys) CitizenKey(mobile, birthDate string) []byte {
	m := hmac.New(sha256.New, k.HashKey)
	m.Write([]byte(mobile))
	m.Write([]byte{0})
	m.Write([]byte(birthDate))
	return m.Sum(nil)
}

// Seal encrypts personal data for storage; ad binds it to where it is stored.
func (k *Keys) Seal(plain, ad []byte) []byte {
	nonce := random(k.aead.NonceSize())
	return k.aead.Seal(nonce, nonce, plain, ad)
}

// Open decrypts what Seal produced.
func (k *Keys) Open(sealed, ad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed data too short")
	}
	return k.aead.Open(nil, sealed[:n], sealed[n:], ad)
}

// CatalogKey is the private key that signs catalogs.
func (k *Keys) CatalogKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(k.CatalogSeed) }

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return b
}

func Token(n int) string { return base64.RawURLEncoding.EncodeToString(random(n)) }

// Derive makes a 32-byte key for one purpose from the hash key.
func (k *Keys) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.HashKey)
	m.Write([]byte("allimi " + purpose))
	return m.Sum(nil)
}

// CatalogPublicKey is what kiosks verify catalog signatures with.
func (k *Keys) CatalogPublicKey() ed25519.PublicKey {
	return k.CatalogKey().Public().(ed25519.PublicKey)
}
