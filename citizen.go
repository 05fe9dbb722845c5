package allimi

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DateLayout is how dates of birth travel and are stored: 1950-01-02.
const DateLayout = "2006-01-02"

// Citizen is a person who receives notifications. It deliberately has no field
// for a resident registration number: a mobile number and a date of birth
// identify a person to the agencies well enough, and the detail page checks
// the date of birth before it shows anything.
type Citizen struct {
	Name      string `json:"name"`
	Mobile    string `json:"mobile"`    // normalised 010-NNNN-NNNN
	BirthDate string `json:"birthDate"` // YYYY-MM-DD
}

// NormalizeMobile turns "01012345678", "010 1234 5678" or "010-1234-5678"
// into "010-1234-5678". Only Korean mobile numbers starting 010 are accepted:
// they are what messenger providers and SMS gateways can reach.
func NormalizeMobile(s string) (string, error) {
	var digits strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '-' || r == ' ' || r == '.':
		default:
			return "", fmt.Errorf("mobile number %q: unexpected character %q: %w", s, r, ErrInvalid)
		}
	}
	d := digits.String()
	if len(d) != 11 || !strings.HasPrefix(d, "010") {
		return "", fmt.Errorf("mobile number %q: must be 010 followed by 8 digits: %w", s, ErrInvalid)
	}
	return d[:3] + "-" + d[3:7] + "-" + d[7:], nil
}

// ParseBirthDate checks a YYYY-MM-DD date of birth: a real calendar date, not
// in the future, not before 1900.
func ParseBirthDate(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date of birth %q: not a date in the form YYYY-MM-DD: %w", s, ErrInvalid)
	}
	if t.Year() < 1900 {
		return time.Time{}, fmt.Errorf("date of birth %q: before 1900: %w", s, ErrInvalid)
	}
	if t.After(now) {
		return time.Time{}, fmt.Errorf("date of birth %q: in the future: %w", s, ErrInvalid)
	}
	return t, nil
}

// Validate checks and normalises the citizen in place.
func (c *Citizen) Validate(now time.Time) error {
	if err := c.validateReachable(); err != nil {
		return err
	}
	if _, err := ParseBirthDate(c.BirthDate, now); err != nil {
		return err
	}
	return nil
}

// validateContact checks and normalises in place the person a question's
// answer goes to, by the rules of Validate; a question needs no date of
// birth, so none may be sent.
func (c *Citizen) validateContact() error {
	if err := c.validateReachable(); err != nil {
		return err
	}
	if c.BirthDate != "" {
		return fmt.Errorf("date of birth: a question does not need one: leave it empty: %w", ErrInvalid)
	}
	return nil
}

// validateReachable checks and normalises in place what reaching the
// person takes, for Validate and validateContact alike: a name that
// messages can address them by (no control characters, which would reach
// messages and logs) and a mobile number providers can reach.
func (c *Citizen) validateReachable() error {
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case c.Name == "":
		return fmt.Errorf("name: empty: %w", ErrInvalid)
	case utf8.RuneCountInString(c.Name) > 50:
		return fmt.Errorf("name: longer than 50 characters: %w", ErrInvalid)
	case strings.IndexFunc(c.Name, unicode.IsControl) >= 0:
		return fmt.Errorf("name: contains a control character: %w", ErrInvalid)
	}
	m, err := NormalizeMobile(c.Mobile)
	if err != nil {
		return err
	}
	c.Mobile = m
	return nil
}

// MaskedName shows the first and last character only: 김*수.
func (c Citizen) MaskedName() string {
	r := []rune(c.Name)
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}

// MaskedMobile hides the middle four digits: 010-****-5678.
func (c Citizen) MaskedMobile() string {
	if len(c.Mobile) != 13 {
		return "***"
	}
	return c.Mobile[:4] + "****" + c.Mobile[8:]
}
