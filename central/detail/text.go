package detail

import (
	_ "embed"
	"fmt"
	"strings"

	"allimi"
	"allimi/central/pagetext"
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
	Labels map[string]string `toml:"labels" pagetext:"optional"`
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

// loadTexts reads text.toml (pagetext.Load) and checks its lists.
func loadTexts(src string) (map[string]*pageText, error) {
	m, err := pagetext.Load[pageText]("detail page text", src)
	if err != nil {
		return nil, err
	}
	for lang, t := range m {
		if len(t.Months) != 12 {
			return nil, fmt.Errorf("detail page text: [%s] months: want 12", lang)
		}
		t.Lang = lang
	}
	return m, nil
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
