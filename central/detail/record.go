package detail

import (
	"encoding/binary"
	"errors"
	"time"

	"allimi"
)

// Layout of a token record (bucket detail-tokens, key: the token's 5-byte
// sequence number). It is written once and never changed, so that a
// campaign's records pack into full pages.
//
//	[0]     format: formatInline or formatRef
//	[1:9]   expiry, Unix seconds, big endian (in clear: Purge reads it)
//	[9:25]  HMAC-SHA256(secret, "dob", token, date of birth), first 16 bytes
//	[25:]   formatInline: seal(detail, then the recipient's language
//	                      when it has one: records written before
//	                      languages end after the detail, and are Korean)
//	        formatRef:    uvarint length, shared key, seal(fields)
//
// seal is AES-256-GCM under a key derived from the secret and the whole
// token; its additional data is the record's key and everything before the
// sealed part, so a record moved or edited in the file no longer opens.
const (
	formatInline byte = 1
	formatRef    byte = 2

	offExpires = 1
	offMAC     = 9
	macLen     = 16
	headerLen  = offMAC + macLen
)

// Layout of a shared detail (bucket detail-shared, key: the caller's key):
// [0:8] expiry, Unix seconds, big endian; [8:] the detail. Shared details
// hold what every recipient of a notice sees the same, so they are stored in
// clear.
const sharedHeaderLen = 8

// Layout of a try counter (bucket detail-attempts, key: as in
// detail-tokens): [0] wrong tries since the last right one, [1:9] locked
// until, Unix seconds (0: not locked). Only tokens with wrong tries have one.
const attemptsLen = 9

var errCorrupt = errors.New("detail record damaged")

func expiresOf(v []byte) time.Time {
	return time.Unix(int64(binary.BigEndian.Uint64(v[offExpires:offMAC])), 0)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFields(b []byte, fs []Field) []byte {
	b = binary.AppendUvarint(b, uint64(len(fs)))
	for _, f := range fs {
		b = appendString(b, f.Label)
		b = appendString(b, f.Value)
	}
	return b
}

// appendDetail encodes everything of d but Expires, which the records keep
// in their header.
func appendDetail(b []byte, d Detail) []byte {
	b = appendString(b, string(d.Type))
	b = appendString(b, d.Title)
	b = appendString(b, d.Agency)
	b = appendString(b, d.PaymentURL)
	return appendFields(b, d.Fields)
}

// appendLang appends a recipient's language, when there is one, after an
// inline record's detail.
func appendLang(b []byte, lang string) []byte {
	if lang == "" {
		return b
	}
	return appendString(b, lang)
}

// decoder reads what the append functions wrote; the first problem sticks.
type decoder struct {
	b   []byte
	err error
}

func (r *decoder) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *decoder) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errCorrupt
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *decoder) fields() []Field {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) { // each field takes at least 2 bytes
		r.err = errCorrupt
		return nil
	}
	if n == 0 {
		return nil
	}
	fs := make([]Field, 0, n)
	for range n {
		fs = append(fs, Field{Label: r.string(), Value: r.string()})
	}
	return fs
}

func (r *decoder) detail() Detail {
	var d Detail
	d.Type = allimi.NotificationType(r.string())
	d.Title = r.string()
	d.Agency = r.string()
	d.PaymentURL = r.string()
	d.Fields = r.fields()
	return d
}

// lang reads what appendLang wrote: "" when nothing is left (a record
// written before languages, or a Korean recipient's).
func (r *decoder) lang() string {
	if r.err != nil || len(r.b) == 0 {
		return ""
	}
	return r.string()
}

// end reports the first problem, or trailing bytes.
func (r *decoder) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return r.err
}
