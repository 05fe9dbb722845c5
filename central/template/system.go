package template

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"allimi"
	"allimi/assets"
)

// SystemFile is where central's own messages live, inside the templates.
const SystemFile = "system/messages.toml"

// Central's own messages and the variables each may use.
const (
	// SignupConfirmation tells the owner of a number that a sign-up made
	// at a kiosk without network was registered in their name.
	SignupConfirmation = "signup-confirmation"
	// VerificationCode carries the code a person types on the kiosk.
	VerificationCode = "verification-code"
	// QuestionAnswer carries an official's answer to a question asked at
	// a kiosk.
	QuestionAnswer = "question-answer"
)

var systemVars = map[string][]string{
	SignupConfirmation: {"name", "date"},
	VerificationCode:   {"code", "minutes"},
	QuestionAnswer:     {"name", "answer", "code"},
}

// System holds central's own text messages: not agency notices, but what
// central itself tells a person by SMS/LMS.
type System struct {
	msgs map[string][]part
}

// LoadSystem reads SystemFile from fsys and checks every message: each one
// is present, uses only its variables, and fits an LMS.
func LoadSystem(fsys fs.FS) (*System, error) {
	data, err := fs.ReadFile(fsys, SystemFile)
	if err != nil {
		return nil, fmt.Errorf("system messages: %w", err)
	}
	var raw map[string]fileChannel
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return nil, invalid(err, "%s: %v", SystemFile, err)
	}
	var errs []error
	if un := md.Undecoded(); len(un) > 0 {
		errs = append(errs, invalid(nil, "%s: unknown keys %v (a message has only body)", SystemFile, un))
	}
	s := &System{msgs: map[string][]part{}}
	for name, fc := range raw {
		allowed, ok := systemVars[name]
		if !ok {
			errs = append(errs, invalid(nil, "%s: unknown message [%s] (known: %s)", SystemFile, name, systemNames()))
			continue
		}
		body := strings.TrimSpace(fc.Body)
		parts, err := parseBody(body)
		if err != nil {
			errs = append(errs, invalid(err, "%s [%s]: %v", SystemFile, name, err))
			continue
		}
		for _, p := range parts {
			if p.name != "" && !contains(allowed, p.name) {
				errs = append(errs, invalid(nil, "%s [%s]: unknown variable {{%s}} (it may use %s)", SystemFile, name, p.name, strings.Join(allowed, ", ")))
			}
		}
		if n := EUCKRLen(body); n > lmsBytes {
			errs = append(errs, invalid(nil, "%s [%s]: %d EUC-KR bytes, over an LMS's %d", SystemFile, name, n, lmsBytes))
		}
		s.msgs[name] = parts
	}
	for name := range systemVars {
		if _, ok := raw[name]; !ok {
			errs = append(errs, invalid(nil, "%s: missing message [%s]", SystemFile, name))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

var defaultSystem = sync.OnceValues(func() (*System, error) { return LoadSystem(assets.Templates()) })

// DefaultSystem returns the system messages compiled into the binary.
func DefaultSystem() (*System, error) { return defaultSystem() }

// Render fills in a message. lms is true when it is longer than an SMS
// (90 EUC-KR bytes).
func (s *System) Render(name string, vars map[string]string) (text string, lms bool, err error) {
	parts, ok := s.msgs[name]
	if !ok {
		return "", false, fmt.Errorf("system message %q: %w", name, allimi.ErrNotFound)
	}
	var b strings.Builder
	for _, p := range parts {
		if p.name == "" {
			b.WriteString(p.text)
			continue
		}
		v, ok := vars[p.name]
		if !ok {
			return "", false, fmt.Errorf("system message %s: %w %q", name, ErrMissingValue, p.name)
		}
		b.WriteString(clean(v, true))
	}
	text = b.String()
	n := EUCKRLen(text)
	if n > lmsBytes {
		return "", false, fmt.Errorf("system message %s: %d EUC-KR bytes, over an LMS's %d: %w", name, n, lmsBytes, allimi.ErrInvalid)
	}
	return text, n > smsBytes, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func systemNames() string {
	names := make([]string, 0, len(systemVars))
	for n := range systemVars {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
