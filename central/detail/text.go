package detail

import (
	_ "embed"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"allimi"
)

//go:embed text.toml
var textSource string

// pageText is the page's own words in one language (text.toml); the
// template calls its methods for the sentences that hold numbers.
type pageText struct {
	Lang string `toml:"-"`

	Brand                                                           string
	TitleForm, TitleNotFound, TitleExpired, TitleLocked, TitleError string
	Contact                                                         string
	Wrong, BadDate, FormIntro                                       string
	BirthDate, Year, Month, Day, Choose                             string
	MonthFormat                                                     string `toml:"monthOption"`
	DayOption, Submit, FormNote                                     string
	SentBy, Pay, PayNote, DetailsNote, Date                         string
	NotFound, Expired, Locked                                       string
	AM, PM, Hour, HourMinute, OnDay, TryAfter                       string
	LockedHelp, ErrorText                                           string
	Months                                                          []string
	// Labels name a notice's parameters (RecipientFieldsIn); Korean's
	// are paramLabels.
	Labels map[string]string `toml:"labels"`
}

// texts are the page's words by language, every one complete: a key a
// language lacks in text.toml is taken from Korean.
var texts = mustLoadTexts(textSource)

func mustLoadTexts(src string) map[string]*pageText {
	m, err := loadTexts(src)
	if err != nil {
		panic(err)
	}
	return m
}

// loadTexts reads text.toml: a table per language of allimi.Languages,
// Korean complete; a string or list another language lacks is Korean's.
func loadTexts(src string) (map[string]*pageText, error) {
	var raw map[string]*pageText
	md, err := toml.Decode(src, &raw)
	if err != nil {
		return nil, fmt.Errorf("detail page text: %w", err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("detail page text: unknown keys %v", un)
	}
	ko := raw[allimi.DefaultLanguage]
	if ko == nil {
		return nil, fmt.Errorf("detail page text: no [%s] table", allimi.DefaultLanguage)
	}
	kv := reflect.ValueOf(ko).Elem()
	for i := range kv.NumField() {
		if f := kv.Type().Field(i); f.Name != "Lang" && f.Name != "Labels" && kv.Field(i).IsZero() {
			return nil, fmt.Errorf("detail page text: [%s] has no %s", allimi.DefaultLanguage, f.Name)
		}
	}
	if len(ko.Months) != 12 {
		return nil, fmt.Errorf("detail page text: [%s] months: want 12", allimi.DefaultLanguage)
	}
	out := map[string]*pageText{}
	for lang, t := range raw {
		if !slices.Contains(allimi.Languages, lang) {
			return nil, fmt.Errorf("detail page text: [%s]: not one of %s", lang, strings.Join(allimi.Languages, ", "))
		}
		if len(t.Months) != 0 && len(t.Months) != 12 {
			return nil, fmt.Errorf("detail page text: [%s] months: want 12", lang)
		}
		tv := reflect.ValueOf(t).Elem()
		for i := range tv.NumField() {
			f := tv.Type().Field(i)
			if f.Name != "Lang" && !md.IsDefined(lang, tomlKey(f)) {
				tv.Field(i).Set(kv.Field(i))
			}
		}
		t.Lang = lang
		out[lang] = t
	}
	for _, lang := range allimi.Languages {
		if out[lang] == nil {
			c := *ko
			c.Lang = lang
			out[lang] = &c
		}
	}
	return out, nil
}

// tomlKey is the key of field f in text.toml: its tag, else its name with
// its first letters lower case (AM → am, TitleForm → titleForm), as the
// decoder matches them.
func tomlKey(f reflect.StructField) string {
	if tag := f.Tag.Get("toml"); tag != "" {
		return tag
	}
	name := f.Name
	if strings.ToUpper(name) == name {
		return strings.ToLower(name)
	}
	return strings.ToLower(name[:1]) + name[1:]
}

// textFor is the page's words in lang, Korean for one it does not speak.
func textFor(lang string) *pageText {
	if t := texts[lang]; t != nil {
		return t
	}
	return texts[allimi.DefaultLanguage]
}

// Fmt is format with args: the template's sentences with numbers.
func (t *pageText) Fmt(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// MonthOption names month m in the form's list.
func (t *pageText) MonthOption(m int) string { return fmt.Sprintf(t.MonthFormat, m, t.Months[m-1]) }

// DateOf says c's day.
func (t *pageText) DateOf(c clock) string {
	return fmt.Sprintf(t.Date, c.Year, c.Month, c.Day, t.Months[c.Month-1])
}

// TimeOf says c's time of day, and its day when it is not today.
func (t *pageText) TimeOf(c clock) string {
	ampm := t.AM
	if c.PM {
		ampm = t.PM
	}
	format := t.Hour
	if c.Minute != 0 {
		format = t.HourMinute
	}
	s := strings.TrimSpace(fmt.Sprintf(format, ampm, c.Hour, c.Minute, c.Hour24, fmt.Sprintf("%02d", c.Minute)))
	if c.OtherDay {
		s = fmt.Sprintf(t.OnDay, c.Year, c.Month, c.Day, t.Months[c.Month-1]) + s
	}
	return s
}

// paramLabelsIn names the notice parameters in lang: param → label; nil
// for Korean, whose are paramLabels.
func paramLabelsIn(lang string) map[string]string {
	if lang == "" || lang == allimi.DefaultLanguage {
		return nil
	}
	return textFor(lang).Labels
}
