package template

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"allimi"
)

// Variant is a named set of templates of a type other than its own: the
// messages of a program's steps ("vaccination/dose1.reminder"), each
// saying something the type's one template does not. A variant is checked
// as a type's file is (every channel, its limits, its variables, a code
// per AlimTalk channel unique among all templates); its body may use the
// variables of Vars besides the type's and the common ones.
type Variant struct {
	Type allimi.NotificationType
	Name string
	// Source names where it was written (a file, a step), for errors.
	Source   string
	Vars     []string
	Channels map[allimi.Channel]Source
}

// Source is one channel's template as written.
type Source struct {
	Code, Title, Body string
}

// With returns a Set holding s's templates and vs's. It checks each
// variant as Load checks a file and reports every problem, naming the
// variant's source and channel; the error wraps allimi.ErrInvalid. s is
// unchanged.
func (s *Set) With(vs ...Variant) (*Set, error) {
	out := &Set{byKey: maps.Clone(s.byKey)}
	var errs []error
	for _, v := range vs {
		info, ok := v.Type.Info()
		if !ok {
			errs = append(errs, invalid(nil, "%s: unknown notification type %q (known: %s)", v.Source, v.Type, typeIDs()))
			continue
		}
		if v.Name == "" {
			errs = append(errs, invalid(nil, "%s: a variant needs a name", v.Source))
			continue
		}
		info.Params = append(slices.Clip(info.Params), v.Vars...)
		for ch := range v.Channels {
			if ch.Validate() != nil {
				errs = append(errs, invalid(nil, "%s: unknown channel %q (known: %s)", v.Source, ch, channelIDs()))
			}
		}
		for _, ch := range allimi.Channels {
			src, ok := v.Channels[ch]
			if !ok {
				errs = append(errs, invalid(nil, "%s: missing channel %s", v.Source, ch))
				continue
			}
			k := key{v.Type, v.Name, ch}
			if _, dup := out.byKey[k]; dup {
				errs = append(errs, invalid(nil, "%s: %s: a second variant named %q", v.Source, ch, v.Name))
				continue
			}
			c, err := compile(info, ch, fileChannel(src))
			if err != nil {
				errs = append(errs, invalid(nil, "%s: %s: %v", v.Source, ch, err))
				continue
			}
			out.byKey[k] = c
		}
	}
	errs = append(errs, checkCodes(out)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// WithType returns a Set holding s's templates with those of a type's file
// (an administrator's, `allimi central type put`) in place of the type's
// own: the file is checked as Load checks one, for info (its params), and
// every problem reported, naming file and channel; the error wraps
// allimi.ErrInvalid. s is unchanged.
func (s *Set) WithType(info allimi.TypeInfo, file string, data []byte) (*Set, error) {
	tmpls, errs := loadFile(file, data, info)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := &Set{byKey: maps.Clone(s.byKey)}
	for k := range out.byKey {
		if k.t == info.ID && k.name == "" {
			delete(out.byKey, k)
		}
	}
	for _, c := range tmpls {
		// The provider keeps a template's text under its code: new words
		// need a new code (registered with the new words).
		if old := s.byKey[key{c.t, "", c.ch}]; old != nil && old.code != "" && old.code == c.code && old.source() != c.source() {
			errs = append(errs, invalid(nil, "%s: %s: code %q: its text changed, and the provider has the old text under that code: register the new text under a new code", file, c.ch, c.code))
		}
		out.byKey[key{c.t, "", c.ch}] = c
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if errs := checkCodes(out); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// source is the template as registered with a provider: title, and body
// with its variables.
func (c *compiled) source() string {
	var b strings.Builder
	b.WriteString(c.title)
	b.WriteByte(0)
	for _, sg := range c.segs {
		if sg.v < 0 {
			b.WriteString(sg.text)
		} else {
			b.WriteString("{{" + c.vars[sg.v] + "}}")
		}
	}
	return b.String()
}
