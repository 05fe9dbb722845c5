// Package programs runs central's programs of notifications: series of
// notices to one person over time (a two-dose vaccination's seven
// messages, a licence's reminders, a penalty's until it is paid). It loads
// the programs (TOML files, assets/programs), schedules each enrolment's
// steps from its anchor dates, and hands each step, when it is due or when
// the agency's event comes, to the dispatcher as a notification of its own
// — at most once, whatever restarts happen in between.
package programs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"allimi"
	"allimi/assets"
	"allimi/central/template"
)

// OnEnrolment is the event of a step sent when the person is enrolled.
const OnEnrolment = "enrolled"

// Program is one program as its file defines it.
type Program struct {
	ID      string
	Name    string // what people read: "코로나19 예방접종 (2회)"
	Type    allimi.NotificationType
	Aliases []string
	Anchors []Anchor
	Params  []Param
	// Ends are the agency's events that cancel the steps not yet sent
	// (a penalty paid, a licence renewed).
	Ends  []string
	Steps []Step
}

// Anchor is a date a program's steps hang on.
type Anchor struct {
	ID    string
	Label string // the detail page's label
	// Optional anchors may be given later (PATCH); their steps wait.
	Optional bool
}

// Param is a value the agency gives at enrolment (when Required) or may
// give, at enrolment or with an event.
type Param struct {
	ID, Label string
	Default   string
	Required  bool
}

// Stale says when a timed step is no longer worth sending.
type Stale string

// When a step goes stale.
const (
	StaleNever     Stale = ""
	StaleAnchorDay Stale = "anchor-day" // once the anchor's day has begun (KST): a "day before" reminder
	StaleAnchor    Stale = "anchor"     // once the anchor itself has passed: a reminder of a due date
)

// Step is one message of a program: at an offset from an anchor, or on an
// event (sent at once, day or night).
type Step struct {
	ID string
	// On is the event that sends it (OnEnrolment, or an agency's event);
	// empty for a timed step.
	On string
	// Anchor, Days and Minute place a timed step: the anchor's day (KST)
	// plus Days, at Minute minutes past midnight KST, moved out of quiet
	// hours. With Offset set instead, it is the anchor plus Offset (an
	// hour before an appointment).
	Anchor string
	Days   int
	Minute int
	Offset time.Duration
	Stale  Stale
	// Urgent timed steps go day or night, and are not moved out of
	// quiet hours.
	Urgent bool
	Title  string
	// Set gives the type's parameters from the step's variables
	// ("{{dose1}}"), so that its detail page reads as the type's do.
	Set map[string]string
	// Template is the templates' name (Program.ID/Step.ID).
	Template string
}

// Timed says whether s is placed by an anchor rather than sent on an event.
func (s *Step) Timed() bool { return s.On == "" }

// Set is the programs central runs.
type Set struct {
	byID     map[string]*Program
	ordered  []*Program
	variants []template.Variant
}

// Get returns the program with the id or alias, if there is one.
func (s *Set) Get(id string) (*Program, bool) {
	p, ok := s.byID[id]
	return p, ok
}

// All lists the programs in id order.
func (s *Set) All() []*Program { return s.ordered }

// IDs lists the programs' ids, for messages.
func (s *Set) IDs() string {
	ids := make([]string, len(s.ordered))
	for i, p := range s.ordered {
		ids[i] = p.ID
	}
	return strings.Join(ids, ", ")
}

// Templates returns tmpl with the programs' steps' templates added.
func (s *Set) Templates(tmpl *template.Set) (*template.Set, error) { return tmpl.With(s.variants...) }

var defaultSet = sync.OnceValues(func() (*Set, error) { return Load(assets.Programs()) })

// Default returns the programs compiled into the binary (assets/programs).
func Default() (*Set, error) { return defaultSet() }

// WithDir loads the programs compiled into the binary and those of the
// directory dir (an operator's own; none when empty), against the types
// known now (an administrator's too, unlike Default's, loaded once).
func WithDir(dir string) (*Set, error) {
	if dir == "" {
		return Load(assets.Programs())
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("programs directory: %w", err)
	}
	return Load(assets.Programs(), os.DirFS(dir))
}

// file is a program file as written.
type file struct {
	Name    string       `toml:"name"`
	Type    string       `toml:"type"`
	Aliases []string     `toml:"aliases"`
	Ends    []string     `toml:"ends"`
	Anchors []fileAnchor `toml:"anchor"`
	Params  []fileParam  `toml:"param"`
	Steps   []fileStep   `toml:"step"`
}

type fileAnchor struct {
	ID       string `toml:"id"`
	Label    string `toml:"label"`
	Optional bool   `toml:"optional"`
}

type fileParam struct {
	ID       string `toml:"id"`
	Label    string `toml:"label"`
	Default  string `toml:"default"`
	Required bool   `toml:"required"`
}

type fileStep struct {
	ID     string            `toml:"id"`
	On     string            `toml:"on"`
	Anchor string            `toml:"anchor"`
	Days   int               `toml:"days"`
	At     string            `toml:"at"`
	Offset string            `toml:"offset"`
	Urgent bool              `toml:"urgent"`
	Stale  string            `toml:"stale"`
	Title  string            `toml:"title"`
	Body   string            `toml:"body"`
	SMS    string            `toml:"sms"`
	Codes  map[string]string `toml:"codes"`
	Set    map[string]string `toml:"set"`
}

var (
	idPattern    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	namePattern  = regexp.MustCompile(`^[a-z][a-zA-Z0-9]{0,30}$`)
	stepPattern  = regexp.MustCompile(`^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$`)
	eventPattern = stepPattern
	atPattern    = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)
	varPattern   = regexp.MustCompile(`\{\{\s*([^{}\s]*)\s*\}\}`)
)

// Load reads the programs in the root of fsys, one TOML file per program
// named for its id (vaccination.toml). It checks everything — names,
// anchors, timing, events, every step's templates on every channel — and
// reports every problem, each naming the file and step; the error wraps
// allimi.ErrInvalid.
//
// Several file systems are read in turn (the programs shipped, then an
// operator's directory); a program's id is unique among all of them.
func Load(fsyss ...fs.FS) (*Set, error) {
	s := &Set{byID: map[string]*Program{}}
	base, err := template.Default()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, fsys := range fsyss {
		errs = append(errs, s.load(fsys)...)
	}
	if len(errs) == 0 {
		if _, err := base.With(s.variants...); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(s.ordered, func(a, b *Program) int { return strings.Compare(a.ID, b.ID) })
	return s, nil
}

// load adds the programs of one directory.
func (s *Set) load(fsys fs.FS) []error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return []error{fmt.Errorf("load programs: %w", err)}
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".toml" {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		p, vs, ferrs := parse(name, data)
		errs = append(errs, ferrs...)
		if p == nil {
			continue
		}
		for _, id := range append([]string{p.ID}, p.Aliases...) {
			if other, dup := s.byID[id]; dup {
				errs = append(errs, invalidf("%s: %q is also %s's", name, id, other.ID))
				continue
			}
			s.byID[id] = p
		}
		s.ordered = append(s.ordered, p)
		s.variants = append(s.variants, vs...)
	}
	return errs
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), allimi.ErrInvalid)
}

// parse checks one program file; p is nil when it cannot be used at all.
func parse(name string, data []byte) (*Program, []template.Variant, []error) {
	var f file
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, nil, []error{invalidf("%s: %v", name, err)}
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, invalidf(name+": "+format, args...))
	}
	for _, k := range md.Undecoded() {
		bad("unknown key %q", k.String())
	}
	p := &Program{ID: strings.TrimSuffix(name, ".toml"), Name: strings.TrimSpace(f.Name), Type: allimi.NotificationType(f.Type),
		Aliases: f.Aliases, Ends: f.Ends}
	if !idPattern.MatchString(p.ID) {
		bad("a program's id (its file's name) is 1-40 lower-case letters, digits and dashes")
	}
	for _, a := range p.Aliases {
		if !idPattern.MatchString(a) {
			bad("alias %q: 1-40 lower-case letters, digits and dashes", a)
		}
	}
	if p.Name == "" {
		bad("name: missing")
	}
	info, ok := p.Type.Info()
	if !ok {
		bad("type %q: unknown", f.Type)
		return nil, nil, errs
	}
	vars := map[string]bool{}
	for _, v := range append(slices.Clone(allimi.CommonParams), info.Params...) {
		vars[v] = true
	}
	typeParam := map[string]bool{}
	for _, v := range info.Params {
		typeParam[v] = true
	}
	declare := func(what, id string) bool {
		if !namePattern.MatchString(id) {
			bad("%s %q: a name of letters and digits, starting lower-case", what, id)
			return false
		}
		if vars[id] && !typeParam[id] {
			bad("%s %q: the name is taken", what, id)
			return false
		}
		vars[id] = true
		return true
	}
	for _, a := range f.Anchors {
		if declare("anchor", a.ID) && declare("anchor", a.ID+"Year") {
			p.Anchors = append(p.Anchors, Anchor{ID: a.ID, Label: strings.TrimSpace(a.Label), Optional: a.Optional})
			if strings.TrimSpace(a.Label) == "" {
				bad("anchor %s: label missing", a.ID)
			}
		}
	}
	for _, pa := range f.Params {
		if !namePattern.MatchString(pa.ID) {
			bad("param %q: a name of letters and digits, starting lower-case", pa.ID)
			continue
		}
		if vars[pa.ID] && !typeParam[pa.ID] {
			bad("param %q: the name is taken", pa.ID)
			continue
		}
		vars[pa.ID] = true
		if strings.TrimSpace(pa.Label) == "" || (strings.TrimSpace(pa.Default) == "") != pa.Required {
			bad("param %s: a label, and either a default or required = true", pa.ID)
		}
		p.Params = append(p.Params, Param{ID: pa.ID, Label: strings.TrimSpace(pa.Label), Default: strings.TrimSpace(pa.Default),
			Required: pa.Required})
	}
	for _, ev := range p.Ends {
		if !eventPattern.MatchString(ev) || ev == OnEnrolment {
			bad("ends: event %q: lower-case words joined by dots, not %q", ev, OnEnrolment)
		}
	}
	extra := make([]string, 0, len(vars))
	for v := range vars {
		if !slices.Contains(allimi.CommonParams, v) && !typeParam[v] {
			extra = append(extra, v)
		}
	}
	slices.Sort(extra)
	var variants []template.Variant
	seen := map[string]bool{}
	for i, fs := range f.Steps {
		where := fmt.Sprintf("step %d (%s)", i+1, fs.ID)
		if !stepPattern.MatchString(fs.ID) || seen[fs.ID] {
			bad("%s: id: lower-case words joined by dots, unique in the program", where)
			continue
		}
		seen[fs.ID] = true
		st := Step{ID: fs.ID, On: fs.On, Anchor: fs.Anchor, Days: fs.Days, Stale: Stale(fs.Stale), Title: strings.TrimSpace(fs.Title),
			Set: fs.Set, Template: p.ID + "/" + fs.ID, Urgent: fs.Urgent}
		switch {
		case st.On != "" && (st.Anchor != "" || fs.At != "" || fs.Offset != "" || st.Days != 0 || st.Stale != "" || st.Urgent):
			bad("%s: a step is either on an event (sent at once) or at a time from an anchor, not both", where)
		case st.On != "":
			if st.On != OnEnrolment && !eventPattern.MatchString(st.On) {
				bad("%s: on %q: %q or an event of lower-case words joined by dots", where, st.On, OnEnrolment)
			}
		default:
			if !slices.ContainsFunc(p.Anchors, func(a Anchor) bool { return a.ID == st.Anchor }) {
				bad("%s: anchor %q: not one of the program's", where, st.Anchor)
			}
			if fs.Offset != "" {
				d, err := time.ParseDuration(fs.Offset)
				switch {
				case fs.At != "" || st.Days != 0:
					bad("%s: offset, or days and at: not both", where)
				case err != nil || d.Abs() > 366*24*time.Hour:
					bad("%s: offset %q: a duration within a year of the anchor (-1h, -90m)", where, fs.Offset)
				}
				st.Offset = d
				break
			}
			m := atPattern.FindStringSubmatch(fs.At)
			if m == nil {
				bad("%s: at %q: a time of day HH:MM (KST)", where, fs.At)
			} else {
				h, _ := strconv.Atoi(m[1])
				mi, _ := strconv.Atoi(m[2])
				st.Minute = h*60 + mi
			}
			if st.Days < -366 || st.Days > 366 {
				bad("%s: days %d: within a year of the anchor", where, st.Days)
			}
			switch st.Stale {
			case StaleNever, StaleAnchorDay, StaleAnchor:
			default:
				bad("%s: stale %q: %q, %q or nothing", where, st.Stale, StaleAnchorDay, StaleAnchor)
			}
		}
		if st.Title == "" {
			bad("%s: title missing", where)
		}
		for k, v := range st.Set {
			if !typeParam[k] {
				bad("%s: set %q: not a parameter of %s (%s)", where, k, p.Type, strings.Join(info.Params, ", "))
			}
			for _, m := range varPattern.FindAllStringSubmatch(v, -1) {
				if !vars[m[1]] || typeParam[m[1]] || m[1] == "link" || m[1] == "name" {
					bad("%s: set %s: unknown variable %q", where, k, m[1])
				}
			}
		}
		for _, tp := range p.ungiven(&st, info.Params) {
			bad("%s: the type's parameter %s is neither set nor a param of the program", where, tp)
		}
		v := template.Variant{Type: p.Type, Name: st.Template, Source: name + ": " + where, Vars: extra,
			Channels: map[allimi.Channel]template.Source{}}
		for _, ch := range allimi.Channels {
			src := template.Source{Title: st.Title, Body: fs.Body, Code: fs.Codes[string(ch)]}
			switch ch {
			case allimi.ChannelKakao, allimi.ChannelNaver:
				if src.Code == "" {
					src.Code = defaultCode(p.ID, st.ID)
				}
			case allimi.ChannelSMS:
				src.Title = "[알리미] " + st.Title
				if fs.SMS != "" {
					src.Body = fs.SMS
				}
			}
			v.Channels[ch] = src
		}
		for k := range fs.Codes {
			if allimi.Channel(k) != allimi.ChannelKakao && allimi.Channel(k) != allimi.ChannelNaver {
				bad("%s: codes: %q: only kakao and naver have template codes", where, k)
			}
		}
		variants = append(variants, v)
		p.Steps = append(p.Steps, st)
	}
	if len(p.Steps) == 0 {
		bad("no steps")
	}
	for _, ev := range p.Ends {
		if slices.ContainsFunc(p.Steps, func(s Step) bool { return s.On == ev }) {
			bad("ends: %q also sends steps: an event either sends steps or ends the program", ev)
		}
	}
	return p, variants, errs
}

// defaultCode is a step's AlimTalk template code when its file gives none.
func defaultCode(program, step string) string {
	return "ALLIMI_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(program+"_"+step))
}

// Events lists the agency's events the program knows: those that send
// steps, then those that end it.
func (p *Program) Events() []string {
	var out []string
	for _, s := range p.Steps {
		if s.On != "" && s.On != OnEnrolment && !slices.Contains(out, s.On) {
			out = append(out, s.On)
		}
	}
	for _, e := range p.Ends {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// Step returns the step called id.
func (p *Program) Step(id string) (*Step, bool) {
	for i := range p.Steps {
		if p.Steps[i].ID == id {
			return &p.Steps[i], true
		}
	}
	return nil, false
}

// CheckType says whether the programs still work with a type as info
// describes it (an administrator changing it): every step of a program of
// the type must give each of the type's params, by its set or a param of
// the program.
func (s *Set) CheckType(info allimi.TypeInfo) error {
	var errs []error
	for _, p := range s.ordered {
		if p.Type != info.ID {
			continue
		}
		for _, st := range p.Steps {
			for _, tp := range p.ungiven(&st, info.Params) {
				errs = append(errs, invalidf("program %s, step %s: gives no %s, a param of %s", p.ID, st.ID, tp, info.ID))
			}
		}
	}
	return errors.Join(errs...)
}

// ungiven are the type params among params that step st gives neither by
// its set nor as a param of the program.
func (p *Program) ungiven(st *Step, params []string) []string {
	var out []string
	for _, tp := range params {
		if _, ok := st.Set[tp]; !ok && !slices.ContainsFunc(p.Params, func(pa Param) bool { return pa.ID == tp }) {
			out = append(out, tp)
		}
	}
	return out
}
