package consult

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Entry is one answered question of the knowledge base.
type Entry struct {
	// ID is the call-centre case's recordId (a string of 64 hex digits in
	// the imported cases), or the id an official gave an entry added at
	// central; see ValidateID.
	ID string `json:"id"`
	// Question is the question as the official recorded it, on one line.
	Question string `json:"question"`
	// Answer is the official answer as plain text: lines end with "\n",
	// "■"/"※" marks and indentation are kept, HTML is gone. It keeps its
	// caveat in place.
	Answer string `json:"answer"`
	// Keywords are the official's keywords, in their order, without
	// duplicates.
	Keywords []string `json:"keywords,omitempty"`
	// Source names where the answer comes from (datSourceNm), or is empty.
	Source string `json:"source,omitempty"`
	// Agency is the answering agency's code (inttCode), e.g. "1140100".
	Agency string `json:"agency,omitempty"`
	// Caveat repeats the answer's "may change with policy" line ("※ 본
	// 내용은 정책 변경에 따라 수정되거나 종료될 수 있습니다."), which the
	// kiosk must show with the answer; empty when the answer has none.
	Caveat string `json:"caveat,omitempty"`
	// Retired entries stay in the catalog, so that feedback and history
	// about them still resolve, but are never returned by a search.
	Retired bool `json:"retired,omitempty"`
}

// MaxIDLength is the longest entry id.
const MaxIDLength = 128

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidateID checks an entry id: 1 to MaxIDLength ASCII letters, digits,
// dots, dashes and underscores, starting with a letter or digit, so that it
// is safe in a file name, a URL path and a log line.
func ValidateID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLength || !idPattern.MatchString(id) {
		return fmt.Errorf("entry id %q: use 1-%d ASCII letters, digits, '.', '-' and '_', starting with a letter or digit: %w", id, MaxIDLength, ErrInvalidEntry)
	}
	return nil
}

// Validate checks that e has a valid id, a question and an answer.
func (e Entry) Validate() error {
	if err := ValidateID(e.ID); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"question", e.Question}, {"answer", e.Answer}} {
		if strings.TrimSpace(f.v) == "" {
			return fmt.Errorf("entry %s: %s is empty: %w", e.ID, f.name, ErrInvalidEntry)
		}
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("entry %s: %s is not valid UTF-8: %w", e.ID, f.name, ErrInvalidEntry)
		}
	}
	return nil
}

// KB is the knowledge base: every entry, retired ones included, in catalog
// order.
type KB struct {
	// Provenance says where the entries come from; it travels with them.
	Provenance string  `json:"provenance"`
	Entries    []Entry `json:"entries"`
}

// Validate checks every entry and that no two share an id.
func (kb KB) Validate() error {
	seen := make(map[string]int, len(kb.Entries))
	for i, e := range kb.Entries {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("entries[%d]: %w", i, err)
		}
		if j, dup := seen[e.ID]; dup {
			return fmt.Errorf("entries[%d] and entries[%d]: id %s: %w", j, i, e.ID, ErrDuplicateID)
		}
		seen[e.ID] = i
	}
	return nil
}

// Entry returns the entry with id, retired or not.
func (kb KB) Entry(id string) (Entry, bool) {
	for _, e := range kb.Entries {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}

// Active returns the entries that are not retired, in catalog order.
func (kb KB) Active() []Entry {
	out := make([]Entry, 0, len(kb.Entries))
	for _, e := range kb.Entries {
		if !e.Retired {
			out = append(out, e)
		}
	}
	return out
}

// Update is what officials change in the knowledge base at central: entries
// to add and ids of entries to retire. Central applies it (KB.Apply) and
// publishes the result as the next version of the catalog.
type Update struct {
	Add    []Entry  `json:"add,omitempty"`
	Retire []string `json:"retire,omitempty"`
}

// Apply returns a copy of kb with u applied, or kb unchanged and an error
// naming the first problem: an added entry that is invalid or whose id is
// already in the knowledge base (retired ids included: an id is never
// reused, so that feedback counted under it stays meaningful), or a retired
// id that no entry has. Added entries go to the end, in the order given,
// after normalising their text the way imported entries are (NFC, HTML
// removed). Retiring a retired entry, or an entry added by the same update,
// is allowed.
func (kb KB) Apply(u Update) (KB, error) {
	out := KB{Provenance: kb.Provenance, Entries: make([]Entry, len(kb.Entries), len(kb.Entries)+len(u.Add))}
	copy(out.Entries, kb.Entries)
	at := make(map[string]int, len(out.Entries)+len(u.Add))
	for i, e := range out.Entries {
		at[e.ID] = i
	}
	for i, e := range u.Add {
		e = cleanEntry(e)
		if err := e.Validate(); err != nil {
			return kb, fmt.Errorf("add[%d]: %w", i, err)
		}
		if _, dup := at[e.ID]; dup {
			return kb, fmt.Errorf("add[%d]: id %s is already in the knowledge base (ids are never reused): %w", i, e.ID, ErrDuplicateID)
		}
		at[e.ID] = len(out.Entries)
		out.Entries = append(out.Entries, e)
	}
	for i, id := range u.Retire {
		j, ok := at[id]
		if !ok {
			return kb, fmt.Errorf("retire[%d]: id %q: %w", i, id, ErrUnknownEntry)
		}
		out.Entries[j].Retired = true
	}
	return out, nil
}

// cleanEntry gives an entry written by an official the form of an imported
// one: NFC text, HTML removed, keywords trimmed and deduplicated, and the
// caveat found in the answer.
func cleanEntry(e Entry) Entry {
	e.ID = strings.TrimSpace(e.ID)
	e.Question = cleanLine(e.Question)
	e.Answer = stripHTML(e.Answer)
	e.Keywords = cleanKeywords(e.Keywords)
	e.Source = cleanLine(e.Source)
	e.Agency = strings.TrimSpace(e.Agency)
	if c := findCaveat(e.Answer); c != "" {
		e.Caveat = c
	} else {
		e.Caveat = cleanLine(e.Caveat)
	}
	return e
}
