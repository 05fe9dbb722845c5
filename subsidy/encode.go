package subsidy

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"allimi/internal/atomicfile"
)

// The compiled catalog's bytes, as central publishes them and kiosks store
// them:
//
//	"allimi-subsidy\n" | format byte (1) | gzip(body)
//
// body:
//
//	about:    str source | byte demo | str fetched
//	uvarint   number of services, then for each, ordered by ID:
//	  str × 22, in the order of serviceTexts
//	  varint  views
//	  byte    0: no conditions row; 1: a row, then
//	    byte has-from | varint from | byte has-to | varint to
//	    uvarint number of codes | str × codes
//
// where str is a uvarint length and that many bytes of UTF-8. Services are
// ordered by ID and gzip's header carries no time, so that one catalog
// always encodes to the same bytes. The conditions travel as the API gave
// them, not as bitmasks: Decode compiles them again, so that a later build
// may change the compiled form without a new format. (A JSON body was 4×
// slower to decode on a kiosk.)
const (
	encodingMagic  = "allimi-subsidy\n"
	encodingFormat = 1
	// maxDecoded bounds the inflated body, against a corrupt or hostile one.
	maxDecoded = 512 << 20
)

// serviceTexts are the text fields of a Service in their encoded order.
// Changing it changes the format: bump encodingFormat.
var serviceTexts = []func(*Service) *string{
	func(s *Service) *string { return &s.ID },
	func(s *Service) *string { return &s.Name },
	func(s *Service) *string { return &s.Summary },
	func(s *Service) *string { return &s.Field },
	func(s *Service) *string { return &s.SupportType },
	func(s *Service) *string { return &s.Target },
	func(s *Service) *string { return &s.Criteria },
	func(s *Service) *string { return &s.Content },
	func(s *Service) *string { return &s.HowToApply },
	func(s *Service) *string { return &s.Deadline },
	func(s *Service) *string { return &s.URL },
	func(s *Service) *string { return &s.Org },
	func(s *Service) *string { return &s.OrgCode },
	func(s *Service) *string { return &s.OrgType },
	func(s *Service) *string { return &s.Dept },
	func(s *Service) *string { return &s.UserType },
	func(s *Service) *string { return &s.Reception },
	func(s *Service) *string { return &s.Phone },
	func(s *Service) *string { return &s.Registered },
	func(s *Service) *string { return &s.Modified },
	func(s *Service) *string { return &s.Documents },
	func(s *Service) *string { return &s.ApplyURL },
}

// Encode returns the catalog's bytes, for catalog.Sign under
// CatalogName and for files written by WriteFile.
func Encode(c *Catalog) ([]byte, error) {
	var body []byte
	str := func(s string) {
		body = binary.AppendUvarint(body, uint64(len(s)))
		body = append(body, s...)
	}
	flag := func(b bool) {
		if b {
			body = append(body, 1)
		} else {
			body = append(body, 0)
		}
	}
	str(c.About.Source)
	flag(c.About.Demo)
	str(c.About.Fetched)
	body = binary.AppendUvarint(body, uint64(len(c.services)))
	for i := range c.services {
		s := &c.services[i]
		for _, f := range serviceTexts {
			str(*f(s))
		}
		body = binary.AppendVarint(body, s.Views)
		flag(s.Conditions != nil)
		if cd := s.Conditions; cd != nil {
			for _, age := range []*int{cd.AgeFrom, cd.AgeTo} {
				flag(age != nil)
				n := 0
				if age != nil {
					n = *age
				}
				body = binary.AppendVarint(body, int64(n))
			}
			body = binary.AppendUvarint(body, uint64(len(cd.Codes)))
			for _, code := range cd.Codes {
				str(code)
			}
		}
	}

	var b bytes.Buffer
	b.WriteString(encodingMagic)
	b.WriteByte(encodingFormat)
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body); err != nil {
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
		return nil, fmt.Errorf("not a compiled subsidy catalog (it starts %q): %w", b[:min(len(b), 16)], ErrBadCatalog)
	}
	if rest[0] != encodingFormat {
		return nil, fmt.Errorf("compiled subsidy catalog of format %d, this build reads %d: %w", rest[0], encodingFormat, ErrBadCatalog)
	}
	zr, err := gzip.NewReader(bytes.NewReader(rest[1:]))
	if err != nil {
		return nil, fmt.Errorf("compiled subsidy catalog: %v: %w", err, ErrBadCatalog)
	}
	body, err := io.ReadAll(io.LimitReader(zr, maxDecoded+1)) // gzip checks its CRC at the end
	if err != nil {
		return nil, fmt.Errorf("compiled subsidy catalog: %v: %w", err, ErrBadCatalog)
	}
	if len(body) > maxDecoded {
		return nil, fmt.Errorf("compiled subsidy catalog: more than %d bytes inflated: %w", maxDecoded, ErrBadCatalog)
	}
	c, err := decodeBody(body)
	if err != nil {
		return nil, fmt.Errorf("compiled subsidy catalog: %v: %w", err, ErrBadCatalog)
	}
	return c, nil
}

var errShort = errors.New("ends early")

// reader reads the body; its strings share one copy of the body.
type reader struct {
	all string
	off int
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint([]byte(r.all[r.off:min(len(r.all), r.off+binary.MaxVarintLen64)]))
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint([]byte(r.all[r.off:min(len(r.all), r.off+binary.MaxVarintLen64)]))
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.off += n
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.all)-r.off) {
		r.err = errShort
		return ""
	}
	s := r.all[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) flag() bool {
	if r.err != nil || r.off >= len(r.all) {
		r.err = errShort
		return false
	}
	b := r.all[r.off]
	r.off++
	if b > 1 {
		r.err = fmt.Errorf("flag byte %d at %d", b, r.off-1)
	}
	return b == 1
}

func decodeBody(body []byte) (*Catalog, error) {
	r := &reader{all: string(body)}
	var about About
	about.Source = r.str()
	about.Demo = r.flag()
	about.Fetched = r.str()
	n := r.uvarint()
	if r.err == nil && n > uint64(len(body))/uint64(len(serviceTexts)) { // each service takes at least a byte per text
		return nil, fmt.Errorf("%d services in %d bytes", n, len(body))
	}
	services := make([]Service, n)
	seen := make(map[string]bool, n)
	for i := range services {
		s := &services[i]
		for _, f := range serviceTexts {
			*f(s) = r.str()
		}
		s.Views = r.varint()
		if r.flag() {
			cd := &Conditions{}
			for _, age := range []**int{&cd.AgeFrom, &cd.AgeTo} {
				has, v := r.flag(), r.varint()
				if has {
					a := int(max(min(v, math.MaxInt32), math.MinInt32))
					*age = &a
				}
			}
			nc := r.uvarint()
			if r.err == nil && nc > uint64(len(body)) {
				return nil, fmt.Errorf("service %d: %d codes", i, nc)
			}
			for range nc {
				cd.Codes = append(cd.Codes, r.str())
			}
			s.Conditions = cd
		}
		if r.err != nil {
			return nil, fmt.Errorf("service %d: %w", i, r.err)
		}
		if s.ID == "" || seen[s.ID] {
			return nil, fmt.Errorf("service %d has an empty or repeated ID %q", i, s.ID)
		}
		seen[s.ID] = true
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(r.all) {
		return nil, fmt.Errorf("%d bytes after the last service", len(r.all)-r.off)
	}
	return NewCatalog(about, services), nil
}

// WriteFile encodes c into path, whole or not at all: a reader, or a
// failure half-way, sees the old file or the new one.
func (c *Catalog) WriteFile(path string) error {
	b, err := Encode(c)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b, 0o600); err != nil {
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
