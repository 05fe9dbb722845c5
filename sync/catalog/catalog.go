package catalog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"allimi"
	"allimi/sync/wire"
)

// ManifestVersion is the manifest format version this build writes and reads.
const ManifestVersion = 1

// MaxManifestSize is the largest manifest DecodeManifest accepts.
const MaxManifestSize = 4 << 10

// MaxBodySize is the largest catalog body a kiosk accepts.
const MaxBodySize = 64 << 20

// catalogSigContext is the first line of the signed string.
const catalogSigContext = "allimi-catalog-v1"

// Topic layout of catalogs, version 1.
const (
	catalogTopicPrefix = "allimi/v1/catalog/"
	catalogBodySuffix  = "/body"
	// Filter matches every catalog manifest and body topic; kiosks
	// subscribe to it.
	Filter = catalogTopicPrefix + "#"
)

// Errors of catalog verification and installation. They come wrapped with
// the catalog name and version; test with errors.Is.
var (
	// ErrBadSignature: the manifest's signature is missing, malformed or not
	// made by the trusted catalog key over these manifest fields.
	ErrBadSignature = errors.New("catalog signature does not verify with the trusted key")
	// ErrHashMismatch: the body's SHA-256 is not the one the manifest names.
	ErrHashMismatch = errors.New("catalog body does not match the manifest's SHA-256")
	// ErrSizeMismatch: the body's length is not the one the manifest names.
	ErrSizeMismatch = errors.New("catalog body size differs from the manifest's size")
	// ErrRollback: the catalog is older than the installed one.
	ErrRollback = errors.New("catalog version is older than the installed one")
	// ErrVersionConflict: the catalog has the installed version but other
	// content; central must publish changed content under a new version.
	ErrVersionConflict = errors.New("catalog has the installed version but different content")
)

// Manifest describes one version of a catalog body and is signed by central.
type Manifest struct {
	V       int    `json:"v"`       // manifest format, ManifestVersion
	Name    string `json:"name"`    // see ValidateName
	Version uint64 `json:"version"` // increases with every publication, from 1
	SHA256  string `json:"sha256"`  // of the body, lower-case hex
	Size    int64  `json:"size"`    // of the body, in bytes
	Sig     string `json:"sig"`     // Ed25519 over SignedBytes, standard base64
}

var catalogNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateName checks a catalog name: 1 to 63 lower-case letters,
// digits and dashes, not starting with a dash (the rule of kiosk ids), so
// that it is safe in MQTT topics and unambiguous in the signed string.
func ValidateName(name string) error {
	if !catalogNamePattern.MatchString(name) {
		return fmt.Errorf("catalog name %q: use 1-63 lower-case letters, digits and dashes: %w", name, allimi.ErrInvalid)
	}
	return nil
}

// SignedBytes returns the canonical byte string the signature covers (see
// the package documentation): every field but V and Sig.
func (m Manifest) SignedBytes() []byte {
	var b strings.Builder
	b.WriteString(catalogSigContext)
	b.WriteByte('\n')
	b.WriteString(m.Name)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(m.Version, 10))
	b.WriteByte('\n')
	b.WriteString(m.SHA256)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(m.Size, 10))
	b.WriteByte('\n')
	return []byte(b.String())
}

// Sign describes body as version version of catalog name and signs
// the description with priv. It panics, like ed25519.Sign, if priv is not an
// Ed25519 private key. It does not validate name or version: Verify does.
func Sign(priv ed25519.PrivateKey, name string, version uint64, body []byte) Manifest {
	sum := sha256.Sum256(body)
	m := Manifest{
		V:       ManifestVersion,
		Name:    name,
		Version: version,
		SHA256:  hex.EncodeToString(sum[:]),
		Size:    int64(len(body)),
	}
	m.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, m.SignedBytes()))
	return m
}

// Verify checks that m is a manifest this build understands, that body is
// the body it describes and that pub signed it, in this order: the format
// version (allimi.ErrUnsupportedVersion), the name and version
// (allimi.ErrInvalid), the size (ErrSizeMismatch), the SHA-256
// (ErrHashMismatch) and the signature (ErrBadSignature).
func (m Manifest) Verify(pub ed25519.PublicKey, body []byte) error {
	if err := m.checkHeader(); err != nil {
		return err
	}
	if n := int64(len(body)); n != m.Size {
		return fmt.Errorf("catalog %s v%d: body is %d bytes, manifest says %d: %w", m.Name, m.Version, n, m.Size, ErrSizeMismatch)
	}
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		return fmt.Errorf("catalog %s v%d: body sha256 is %s, manifest says %q: %w", m.Name, m.Version, got, m.SHA256, ErrHashMismatch)
	}
	return m.checkSignature(pub)
}

// checkHeader checks what can be checked without a body or a key.
func (m Manifest) checkHeader() error {
	if m.V != ManifestVersion {
		return fmt.Errorf("catalog %s v%d: manifest format v=%d, this build speaks %d: %w", m.Name, m.Version, m.V, ManifestVersion, allimi.ErrUnsupportedVersion)
	}
	if err := ValidateName(m.Name); err != nil {
		return fmt.Errorf("catalog %q v%d: %w", m.Name, m.Version, err)
	}
	if m.Version == 0 {
		return fmt.Errorf("catalog %s v0: versions start at 1: %w", m.Name, allimi.ErrInvalid)
	}
	return nil
}

// checkSignature checks the signature alone; it needs no body.
func (m Manifest) checkSignature(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("catalog %s v%d: trusted key is %d bytes, not %d: %w", m.Name, m.Version, len(pub), ed25519.PublicKeySize, ErrBadSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("catalog %s v%d: sig is not a base64 Ed25519 signature: %w", m.Name, m.Version, ErrBadSignature)
	}
	if !ed25519.Verify(pub, m.SignedBytes(), sig) {
		return fmt.Errorf("catalog %s v%d: %w", m.Name, m.Version, ErrBadSignature)
	}
	return nil
}

// DecodeManifest parses a manifest payload: one JSON object of at most
// MaxManifestSize bytes, with nothing after it. Unknown fields are ignored,
// so that later builds may add some; a field of the wrong type is an error.
// It checks the shape only: Verify checks the content.
func DecodeManifest(b []byte) (Manifest, error) {
	var m Manifest
	if len(b) > MaxManifestSize {
		return m, fmt.Errorf("catalog manifest of %d bytes, at most %d: %w", len(b), MaxManifestSize, wire.ErrOversize)
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return m, fmt.Errorf("catalog manifest: not a JSON object: %w", wire.ErrMalformed)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("catalog manifest: %v: %w", err, wire.ErrMalformed)
	}
	if _, err := d.Token(); err != io.EOF {
		return Manifest{}, fmt.Errorf("catalog manifest: data after the JSON object: %w", wire.ErrMalformed)
	}
	return m, nil
}

// Encode returns the JSON payload of m, as published on Topic.
func (m Manifest) Encode() []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // a struct of strings and numbers always marshals
	}
	return b
}

// Topic is where central publishes, retained, catalog name's manifest.
func Topic(name string) string { return catalogTopicPrefix + name }

// BodyTopic is where central publishes, retained, catalog name's body.
func BodyTopic(name string) string { return catalogTopicPrefix + name + catalogBodySuffix }

// ParseTopic returns the catalog name of a manifest or body topic,
// with body true for a body topic. ok is false for any other topic,
// including one with an invalid name.
func ParseTopic(topic string) (name string, body bool, ok bool) {
	rest, found := strings.CutPrefix(topic, catalogTopicPrefix)
	if !found {
		return "", false, false
	}
	name, body = strings.CutSuffix(rest, catalogBodySuffix)
	if ValidateName(name) != nil {
		return "", false, false
	}
	return name, body, true
}

// EncodePublicKey returns pub in standard base64, as kiosks are configured
// with it.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// DecodePublicKey parses a standard-base64 Ed25519 public key; surrounding
// white space is ignored.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("catalog public key: not standard base64: %v: %w", err, allimi.ErrInvalid)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("catalog public key: %d bytes, an Ed25519 key has %d: %w", len(b), ed25519.PublicKeySize, allimi.ErrInvalid)
	}
	return ed25519.PublicKey(b), nil
}
