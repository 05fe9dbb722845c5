package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"

	"allimi"
)

// piiBinary marks the compact encoding of a citizen's personal data; a
// sealed value whose plaintext starts with '{' is the JSON of earlier builds.
const piiBinary = 0x01

// encodePII is the plaintext a citizen's sealed personal data holds: a
// version byte and three length-prefixed strings. It is read once per
// Delivery, so it is kept small and cheap to decode.
func encodePII(c allimi.Citizen) []byte {
	b := make([]byte, 0, 4+len(c.Name)+len(c.Mobile)+len(c.BirthDate))
	b = append(b, piiBinary)
	for _, s := range [...]string{c.Name, c.Mobile, c.BirthDate} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var errDamagedPII = errors.New("damaged personal data")

func decodePII(b []byte) (allimi.Citizen, error) {
	var c allimi.Citizen
	if len(b) > 0 && b[0] == '{' {
		return c, json.Unmarshal(b, &c)
	}
	if len(b) == 0 || b[0] != piiBinary {
		return c, errDamagedPII
	}
	b = b[1:]
	var fields [3]string
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return c, errDamagedPII
		}
		fields[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) != 0 {
		return c, errDamagedPII
	}
	c.Name, c.Mobile, c.BirthDate = fields[0], fields[1], fields[2]
	return c, nil
}
