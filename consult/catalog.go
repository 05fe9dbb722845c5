package consult

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// CatalogName is the name under which central publishes the knowledge base
// as a signed catalog (catalog.Topic(CatalogName)).
const CatalogName = "consult-kb"

// CatalogFormat and CatalogVersion mark a knowledge-base catalog body; a
// later, incompatible layout takes another version.
const (
	CatalogFormat  = "allimi-consult-kb"
	CatalogVersion = 1
)

// catalogBody is the JSON layout of a knowledge-base catalog.
type catalogBody struct {
	Format     string  `json:"format"`
	V          int     `json:"v"`
	Provenance string  `json:"provenance"`
	Entries    []Entry `json:"entries"`
}

// EncodeCatalog returns kb as a catalog body: indented JSON, HTML not
// escaped, entries in kb's order, ending with a newline. The same kb
// always gives the same bytes, so that a re-publication of unchanged content
// has the same SHA-256. It refuses a kb that does not validate.
func EncodeCatalog(kb KB) ([]byte, error) {
	if err := kb.Validate(); err != nil {
		return nil, fmt.Errorf("encode knowledge base: %w", err)
	}
	entries := kb.Entries
	if entries == nil {
		entries = []Entry{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(catalogBody{Format: CatalogFormat, V: CatalogVersion, Provenance: kb.Provenance, Entries: entries}); err != nil {
		return nil, fmt.Errorf("encode knowledge base: %w", err)
	}
	return b.Bytes(), nil
}

// DecodeCatalog parses a catalog body written by EncodeCatalog and checks
// it: its format and version, that it is one JSON object with nothing
// after it, and that its entries validate (KB.Validate). Unknown fields are
// ignored, so that later builds may add some.
func DecodeCatalog(b []byte) (KB, error) {
	var c catalogBody
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&c); err != nil {
		return KB{}, fmt.Errorf("knowledge base catalog: %s: %w", describeJSONError(b, err), ErrMalformedKB)
	}
	if _, err := d.Token(); err != io.EOF {
		return KB{}, fmt.Errorf("knowledge base catalog: data after the JSON object: %w", ErrMalformedKB)
	}
	if c.Format != CatalogFormat {
		return KB{}, fmt.Errorf("knowledge base catalog: format %q, want %q: %w", c.Format, CatalogFormat, ErrMalformedKB)
	}
	if c.V != CatalogVersion {
		return KB{}, fmt.Errorf("knowledge base catalog: v=%d, this build reads %d: %w", c.V, CatalogVersion, ErrMalformedKB)
	}
	kb := KB{Provenance: c.Provenance, Entries: c.Entries}
	if err := kb.Validate(); err != nil {
		return KB{}, fmt.Errorf("knowledge base catalog: %w", err)
	}
	return kb, nil
}

// LoadKB reads a knowledge base in either form: a catalog body (a JSON
// object, see DecodeCatalog) or the call-centre export itself (a JSON
// array, see ParseCallCases), whose provenance is then unknown.
func LoadKB(b []byte) (KB, error) {
	t := bytes.TrimLeft(b, " \t\r\n\ufeff")
	switch {
	case len(t) == 0:
		return KB{}, fmt.Errorf("knowledge base: empty: %w", ErrMalformedKB)
	case t[0] == '[':
		entries, err := ParseCallCases(b)
		if err != nil {
			return KB{}, err
		}
		return KB{Entries: entries}, nil
	case t[0] == '{':
		return DecodeCatalog(b)
	}
	return KB{}, fmt.Errorf("knowledge base: neither a catalog (JSON object) nor call-centre cases (JSON array): %w", ErrMalformedKB)
}
