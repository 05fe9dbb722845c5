package channel

import (
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Params are a template's variables and their values in the template's
// order: AlimTalk's templateParameter. Two slices rather than a map: a
// campaign makes one per message, and the names are the template's own,
// shared by every message of it. Names is read only.
type Params struct {
	Names  []string
	Values []string
}

// ParamsOf makes Params from name, value pairs.
func ParamsOf(pairs ...string) Params {
	if len(pairs)%2 != 0 {
		panic("channel.ParamsOf: odd number of arguments")
	}
	p := Params{Names: make([]string, 0, len(pairs)/2), Values: make([]string, 0, len(pairs)/2)}
	for i := 0; i < len(pairs); i += 2 {
		p.Names, p.Values = append(p.Names, pairs[i]), append(p.Values, pairs[i+1])
	}
	return p
}

// Len is the number of variables.
func (p Params) Len() int { return len(p.Names) }

// IsZero reports whether there are no variables (the field is then left
// out of a request).
func (p Params) IsZero() bool { return len(p.Names) == 0 }

// MarshalJSONTo writes the variables as one JSON object, in order.
func (p Params) MarshalJSONTo(enc *jsontext.Encoder) error {
	if len(p.Names) != len(p.Values) {
		return fmt.Errorf("template parameters: %d names for %d values", len(p.Names), len(p.Values))
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	for i, n := range p.Names {
		if err := enc.WriteToken(jsontext.String(n)); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.String(p.Values[i])); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

// MarshalJSON is MarshalJSONTo for encoding/json.
func (p Params) MarshalJSON() ([]byte, error) { return jsonv2.Marshal(p, wireOptions) }
