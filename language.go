package allimi

import (
	"fmt"
	"slices"
	"strings"
)

// Languages are the languages a kiosk speaks and a person signs up in, as
// BCP 47 primary tags, in the order the kiosk's home screen offers them.
// A sign-up records the one its kiosk was in (ConsentPayload.Lang), and
// central keeps it with the person (Outgoing.Lang).
var Languages = []string{"ko", "en", "ja", "zh", "th", "vi"}

// DefaultLanguage is Korean: the language of a sign-up that names none
// (one from a kiosk built before sign-ups recorded it).
const DefaultLanguage = "ko"

// ValidateLanguage checks a language a record names: one of Languages, or
// empty for DefaultLanguage. The error names the field as field.
func ValidateLanguage(field, lang string) error {
	if lang == "" || slices.Contains(Languages, lang) {
		return nil
	}
	return fmt.Errorf("%s %q: must be one of %s (empty means %s): %w",
		field, lang, strings.Join(Languages, ", "), DefaultLanguage, ErrInvalid)
}

// LanguageOr is lang, or DefaultLanguage when lang is empty.
func LanguageOr(lang string) string {
	if lang == "" {
		return DefaultLanguage
	}
	return lang
}

// PreferredLanguage is the first of Languages that an HTTP
// Accept-Language header asks for ("en-US,en;q=0.9,ko;q=0.8" → "en"), by
// its primary subtag and quality; "" when it asks for none of them.
func PreferredLanguage(acceptLanguage string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if !slices.Contains(Languages, primary) {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				continue
			}
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}
