package kiosk

import (
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"allimi"
	"allimi/assets"
)

// Lang is a language the kiosk speaks, as a BCP 47 primary tag.
type Lang string

// The kiosk's languages, in the order the home screen offers them. Korean
// is the source language of the translation files.
const (
	LangKo Lang = "ko"
	LangEn Lang = "en"
	LangJa Lang = "ja"
	LangZh Lang = "zh"
	LangTh Lang = "th"
	LangVi Lang = "vi"
)

// Langs lists every language the kiosk offers: allimi.Languages, the
// languages a sign-up may name (the constants above are the same six).
var Langs = func() []Lang {
	ls := make([]Lang, len(allimi.Languages))
	for i, l := range allimi.Languages {
		ls[i] = Lang(l)
	}
	return ls
}()

// DefaultLang is the language a fresh session starts in.
const DefaultLang = LangKo

// Translations maps a language to its strings, keyed "section.key".
type Translations map[Lang]map[string]string

// LoadTranslations reads one TOML file per language from fsys (ko.toml,
// en.toml, ...) and flattens its tables into dotted keys.
func LoadTranslations(fsys fs.FS) (Translations, error) {
	tr := Translations{}
	for _, l := range Langs {
		name := string(l) + ".toml"
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("translations: %w", err)
		}
		var raw map[string]any
		if err := toml.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("translations %s: %w", name, err)
		}
		flat := map[string]string{}
		if err := flatten("", raw, flat); err != nil {
			return nil, fmt.Errorf("translations %s: %w", name, err)
		}
		tr[l] = flat
	}
	return tr, nil
}

func flatten(prefix string, m map[string]any, out map[string]string) error {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case string:
			out[key] = v
		case map[string]any:
			if err := flatten(key, v, out); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: a %T, want a string or a table", key, v)
		}
	}
	return nil
}

// builtin are the translations embedded in assets; a broken file is a
// build defect that the tests catch, so the kiosk still starts (showing
// keys) rather than refusing to serve anyone.
var builtin = func() Translations {
	tr, err := LoadTranslations(assets.Translations())
	if err != nil {
		slog.Error("kiosk translations not loaded", "err", err)
		return Translations{}
	}
	return tr
}()

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// T returns the string for key in language l with its {placeholders}
// replaced by args, given as name, value pairs. A key missing in l falls
// back to Korean, then to the key itself, so a gap shows and is logged
// instead of crashing a kiosk in front of a person.
func (l Lang) T(key string, args ...any) string {
	s, ok := builtin[l][key]
	if !ok {
		slog.Warn("missing translation", "lang", l, "key", key)
		if s, ok = builtin[DefaultLang][key]; !ok {
			s = key
		}
	}
	if len(args) == 0 {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Name is the language's own name for itself (한국어, English, ...).
func (l Lang) Name() string { return l.T("lang.name") }

// Valid reports whether l is one of Langs.
func (l Lang) Valid() bool {
	for _, x := range Langs {
		if x == l {
			return true
		}
	}
	return false
}

// typeKey and channelKey name the translation of a notification type's or
// channel's field ("name" or "desc"). Every key the code builds at run
// time goes through these two, so the coverage test can list them all.
func typeKey(t allimi.NotificationType, field string) string {
	return "type." + string(t) + "." + field
}

// TypeName is a type's name in l: the translation files' for the types
// the kiosk ships with, else the one central's types' catalog gave (in l,
// else Korean).
func (l Lang) TypeName(t allimi.NotificationType) string {
	if l.has(typeKey(t, "name")) {
		return l.T(typeKey(t, "name"))
	}
	ti, _ := t.Info()
	if n := ti.Names[string(l)]; n != "" {
		return n
	}
	if ti.Name != "" {
		return ti.Name
	}
	return string(t)
}

// TypeDesc is a type's line saying what it tells the person, in l, as
// TypeName finds it.
func (l Lang) TypeDesc(t allimi.NotificationType) string {
	if l.has(typeKey(t, "desc")) {
		return l.T(typeKey(t, "desc"))
	}
	ti, _ := t.Info()
	if d := ti.Descs[string(l)]; d != "" {
		return d
	}
	return ti.Descs[string(DefaultLang)]
}

// has says whether the translation files have key, in l or in Korean.
func (l Lang) has(key string) bool {
	_, ok := builtin[l][key]
	if !ok {
		_, ok = builtin[DefaultLang][key]
	}
	return ok
}

func channelKey(c allimi.Channel, field string) string {
	return "channel." + string(c) + "." + field
}

// dynamicKeys are the keys the code builds from the domain's types and
// channels.
func dynamicKeys() []string {
	var keys []string
	for _, ti := range allimi.SignupTypes() {
		keys = append(keys, typeKey(ti.ID, "name"), typeKey(ti.ID, "desc"))
	}
	for _, c := range allimi.Channels {
		keys = append(keys, channelKey(c, "name"), channelKey(c, "desc"))
	}
	// New benefits is not in the sign-up list, but its consent and the
	// staff's list of the day name it.
	keys = append(keys, typeKey(allimi.TypeNewBenefits, "name"), typeKey(allimi.TypeNewBenefits, "desc"))
	keys = append(keys, subsidyCodeKeys()...)
	return append(keys, reasonKeys()...)
}

// placeholders lists the {names} in s, sorted.
func placeholders(s string) []string {
	p := placeholder.FindAllString(s, -1)
	sort.Strings(p)
	return p
}
