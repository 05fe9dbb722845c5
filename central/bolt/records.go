package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"allimi"
)

// Citizens' records and consent states are the bulk of central's file (a
// million people with a few consents each), so they are stored in a compact
// binary form: a format byte, then fixed fields. A value starting with '{'
// is the JSON of earlier builds, still read.
const recordBinary = 0x01

var errDamagedRecord = errors.New("damaged record")

// recordReader reads the binary fields of a record in order; the first
// error sticks.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errDamagedRecord
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recordReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errDamagedRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errDamagedRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || uint64(len(r.b)) < n {
		r.err = errDamagedRecord
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *recordReader) string() string { return string(r.bytes()) }

// time is milliseconds since the epoch; zero is the zero time.
func (r *recordReader) time() time.Time {
	ms := r.varint()
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func (r *recordReader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errDamagedRecord
	}
	return r.err
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixMilli())
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// encode is format | verified(1) | active | created | updated | sealed PII.
func (c *citizenRecord) encode() []byte {
	b := make([]byte, 0, 24+len(c.PII))
	b = append(b, recordBinary)
	if c.Verified {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(max(c.Active, 0)))
	b = appendTime(b, c.Created)
	b = appendTime(b, c.Updated)
	return appendBytes(b, c.PII)
}

func decodeCitizenRecord(v []byte) (citizenRecord, error) {
	var c citizenRecord
	if len(v) > 0 && v[0] == '{' {
		return c, json.Unmarshal(v, &c)
	}
	r := recordReader{b: v}
	if r.byte() != recordBinary {
		return c, errDamagedRecord
	}
	c.Verified = r.byte() == 1
	c.Active = int(r.uvarint())
	c.Created, c.Updated = r.time(), r.time()
	c.PII = r.bytes()
	return c, r.end()
}

// Consent actions and actor kinds as stored.
var (
	actionCodes = []allimi.ConsentAction{"", allimi.ActionGrant, allimi.ActionWithdraw}
	actorCodes  = []string{"", allimi.ActorSelf, allimi.ActorOfficial, allimi.ActorCentral}
)

func codeOf[T comparable](codes []T, v T) (byte, bool) {
	for i, c := range codes {
		if c == v {
			return byte(i), true
		}
	}
	return 0, false
}

// encode is format | action | actor kind | hlc | seq | at | kiosk |
// Official | method. An action or actor kind this build does not know
// (never written by it) is kept as text after a 0xff code.
func encodeConsentState(s *consentState) []byte {
	b := make([]byte, 0, 48+len(s.Kiosk)+len(s.By.Official))
	b = append(b, recordBinary)
	if c, ok := codeOf(actionCodes, s.Action); ok {
		b = append(b, c)
	} else {
		b = appendBytes(append(b, 0xff), []byte(s.Action))
	}
	if c, ok := codeOf(actorCodes, s.By.Kind); ok {
		b = append(b, c)
	} else {
		b = appendBytes(append(b, 0xff), []byte(s.By.Kind))
	}
	b = binary.AppendUvarint(b, s.HLC)
	b = binary.AppendUvarint(b, s.Seq)
	b = appendTime(b, s.At)
	b = appendBytes(b, []byte(s.Kiosk))
	b = appendBytes(b, []byte(s.By.Official))
	return appendBytes(b, []byte(s.By.Method))
}

func decodeConsentState(v []byte) (consentState, error) {
	var s consentState
	if len(v) > 0 && v[0] == '{' {
		return s, json.Unmarshal(v, &s)
	}
	r := recordReader{b: v}
	if r.byte() != recordBinary {
		return s, errDamagedRecord
	}
	if c := r.byte(); c == 0xff {
		s.Action = allimi.ConsentAction(r.string())
	} else if int(c) < len(actionCodes) {
		s.Action = actionCodes[c]
	} else {
		return s, errDamagedRecord
	}
	if c := r.byte(); c == 0xff {
		s.By.Kind = r.string()
	} else if int(c) < len(actorCodes) {
		s.By.Kind = actorCodes[c]
	} else {
		return s, errDamagedRecord
	}
	s.HLC, s.Seq = r.uvarint(), r.uvarint()
	s.At = r.time()
	s.Kiosk, s.By.Official, s.By.Method = r.string(), r.string(), allimi.ConsentMethod(r.string())
	return s, r.end()
}
