// Package pagetext reads the words of central's web pages in each
// language of the kiosk (allimi.Languages) from a TOML file with one table
// per language, and says in Korean whatever a language lacks: a page is
// one html/template whose words come from the table of its reader's
// language, not a copy of the page per language.
package pagetext

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"allimi"
)

// Load decodes src, a table per language ([ko], [en] …), into a T, a
// struct, per language of allimi.Languages. The Korean table must define
// every field but those tagged pagetext:"optional"; a field another
// language does not define is Korean's, and a language without a table is
// all Korean. Fields tagged toml:"-" are left alone. A key no field has, or
// a table of a language the kiosk does not speak, is an error.
func Load[T any](name, src string) (map[string]*T, error) {
	var raw map[string]*T
	md, err := toml.Decode(src, &raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("%s: unknown keys %v", name, un)
	}
	ko := raw[allimi.DefaultLanguage]
	if ko == nil {
		return nil, fmt.Errorf("%s: no [%s] table", name, allimi.DefaultLanguage)
	}
	typ := reflect.TypeFor[T]()
	if typ.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s: words go in a struct, not a %s", name, typ)
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if Key(f) != "" && f.Tag.Get("pagetext") != "optional" && !md.IsDefined(allimi.DefaultLanguage, Key(f)) {
			return nil, fmt.Errorf("%s: [%s] has no %s", name, allimi.DefaultLanguage, Key(f))
		}
	}
	kv := reflect.ValueOf(ko).Elem()
	out := map[string]*T{}
	for lang, t := range raw {
		if !slices.Contains(allimi.Languages, lang) {
			return nil, fmt.Errorf("%s: [%s]: not one of %s", name, lang, strings.Join(allimi.Languages, ", "))
		}
		tv := reflect.ValueOf(t).Elem()
		for i := range typ.NumField() {
			if k := Key(typ.Field(i)); k != "" && !md.IsDefined(lang, k) {
				tv.Field(i).Set(kv.Field(i))
			}
		}
		out[lang] = t
	}
	for _, lang := range allimi.Languages {
		if out[lang] == nil {
			c := *ko
			out[lang] = &c
		}
	}
	return out, nil
}

// Key is the key of field f in the file: its toml tag, else its name with
// its first letters lower case (AM → am, TitleForm → titleForm), as the
// decoder matches them; "" for a field tagged toml:"-" or unexported.
func Key(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag != "" {
		if tag == "-" {
			return ""
		}
		return tag
	}
	name := f.Name
	if strings.ToUpper(name) == name {
		return strings.ToLower(name)
	}
	return strings.ToLower(name[:1]) + name[1:]
}
