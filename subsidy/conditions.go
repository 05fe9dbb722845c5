package subsidy

import (
	"encoding/json"
	"fmt"
	"time"

	"allimi"
)

// valueWithheld ends a message that names a field of a person's
// conditions without quoting it.
const valueWithheld = "(value withheld: personal data)"

// CheckConditions checks the conditions a sign-up for new-benefits carries
// (a profile's JSON and a region), as central does before it keeps them: a
// profile central could not match is refused with its record. The error names the field
// and the rule it breaks, never the value: it goes to the rejection list
// and the log, and a birth date, an income band or a disability code is
// personal data (subsidy's own messages quote the value, for a person
// checking what they typed).
func CheckConditions(profile json.RawMessage, region string, now time.Time) error {
	if len(profile) == 0 && region == "" {
		return nil
	}
	prof, err := ParseProfile(profile)
	if err != nil {
		return fmt.Errorf("payload.profile: not a profile (one JSON object with only %s, each of its type) %s: %w",
			"birthDate, age, sex, income, traits, household", valueWithheld, allimi.ErrInvalid)
	}
	if _, err := NewPerson(prof, now); err != nil {
		return fmt.Errorf("payload.profile %s %s: %w", profileProblem(prof, now), valueWithheld, allimi.ErrInvalid)
	}
	if _, err := ParseRegion(region); err != nil {
		return fmt.Errorf("payload.region: not a 시도 or 시도/시군구 of Korea %s: %w", valueWithheld, allimi.ErrInvalid)
	}
	return nil
}

// profileProblem names the first field of prof that NewPerson refuses and
// the rule it breaks, by checking each field alone.
func profileProblem(prof Profile, now time.Time) string {
	alone := func(p Profile) bool { _, err := NewPerson(p, now); return err != nil }
	switch {
	case prof.BirthDate != "" && alone(Profile{BirthDate: prof.BirthDate}):
		birth, err := ParseDate(prof.BirthDate)
		switch {
		case err != nil:
			return "birth date: not a date (YYYY-MM-DD, one that exists)"
		case birth.After(now):
			return "birth date: in the future"
		default:
			return "birth date: more than 150 years ago"
		}
	case prof.Age != nil && alone(Profile{Age: prof.Age}):
		return "age: not 0 to 150"
	case prof.Sex != "" && alone(Profile{Sex: prof.Sex}):
		return "sex: not M or F"
	case prof.Income != "" && alone(Profile{Income: prof.Income}):
		return "income: not an income code (JA0201 to JA0205)"
	case prof.Traits != nil && alone(Profile{Traits: prof.Traits}):
		return "traits: not personal-trait codes of the gov24 table, or none-of-these with another"
	case prof.Household != nil && alone(Profile{Household: prof.Household}):
		return "household: not household codes of the gov24 table, or none-of-these with another"
	}
	return "invalid"
}
