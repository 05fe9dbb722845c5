// Package typefile reads a notification type's file as an administrator
// puts it (`allimi central type put --file F`, PUT /api/v1/types/{id}): its
// [type] table — id, names, params and their labels, what the notice lets
// the person do — and, through central/template, its channels' templates,
// all checked before anything is kept, every problem named.
//
//	[type]
//	id = "parking-fine"
//	name = "주정차 위반 과태료"
//	names = { en = "Parking fine", ja = "駐停車違反の過料" }
//	descs = { ko = "주정차 위반 과태료가 부과되면 알려 드립니다", en = "…" }
//	params = ["amount", "place", "dueDate"]
//	labels = { amount = "금액(원)", place = "단속 장소", dueDate = "납부 기한" }
//	payable = true
//
//	[kakao]
//	code = "ALLIMI_PARKING_FINE_01"
//	…
package typefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"allimi"
	"allimi/central/programs"
	"allimi/central/template"
)

// file is the [type] table as written.
type file struct {
	Type *table `toml:"type"`
}

type table struct {
	ID           string            `toml:"id"`
	Name         string            `toml:"name"`
	Names        map[string]string `toml:"names"`
	Descs        map[string]string `toml:"descs"`
	Params       []string          `toml:"params"`
	Optional     []string          `toml:"optional"`
	Labels       map[string]string `toml:"labels"`
	Payable      bool              `toml:"payable"`
	Authenticate bool              `toml:"authenticate"`
	Eligibility  bool              `toml:"eligibility"`
}

var paramPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9]{0,30}$`)

// MaxSize bounds a type's file.
const MaxSize = 256 << 10

// Parse reads the [type] table of a type's file named name and checks it.
// Its error wraps allimi.ErrInvalid and names every problem.
func Parse(name string, data []byte) (allimi.TypeInfo, error) {
	if len(data) > MaxSize {
		return allimi.TypeInfo{}, fmt.Errorf("%s: larger than %d bytes: %w", name, MaxSize, allimi.ErrInvalid)
	}
	var f file
	if _, err := toml.Decode(string(data), &f); err != nil {
		return allimi.TypeInfo{}, fmt.Errorf("%s: %v: %w", name, err, allimi.ErrInvalid)
	}
	if f.Type == nil {
		return allimi.TypeInfo{}, fmt.Errorf("%s: no [type] table (id, name, params…): %w", name, allimi.ErrInvalid)
	}
	t := f.Type
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: [type] %s: %w", name, fmt.Sprintf(format, args...), allimi.ErrInvalid))
	}
	info := allimi.TypeInfo{ID: allimi.NotificationType(t.ID), Name: strings.TrimSpace(t.Name), Names: t.Names, Descs: t.Descs,
		Params: t.Params, Optional: t.Optional, Labels: t.Labels, Capabilities: []allimi.Capability{allimi.CapNotify}}
	if err := allimi.ValidateTypeID(info.ID); err != nil {
		bad("id: %v", err)
	}
	if info.Name == "" {
		bad("name: the Korean name is required")
	}
	for lang := range t.Names {
		if lang == "" || lang == allimi.DefaultLanguage || allimi.ValidateLanguage("", lang) != nil {
			bad("names: %q: one of %s (the Korean is name)", lang, strings.Join(allimi.Languages[1:], ", "))
		}
	}
	for lang := range t.Descs {
		if lang == "" || allimi.ValidateLanguage("", lang) != nil {
			bad("descs: %q: one of %s", lang, strings.Join(allimi.Languages, ", "))
		}
	}
	all := append(slices.Clip(t.Params), t.Optional...)
	for i, p := range all {
		switch {
		case !paramPattern.MatchString(p):
			bad("params %q: letters and digits, starting lower-case", p)
		case slices.Contains(allimi.CommonParams, p):
			bad("params %q: central fills it in itself", p)
		case slices.Contains(all[:i], p):
			bad("params %q: twice (params and optional are one list)", p)
		}
	}
	for p, l := range t.Labels {
		if !slices.Contains(all, p) {
			bad("labels: %q is not one of params or optional", p)
		}
		if strings.TrimSpace(l) == "" || len([]rune(l)) > 50 {
			bad("labels.%s: 1-50 characters", p)
		}
	}
	if t.Payable {
		info.Capabilities = append(info.Capabilities, allimi.CapPay)
	}
	if t.Authenticate {
		info.Capabilities = append(info.Capabilities, allimi.CapAuthenticate)
	}
	if t.Eligibility {
		info.Capabilities = append(info.Capabilities, allimi.CapEligibility)
	}
	if len(errs) > 0 {
		return allimi.TypeInfo{}, errors.Join(errs...)
	}
	return info, nil
}

// Check reads a type's file whole: its [type] table, which must name the
// type id (the URL's, the file's), its templates (on base, the templates
// in use), and that every program of the type still gives the type's
// params. It returns the type and the templates with the file's in place.
func Check(id allimi.NotificationType, name string, data []byte, base *template.Set, progs *programs.Set) (allimi.TypeInfo, *template.Set, error) {
	info, err := Parse(name, data)
	if err != nil {
		return info, nil, err
	}
	if info.ID != id {
		return info, nil, fmt.Errorf("%s: [type] id %q is not the type put (%s): %w", name, info.ID, id, allimi.ErrInvalid)
	}
	if id == allimi.TypeNewBenefits {
		return info, nil, fmt.Errorf("%s: %s is central's own (the Subsidy 24 matcher's): %w", name, id, allimi.ErrInvalid)
	}
	set, err := base.WithType(info, name, data)
	if err != nil {
		return info, nil, err
	}
	if progs != nil {
		if err := progs.CheckType(info); err != nil {
			return info, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return info, set, nil
}

// Apply makes known the types of defs (the latest version of each type
// put, as allimi.TypeDefs lists them) with their templates on top of base.
// A def that no longer checks is left out and its error returned among
// errs; the others are applied regardless. applied are the types made
// known, with their versions.
func Apply(defs []allimi.TypeDef, base *template.Set) (set *template.Set, applied []allimi.TypeInfo, errs []error) {
	set = base
	for _, d := range defs {
		info, next, err := Check(d.ID, fmt.Sprintf("%s v%d", d.ID, d.Version), d.File, set, nil)
		if err == nil {
			info.Version = d.Version
			err = allimi.PutType(info)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("type %s version %d: %w", d.ID, d.Version, err))
			continue
		}
		set, applied = next, append(applied, info)
	}
	return set, applied, errs
}

// Catalog is the body of the types' catalog (allimi.TypesCatalog) for the
// types put: each as known now.
func Catalog(defs []allimi.TypeDef) ([]byte, error) {
	list := allimi.TypeList{Types: []allimi.TypeInfo{}}
	for _, d := range defs {
		if info, ok := d.ID.Info(); ok {
			list.Types = append(list.Types, info)
		}
	}
	return json.Marshal(list)
}

// FromJSON is a type's file given as JSON — the same tables as the TOML,
// {"type":{…},"kakao":{…},"en":{"kakao":{…}}} — written as TOML, the form
// central keeps; a TOML file is returned as it is.
func FromJSON(data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return data, nil
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(trimmed))
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("a type's file as JSON: %v: %w", err, allimi.ErrInvalid)
	}
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("a type's file as JSON: %v: %w", err, allimi.ErrInvalid)
	}
	return b.Bytes(), nil
}
