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
