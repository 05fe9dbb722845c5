package subsidy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Profile is what a person chose to tell (the spec's "Profile"); an absent
// field is unknown, never "no". Traits and Household distinguish nil
// (unknown) from empty (none of them).
type Profile struct {
	BirthDate string   `json:"birthDate,omitempty"` // YYYY-MM-DD; wins over Age
	Age       *int     `json:"age,omitempty"`       // 만 나이
	Sex       string   `json:"sex,omitempty"`       // "M" or "F"
	Income    string   `json:"income,omitempty"`    // one income code, JA0201–JA0205
	Traits    []string `json:"traits,omitzero"`     // personal-trait codes; [] or [JA0322]: none
	Household []string `json:"household,omitzero"`  // household codes; [] or [JA0410]: none
}

// Sexes of a profile.
const (
	SexMale   = "M"
	SexFemale = "F"
)

// maxAge is the oldest age a profile may give; beyond it a value is a typo.
const maxAge = 150

// DateLayout is the layout of dates: birth dates and as-of dates.
const DateLayout = "2006-01-02"

// profileKeys are the keys of a profile, spelt exactly.
var profileKeys = []string{"birthDate", "age", "sex", "income", "traits", "household"}

// ParseProfile reads a profile from JSON: one object with only the
// profile's keys, spelt exactly, nothing after it. Values are checked by
// NewPerson.
func ParseProfile(b []byte) (Profile, error) {
	var p Profile
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return p, fmt.Errorf("profile: not a JSON object such as {\"age\": 75, \"sex\": \"F\"}: %w", ErrBadProfile)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	var keys map[string]json.RawMessage
	if err := d.Decode(&keys); err != nil {
		return p, malformedProfile(b, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return p, fmt.Errorf("profile: data after the JSON object: %w", ErrBadProfile)
	}
	// A misspelt key would silently become "unknown"; encoding/json alone
	// would also take "BIRTHDATE" for birthDate.
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !slices.Contains(profileKeys, k) {
			return p, fmt.Errorf("profile: unknown key %q; a profile has %s: %w", k, strings.Join(profileKeys, ", "), ErrBadProfile)
		}
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return Profile{}, malformedProfile(b, err)
	}
	return p, nil
}

func malformedProfile(b []byte, err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		return fmt.Errorf("profile: %s is %s, want %s: %w", typ.Field, typ.Value, wantOf(typ.Field), ErrBadProfile)
	case errors.As(err, &syn):
		line, col := position(b, syn.Offset)
		return fmt.Errorf("profile: malformed JSON at line %d column %d: %v: %w", line, col, syn, ErrBadProfile)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("profile: malformed JSON: it ends before the object is closed: %w", ErrBadProfile)
	}
	return fmt.Errorf("profile: malformed JSON: %v: %w", err, ErrBadProfile)
}

func wantOf(field string) string {
	switch {
	case field == "age":
		return "a whole number of years"
	case strings.HasPrefix(field, "traits"), strings.HasPrefix(field, "household"):
		return "a list of codes such as [\"JA0328\"]"
	}
	return "text"
}

// ParseDate reads a date, YYYY-MM-DD, that exists (not 2025-02-29).
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		var pe *time.ParseError
		if errors.As(err, &pe) && strings.Contains(pe.Message, "out of range") {
			return time.Time{}, fmt.Errorf("date %q does not exist: %w", s, ErrBadDate)
		}
		return time.Time{}, fmt.Errorf("date %q: write YYYY-MM-DD: %w", s, ErrBadDate)
	}
	return t, nil
}

// FullAge returns 만 나이 on asOf of someone born on birth: the years they
// have completed. Someone born on 29 February completes a year on 1 March
// in common years. Only the calendar dates count, not the times.
func FullAge(birth, asOf time.Time) int {
	by, bm, bd := birth.Date()
	ay, am, ad := asOf.Date()
	age := ay - by
	if am < bm || (am == bm && ad < bd) {
		age--
	}
	return age
}

// Person is a checked profile on an as-of date, ready for Match: the age
// computed and the codes as bitmasks.
type Person struct {
	profile Profile
	asOf    time.Time
	age     int // -1: unknown

	sex, income       uint32 // code bit; 0: unknown
	traits, household uint32 // code bits; meaningful when known
	knownTraits       bool
	knownHousehold    bool
	known             uint8 // rule bits of rules 1–5 the person told enough for

	// the person's values as reasons cite them, made once
	ageText, traitsText, householdText string
}

// NewPerson checks p and computes what Match needs on asOf. A malformed
// value (ErrBadProfile), an unknown code or one of another group
// (ErrUnknownCode) and a birth date that does not exist or lies after
// asOf (ErrBadDate) are errors, never guesses.
func NewPerson(p Profile, asOf time.Time) (Person, error) {
	who := Person{profile: p, asOf: asOf, age: -1}
	if p.Age != nil {
		if *p.Age < 0 || *p.Age > maxAge {
			return Person{}, fmt.Errorf("profile: age %d: want 0 to %d: %w", *p.Age, maxAge, ErrBadProfile)
		}
		who.age = *p.Age
	}
	if p.BirthDate != "" {
		birth, err := ParseDate(p.BirthDate)
		if err != nil {
			return Person{}, fmt.Errorf("profile: birthDate: %w", err)
		}
		age := FullAge(birth, asOf)
		switch {
		case age < 0:
			return Person{}, fmt.Errorf("profile: birthDate %s is after the as-of date %s: %w", p.BirthDate, asOf.Format(DateLayout), ErrBadDate)
		case age > maxAge:
			return Person{}, fmt.Errorf("profile: birthDate %s: more than %d years before %s: %w", p.BirthDate, maxAge, asOf.Format(DateLayout), ErrBadDate)
		}
		who.age = age // birthDate wins over age
	}
	if who.age >= 0 {
		who.ageText = strconv.Itoa(who.age)
	}
	switch p.Sex {
	case "":
	case SexMale:
		who.sex = codeTable["JA0101"].bit
	case SexFemale:
		who.sex = codeTable["JA0102"].bit
	default:
		return Person{}, fmt.Errorf("profile: sex %q: want \"M\" or \"F\": %w", p.Sex, ErrBadProfile)
	}
	if p.Income != "" {
		bit, err := codeOf("income", p.Income, GroupIncome)
		if err != nil {
			return Person{}, err
		}
		who.income = bit
	}
	var err error
	if p.Traits != nil {
		who.knownTraits = true
		if who.traits, err = codeSet("traits", p.Traits, GroupTraits); err != nil {
			return Person{}, err
		}
		who.traitsText = personCodes(GroupTraits, who.traits)
	}
	if p.Household != nil {
		who.knownHousehold = true
		if who.household, err = codeSet("household", p.Household, GroupHousehold); err != nil {
			return Person{}, err
		}
		who.householdText = personCodes(GroupHousehold, who.household)
	}
	for _, x := range []struct {
		known bool
		bit   uint8
	}{
		{who.age >= 0, bitAge}, {who.sex != 0, bitSex}, {who.income != 0, bitIncome},
		{who.knownTraits, bitTraits}, {who.knownHousehold, bitHousehold},
	} {
		if x.known {
			who.known |= x.bit
		}
	}
	return who, nil
}

// personCodes is how a reason cites a person's codes: "||"-joined, or the
// group's "none of these" code for none.
func personCodes(g Group, mask uint32) string {
	if mask == 0 {
		return groupCodes[g][len(groupCodes[g])-1]
	}
	return joinCodes(maskCodes(g, mask)...)
}

var groupNames = map[Group]string{
	GroupSex: "sex", GroupIncome: "income", GroupTraits: "personal-trait", GroupHousehold: "household",
	GroupBusiness: "business", GroupOrganisation: "organisation",
}

func codeOf(field, code string, g Group) (uint32, error) {
	ci, ok := codeTable[code]
	switch {
	case !ok:
		return 0, fmt.Errorf("profile: %s: %q is not a code of the gov24 table: %w", field, code, ErrUnknownCode)
	case ci.group != g:
		return 0, fmt.Errorf("profile: %s: %s is a %s code, not a %s code: %w", field, code, groupNames[ci.group], groupNames[g], ErrUnknownCode)
	}
	return ci.bit, nil
}

// codeSet reads a list of codes of g; its "none of these" code means the
// same as [] and goes with no other code.
func codeSet(field string, list []string, g Group) (uint32, error) {
	var mask uint32
	for _, code := range list {
		bit, err := codeOf(field, code, g)
		if err != nil {
			return 0, err
		}
		mask |= bit
	}
	if none := noneBit(g); mask&none != 0 {
		if mask != none {
			return 0, fmt.Errorf("profile: %s: %s means none of these, so it goes alone: %w", field, groupCodes[g][len(groupCodes[g])-1], ErrBadProfile)
		}
		mask = 0
	}
	return mask, nil
}

// Profile returns the profile the person was made from.
func (p Person) Profile() Profile { return p.profile }

// AsOf returns the as-of date.
func (p Person) AsOf() time.Time { return p.asOf }

// Age returns 만 나이 on the as-of date, if known.
func (p Person) Age() (int, bool) { return p.age, p.age >= 0 }
