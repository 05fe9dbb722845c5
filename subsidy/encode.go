package subsidy

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// The compiled catalog's bytes, as central publishes them and kiosks store
// them:
//
//	"allimi-subsidy\n" | format byte | gzip(JSON {"about": About, "services": [Service]})
//
// Services are ordered by ID and gzip's header carries no time, so that one
// catalog always encodes to the same bytes. The conditions travel as the
// API gave them, not as bitmasks: Decode compiles them again (a few
// milliseconds), so that a later build may change the compiled form
// without a new format.
const (
	encodingMagic  = "allimi-subsidy\n"
	encodingFormat = 1
	// maxDecoded bounds the inflated JSON, against a corrupt or hostile body.
	maxDecoded = 512 << 20
)

type encoded struct {
	About    About     `json:"about"`
	Services []Service `json:"services"`
}

// Encode returns the catalog's bytes, for sync.SignCatalog under
// CatalogName and for files written by `allimi subsidy import --out`.
func Encode(c *Catalog) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(encodingMagic)
	b.WriteByte(encodingFormat)
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(encoded{About: c.About, Services: c.services}); err != nil {
		return nil, fmt.Errorf("encode subsidy catalog: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode subsidy catalog: %w", err)
	}
	return b.Bytes(), nil
}

// Decode reads bytes made by Encode. Bytes of another kind or format, and
// corrupt ones, give an error wrapping ErrBadCatalog.
func Decode(b []byte) (*Catalog, error) {
	rest, ok := bytes.CutPrefix(b, []byte(encodingMagic))
	if !ok || len(rest) == 0 {
		return nil, fmt.Errorf("not a compiled subsidy catalog (it starts %q): %w", head(b), ErrBadCatalog)
	}
	if rest[0] != encodingFormat {
		return nil, fmt.Errorf("compiled subsidy catalog of format %d, this build reads %d: %w", rest[0], encodingFormat, ErrBadCatalog)
	}
	zr, err := gzip.NewReader(bytes.NewReader(rest[1:]))
	if err != nil {
		return nil, fmt.Errorf("compiled subsidy catalog: %v: %w", err, ErrBadCatalog)
	}
	var e encoded
	d := json.NewDecoder(io.LimitReader(zr, maxDecoded))
	if err := d.Decode(&e); err != nil {
		return nil, fmt.Errorf("compiled subsidy catalog: %v: %w", err, ErrBadCatalog)
	}
	// Read to the end, so that gzip checks its CRC.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("compiled subsidy catalog: %v: %w", err, ErrBadCatalog)
	}
	seen := make(map[string]bool, len(e.Services))
	for i, s := range e.Services {
		if s.ID == "" || seen[s.ID] {
			return nil, fmt.Errorf("compiled subsidy catalog: service %d has an empty or repeated ID %q: %w", i, s.ID, ErrBadCatalog)
		}
		seen[s.ID] = true
	}
	return NewCatalog(e.About, e.Services), nil
}

func head(b []byte) []byte {
	return b[:min(len(b), 16)]
}

// WriteFile encodes c into path, whole or not at all: a reader, or a
// failure half-way, sees the old file or the new one.
func (c *Catalog) WriteFile(path string) error {
	b, err := Encode(c)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, b); err != nil {
		return fmt.Errorf("write subsidy catalog: %w", err)
	}
	return nil
}

// Load reads a catalog from path: a directory of gov24 pages (Import) or
// a file written by WriteFile (Decode).
func Load(path string) (*Catalog, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("subsidy catalog: %w", err)
	}
	if st.IsDir() {
		c, _, err := Import(path)
		return c, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("subsidy catalog: %w", err)
	}
	c, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("subsidy catalog %s: %w", path, err)
	}
	return c, nil
}
