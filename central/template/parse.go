package template

import (
	"fmt"
	"strings"
)

// part is a piece of a body as written: literal text, or a placeholder
// when name is set.
type part struct {
	text string
	name string
}

// parseBody splits body into literal text and {{name}} placeholders. It
// refuses a "{{" without its "}}", a "}}" without its "{{", a placeholder
// that is not one name, and the provider's own "#{" syntax, which AlimTalk
// would fill in a second time.
func parseBody(body string) ([]part, error) {
	line := func(off int) int { return 1 + strings.Count(body[:off], "\n") }
	if i := strings.Index(body, "#{"); i >= 0 {
		return nil, fmt.Errorf(`line %d: "#{" is the provider's placeholder syntax; write {{name}}`, line(i))
	}
	var parts []part
	for off := 0; off < len(body); {
		rest := body[off:]
		open, close := strings.Index(rest, "{{"), strings.Index(rest, "}}")
		if close >= 0 && (open < 0 || close < open) {
			return nil, fmt.Errorf(`line %d: "}}" without its "{{"`, line(off+close))
		}
		if open < 0 {
			parts = append(parts, part{text: rest})
			break
		}
		if open > 0 {
			parts = append(parts, part{text: rest[:open]})
		}
		end := strings.Index(rest[open+2:], "}}")
		if end < 0 {
			return nil, fmt.Errorf(`line %d: "{{" without its "}}"`, line(off+open))
		}
		inner := rest[open+2 : open+2+end]
		name := strings.TrimSpace(inner)
		if !isName(name) {
			return nil, fmt.Errorf("line %d: malformed placeholder %q: want {{name}}", line(off+open), "{{"+inner+"}}")
		}
		parts = append(parts, part{name: name})
		off += open + 2 + end + 2
	}
	return parts, nil
}

// isName reports whether s is a variable name: a letter, then letters,
// digits or underscores (ASCII), like the parameters of allimi.Types().
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}
