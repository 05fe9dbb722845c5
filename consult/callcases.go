package consult

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// callCase is one record of the call-centre export (qna_call_cases.json).
type callCase struct {
	RecordID *string `json:"recordId"`
	Question *string `json:"consQustCntn"`
	Answer   *string `json:"nobdAnsrCntn"`
	Keywords string  `json:"kywdNm"`
	Source   string  `json:"datSourceNm"`
	Agency   string  `json:"inttCode"`
}

// ParseCallCases converts the call-centre export, a JSON array of records
// with the fields recordId, consQustCntn (question), nobdAnsrCntn (answer,
// HTML), kywdNm (keywords, comma separated), datSourceNm (source) and
// inttCode (agency), into entries: HTML stripped, text in NFC, keywords
// split, the caveat found. The records keep their order. A record without
// an id, question or answer, or an id used twice, is an error naming the
// record.
func ParseCallCases(b []byte) ([]Entry, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("call cases: %s: %w", describeJSONError(b, err), ErrMalformedKB)
	}
	out := make([]Entry, 0, len(raw))
	for i, r := range raw {
		var c callCase
		if err := json.Unmarshal(r, &c); err != nil {
			return nil, fmt.Errorf("call cases: record %d: %s: %w", i, describeJSONError(r, err), ErrMalformedKB)
		}
		if c.RecordID == nil || c.Question == nil || c.Answer == nil {
			return nil, fmt.Errorf("call cases: record %d: recordId, consQustCntn and nobdAnsrCntn are required: %w", i, ErrMalformedKB)
		}
		e := cleanEntry(Entry{
			ID:       *c.RecordID,
			Question: *c.Question,
			Answer:   *c.Answer,
			Keywords: strings.Split(c.Keywords, ","),
			Source:   c.Source,
			Agency:   c.Agency,
		})
		out = append(out, e)
	}
	kb := KB{Entries: out}
	if err := kb.Validate(); err != nil {
		return nil, fmt.Errorf("call cases: %w", err)
	}
	return out, nil
}

// describeJSONError says where in b a decoding error is, by line and column
// when it knows the offset.
func describeJSONError(b []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var off int64 = -1
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
		if typ.Field != "" {
			return fmt.Sprintf("field %s is a JSON %s, want %s (line %d)", typ.Field, typ.Value, typ.Type, lineOf(b, off))
		}
	}
	if off < 0 {
		return err.Error()
	}
	return fmt.Sprintf("%v (line %d)", err, lineOf(b, off))
}

func lineOf(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return bytes.Count(b[:off], []byte("\n")) + 1
}

var (
	// Only tags of ASCII-named HTML elements: the answers also hold text in
	// angle brackets, such as "<자료출처 : 국가데이터처 홈페이지(...)>" or
	// "<1차>", that must stay.
	tagPattern = regexp.MustCompile(`(?i)</?(?:br|p|div|span|b|strong|i|em|u|font|a|ul|ol|li|table|thead|tbody|tr|td|th|img|hr|sup|sub|h[1-6])(?:\s[^<>]*)?/?>`)
	// Tags that end a line.
	breakPattern = regexp.MustCompile(`(?i)^</?(?:br|p|div|li|tr|h[1-6])\b`)
	// Entities need their ";": "R&D" and URLs with "&boardId=" are text.
	entityPattern = regexp.MustCompile(`&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});`)
	blankLines    = regexp.MustCompile(`\n{3,}`)
)

// invisible are characters that only render as boxes on the kiosk: zero
// width spaces and the private use area.
func invisible(r rune) bool {
	return r == '\u200b' || r == '\ufeff' || (r >= '\ue000' && r <= '\uf8ff')
}

// stripHTML turns an HTML answer into plain text: line-breaking tags become
// "\n", other tags go, entities are decoded, trailing spaces of each line
// and blank lines beyond one in a row go, and the text is NFC.
func stripHTML(s string) string {
	s = tagPattern.ReplaceAllStringFunc(s, func(tag string) string {
		if breakPattern.MatchString(tag) {
			return "\n"
		}
		return ""
	})
	s = entityPattern.ReplaceAllStringFunc(s, html.UnescapeString)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		if r == '\r' {
			return '\n'
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\u3000\u00a0")
	}
	s = strings.Join(lines, "\n")
	s = blankLines.ReplaceAllString(s, "\n\n")
	return norm.NFC.String(strings.Trim(s, "\n \t\u3000\u00a0"))
}

// cleanLine is stripHTML for one-line text: line breaks become spaces and
// runs of spaces one.
func cleanLine(s string) string {
	return strings.Join(strings.Fields(stripHTML(s)), " ")
}

// cleanKeywords trims keywords, drops empty ones and repeats.
func cleanKeywords(in []string) []string {
	var out []string
	seen := make(map[string]bool, len(in))
	for _, k := range in {
		k = cleanLine(k)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, k)
	}
	return out
}

// caveatMarker is what every caveat of the call-centre answers says.
const caveatMarker = "정책 변경에 따"

// StandardCaveat is the caveat line of the call-centre answers.
const StandardCaveat = "※ 본 내용은 정책 변경에 따라 수정되거나 종료될 수 있습니다."

// findCaveat returns the answer's line that holds the caveat, from its "※"
// mark when there is one, or "". A line cut short in the export (one answer
// has "※ 본 내용은 정책 변경에 따" and then other text) gives
// StandardCaveat, which is what it started to say.
func findCaveat(answer string) string {
	for _, line := range strings.Split(answer, "\n") {
		i := strings.Index(line, caveatMarker)
		if i < 0 {
			continue
		}
		if j := strings.LastIndex(line[:i], "※"); j >= 0 {
			line = line[j:]
		}
		line = strings.TrimSpace(line)
		if strings.HasPrefix(StandardCaveat, line) {
			return StandardCaveat
		}
		return line
	}
	return ""
}

// CallCasesProvenance is the provenance line of the call-centre export, as
// the shared data README states it; it travels with the imported entries.
const CallCasesProvenance = "Government call-centre (국민콜 110 / 정부민원안내) consultation cases, " +
	"collected from the public data portal and published in the public repository " +
	"dev-samuel-codes/policy_risk_persona_simulator (data/raw/qna_calls/)."

// ImportCallCases converts the call-centre export into a catalog body
// carrying CallCasesProvenance: what assets/consult/kb.json holds. The same
// export always gives the same bytes.
func ImportCallCases(export []byte) ([]byte, error) {
	entries, err := ParseCallCases(export)
	if err != nil {
		return nil, err
	}
	return EncodeCatalog(KB{Provenance: CallCasesProvenance, Entries: entries})
}
