package template

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"allimi"
	"allimi/assets"
)

// TypeTable is the table of a type's file that describes the type itself
// rather than a channel's template (read by central/typefile).
const TypeTable = "type"

// ext is the extension of a template file; the rest of its name is the
// notification type's id.
const ext = ".toml"

// Set holds the parsed and checked templates of every notification type
// for every channel. It does not change after Load, so any number of
// goroutines may share one.
type Set struct {
	byKey map[key]*compiled
}

type key struct {
	t    allimi.NotificationType
	name string // a Variant's; empty for the type's own
	ch   allimi.Channel
}

// compiled is one template, split at load into literal text and variables
// so that Render only copies strings.
type compiled struct {
	t     allimi.NotificationType
	ch    allimi.Channel
	rules channelRules
	code  string
	title string // for sms, already cut to the LMS subject limit
	segs  []segment
	// vars are the distinct variables of the body in order of first use;
	// counts[i] is how many times vars[i] occurs; link is the index of
	// "link" in vars.
	vars   []string
	counts []int
	link   int
	// static is the size of the literal text in rules.unit, staticBytes
	// its length in UTF-8.
	static, staticBytes int
}

// segment is literal text when v < 0, else the value of vars[v].
type segment struct {
	text string
	v    int
}

// Load reads the templates in the root of fsys: one TOML file per
// notification type, named for its id (traffic-fine.toml), with a table
// per channel. It checks all of them and reports every problem it finds,
// each naming the file and channel; the error wraps allimi.ErrInvalid.
// Other files (a README) are ignored.
func Load(fsys fs.FS) (*Set, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	s := &Set{byKey: make(map[key]*compiled, len(allimi.Types())*len(allimi.Channels))}
	var errs []error
	found := map[allimi.NotificationType]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || path.Ext(name) != ext {
			continue
		}
		t := allimi.NotificationType(strings.TrimSuffix(name, ext))
		info, ok := t.Info()
		if !ok {
			errs = append(errs, invalid(nil, "%s: unknown notification type %q (known: %s)", name, string(t), typeIDs()))
			continue
		}
		found[t] = true
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		tmpls, ferrs := loadFile(name, data, info)
		errs = append(errs, ferrs...)
		for _, c := range tmpls {
			s.byKey[key{c.t, "", c.ch}] = c
		}
	}
	for _, ti := range allimi.Types() {
		if !found[ti.ID] {
			errs = append(errs, invalid(nil, "%s%s: missing: no templates for %s (%s)", ti.ID, ext, ti.ID, ti.Name))
		}
	}
	errs = append(errs, checkCodes(s)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

var defaultSet = sync.OnceValues(func() (*Set, error) { return Load(assets.Templates()) })

// Default returns the templates compiled into the binary
// (assets/templates). It loads them once; later calls share the Set.
func Default() (*Set, error) { return defaultSet() }

// fileChannel is one channel's table in a template file.
type fileChannel struct {
	Code  string `toml:"code"`
	Title string `toml:"title"`
	Body  string `toml:"body"`
}

// loadFile parses and checks the file of one notification type. It returns
// the templates that are sound and an error for each problem.
func loadFile(file string, data []byte, info allimi.TypeInfo) ([]*compiled, []error) {
	var raw map[string]toml.Primitive
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return nil, []error{invalid(err, "%s", file)}
	}
	var (
		out  []*compiled
		errs []error
	)
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if k == TypeTable {
			continue // the type's own description (central/typefile)
		}
		if allimi.Channel(k).Validate() != nil {
			errs = append(errs, invalid(nil, "%s: unknown channel %q (known: %s)", file, k, channelIDs()))
		}
	}
	for _, ch := range allimi.Channels {
		prim, ok := raw[string(ch)]
		if !ok {
			errs = append(errs, invalid(nil, "%s: missing channel %s", file, ch))
			continue
		}
		var fc fileChannel
		if err := md.PrimitiveDecode(prim, &fc); err != nil {
			errs = append(errs, invalid(err, "%s: %s", file, ch))
			continue
		}
		c, err := compile(info, ch, fc)
		if err != nil {
			errs = append(errs, invalid(nil, "%s: %s: %v", file, ch, err))
			continue
		}
		out = append(out, c)
	}
	for _, k := range md.Undecoded() {
		if len(k) == 2 && allimi.Channel(k[0]).Validate() == nil {
			errs = append(errs, invalid(nil, "%s: %s: unknown key %q (known: code, title, body)", file, k[0], k[1]))
		}
	}
	return out, errs
}

// compile checks one channel's template and splits its body.
func compile(info allimi.TypeInfo, ch allimi.Channel, fc fileChannel) (*compiled, error) {
	r := rules(ch)
	c := &compiled{t: info.ID, ch: ch, rules: r, code: fc.Code, link: -1}

	if fc.Code == "" && r.needCode {
		return nil, errors.New("code: missing: AlimTalk sends the provider's template code")
	}
	if i := strings.IndexFunc(fc.Code, func(r rune) bool {
		return !(r == '_' || r == '-' || r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	}); i >= 0 {
		return nil, fmt.Errorf("code %q: only ASCII letters, digits, '_' and '-'", fc.Code)
	}

	title, err := checkTitle(fc.Title, r)
	if err != nil {
		return nil, fmt.Errorf("title: %w", err)
	}
	c.title = title

	body := strings.TrimSpace(strings.ReplaceAll(fc.Body, "\r\n", "\n"))
	if body == "" {
		return nil, errors.New("body: missing")
	}
	if err := checkText(body, r.unit, true); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	parts, err := parseBody(body)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	allowed := append(slices.Clone(allimi.CommonParams), info.Params...)
	for _, p := range parts {
		if p.name == "" {
			c.segs = append(c.segs, segment{text: p.text, v: -1})
			c.static += r.unit.size(p.text)
			c.staticBytes += len(p.text)
			continue
		}
		if !slices.Contains(allowed, p.name) {
			return nil, fmt.Errorf("body line %d: unknown variable %q (allowed: %s)", varLine(body, p.name), p.name, strings.Join(allowed, ", "))
		}
		i := slices.Index(c.vars, p.name)
		if i < 0 {
			i = len(c.vars)
			c.vars = append(c.vars, p.name)
			c.counts = append(c.counts, 0)
		}
		c.counts[i]++
		c.segs = append(c.segs, segment{v: i})
	}
	c.link = slices.Index(c.vars, "link")
	if c.link < 0 {
		return nil, errors.New("body has no {{link}}: every notice carries the link to its detail page")
	}
	if c.static > r.limit {
		return nil, fmt.Errorf("body is %d %s without its variables, over the limit of %d", c.static, unitName(r.unit), r.limit)
	}
	if room := r.limit - c.static; room < c.counts[c.link]*LinkRoom {
		return nil, fmt.Errorf("body line %d: the link would be cut: the text leaves %d %s of the limit of %d for {{link}}, which needs %d",
			varLine(body, "link"), room, unitName(r.unit), r.limit, c.counts[c.link]*LinkRoom)
	}
	return c, nil
}

// LinkRoom is what a body must leave of its limit for each {{link}}: a
// detail link (https://host/n/ and a 28-character token) with room to
// spare, since a link is never shortened.
const LinkRoom = 64

// varLine is the line of body on which variable name first appears.
func varLine(body, name string) int {
	i := strings.Index(body, "{{"+name)
	if i < 0 {
		i = strings.Index(body, name)
	}
	return 1 + strings.Count(body[:max(i, 0)], "\n")
}

// checkTitle checks a title, which is fixed text: it is registered with the
// AlimTalk template and shown as the headline of a push or the subject of
// an LMS. It returns the title to send: an LMS subject over its limit is
// cut, any other title over its limit is refused.
func checkTitle(title string, r channelRules) (string, error) {
	if title == "" {
		return "", errors.New("missing")
	}
	if strings.Contains(title, "{{") || strings.Contains(title, "}}") || strings.Contains(title, "#{") {
		return "", errors.New("a title is fixed text; variables go in the body")
	}
	if err := checkText(title, r.unit, false); err != nil {
		return "", err
	}
	if n := r.unit.size(title); n > r.titleLimit {
		if !r.cutTitle {
			return "", fmt.Errorf("%d %s, over the limit of %d", n, unitName(r.unit), r.titleLimit)
		}
		p, _ := r.unit.prefix(title, r.titleLimit-r.unit.size(ellipsis))
		title = p + ellipsis
	}
	return title, nil
}

// checkText refuses control characters (but newlines where allowed) and,
// for SMS, characters EUC-KR cannot carry: in a template they are mistakes.
func checkText(s string, u unit, newlines bool) error {
	set := euckrSet()
	for i, r := range s {
		switch {
		case r == '\n' && newlines:
		case r == utf8.RuneError:
			return fmt.Errorf("line %d: invalid UTF-8", 1+strings.Count(s[:i], "\n"))
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029':
			return fmt.Errorf("line %d: control character %U", 1+strings.Count(s[:i], "\n"), r)
		case u == unitEUCKR && r >= utf8.RuneSelf && !inEUCKR(set, r):
			return fmt.Errorf("line %d: %q (%U) is not in EUC-KR and cannot be sent by SMS", 1+strings.Count(s[:i], "\n"), r, r)
		}
	}
	return nil
}

// checkCodes refuses two templates with one provider template code on a
// channel: one of them would be sent with the other's text.
func checkCodes(s *Set) []error {
	var errs []error
	keys := slices.SortedFunc(maps.Keys(s.byKey), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.ch, b.ch), cmp.Compare(typeIndex(a.t), typeIndex(b.t)), cmp.Compare(a.name, b.name))
	})
	seen := map[allimi.Channel]map[string]key{}
	for _, k := range keys {
		c := s.byKey[k]
		if c.code == "" {
			continue
		}
		if seen[k.ch] == nil {
			seen[k.ch] = map[string]key{}
		}
		if other, ok := seen[k.ch][c.code]; ok {
			errs = append(errs, invalid(nil, "%s: %s: code %q is also the code of %s", k.source(), k.ch, c.code, other.owner()))
			continue
		}
		seen[k.ch][c.code] = k
	}
	return errs
}

// owner names whose template it is: a variant, or a type.
func (k key) owner() string {
	if k.name != "" {
		return k.name
	}
	return string(k.t)
}

// typeIndex orders types as allimi.Types() lists them.
func typeIndex(t allimi.NotificationType) int {
	return slices.IndexFunc(allimi.Types(), func(ti allimi.TypeInfo) bool { return ti.ID == t })
}

// source names where a template comes from, for messages.
func (k key) source() string {
	if k.name != "" {
		return k.name
	}
	return string(k.t) + ext
}

func unitName(u unit) string {
	if u == unitEUCKR {
		return "bytes (EUC-KR)"
	}
	return "characters"
}

func typeIDs() string {
	ids := make([]string, len(allimi.Types()))
	for i, ti := range allimi.Types() {
		ids[i] = string(ti.ID)
	}
	return strings.Join(ids, ", ")
}

func channelIDs() string {
	ids := make([]string, len(allimi.Channels))
	for i, ch := range allimi.Channels {
		ids[i] = string(ch)
	}
	return strings.Join(ids, ", ")
}

// loadError is a problem in the template files: its text is a sentence for
// the person who edits them, and it wraps allimi.ErrInvalid and the cause.
type loadError struct {
	msg   string
	cause error
}

func invalid(cause error, format string, args ...any) error {
	return &loadError{msg: fmt.Sprintf(format, args...), cause: cause}
}

func (e *loadError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *loadError) Unwrap() []error {
	if e.cause != nil {
		return []error{allimi.ErrInvalid, e.cause}
	}
	return []error{allimi.ErrInvalid}
}

// ProviderTemplates returns the templates of channel ch as a provider
// registers them: code → body with NHN's #{variable} placeholders. The fake
// providers render template sends with them.
func (s *Set) ProviderTemplates(ch allimi.Channel) map[string]string {
	out := map[string]string{}
	for _, c := range s.byKey {
		if c.ch != ch || c.code == "" {
			continue
		}
		var b strings.Builder
		for _, sg := range c.segs {
			if sg.v < 0 {
				b.WriteString(sg.text)
			} else {
				b.WriteString("#{" + c.vars[sg.v] + "}")
			}
		}
		out[c.code] = b.String()
	}
	return out
}
