package subsidy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oracle applies the spec's rules to a generated service's raw rows, the
// slow and obvious way, to check the compiled engine against.
func oracle(s genService, p Profile, asOf time.Time) (Verdict, []Rule) {
	age := -1
	if p.Age != nil {
		age = *p.Age
	}
	if p.BirthDate != "" {
		b, _ := time.Parse(DateLayout, p.BirthDate)
		age = asOf.Year() - b.Year()
		if asOf.Month() < b.Month() || asOf.Month() == b.Month() && asOf.Day() < b.Day() {
			age-- // the birthday of this year is still to come
		}
	}
	var fails, unknowns, passes []Rule
	outcome := func(rule Rule, pass, known bool) {
		switch {
		case !known:
			unknowns = append(unknowns, rule)
		case !pass:
			fails = append(fails, rule)
		default:
			passes = append(passes, rule)
		}
	}
	cond := s.cond
	isY := func(code string) bool { return cond != nil && cond[code] == "Y" }
	setOf := func(g Group) []string {
		var out []string
		for _, c := range groupCodes[g] {
			if isY(c) {
				out = append(out, c)
			}
		}
		return out
	}
	if cond != nil {
		// 1. Age.
		a, aOK := cond[CodeAgeFrom].(int)
		b, bOK := cond[CodeAgeTo].(int)
		aOpen, bOpen := !aOK || a <= 0, !bOK || b >= 120
		if !(aOpen && bOpen) {
			outcome(RuleAge, (aOpen || a <= age) && (bOpen || age <= b), age >= 0)
		}
		// 2. Sex.
		if sx := setOf(GroupSex); len(sx) == 1 {
			want := map[string]string{"JA0101": "M", "JA0102": "F"}[sx[0]]
			outcome(RuleSex, p.Sex == want, p.Sex != "")
		}
		// 3. Income.
		if in := setOf(GroupIncome); len(in) > 0 && len(in) < 5 {
			outcome(RuleIncome, slices.Contains(in, p.Income), p.Income != "")
		}
		// 4, 5. Traits, household.
		for _, x := range []struct {
			rule Rule
			g    Group
			none string
			has  []string
		}{{RuleTraits, GroupTraits, CodeNoTraits, p.Traits}, {RuleHousehold, GroupHousehold, CodeNoHousehold, p.Household}} {
			set := setOf(x.g)
			if len(set) == 0 || slices.Contains(set, x.none) {
				continue
			}
			hit := false
			for _, c := range x.has {
				hit = hit || slices.Contains(set, c)
			}
			outcome(x.rule, hit, x.has != nil)
		}
	}
	// 6. Audience.
	notPersonal := false
	ut := s.list["사용자구분"].(string)
	if ut != "" {
		only := true
		for _, v := range strings.Split(ut, "||") {
			only = only && (v == "법인/시설/단체" || v == "소상공인")
		}
		notPersonal = only
	}
	if cond != nil && !notPersonal {
		biz := len(setOf(GroupBusiness))+len(setOf(GroupOrganisation)) > 0
		personal := len(setOf(GroupSex))+len(setOf(GroupIncome))+len(setOf(GroupTraits))+len(setOf(GroupHousehold)) > 0
		a, aOK := cond[CodeAgeFrom].(int)
		b, bOK := cond[CodeAgeTo].(int)
		bound := (aOK && a > 0) || (bOK && b < 120)
		notPersonal = biz && !personal && !bound
	}
	if notPersonal {
		fails = append(fails, RuleAudience)
	}
	// 7. No conditions row.
	if cond == nil {
		unknowns = append(unknowns, RuleCriteria)
	}
	// 8. Verdict.
	switch {
	case len(fails) > 0:
		return Ineligible, fails
	case len(unknowns) > 0:
		return NeedsCheck, unknowns
	}
	return Eligible, passes
}

// TestMatch_AgreesWithOracleOnGeneratedCatalogs imports generated API pages
// and checks every verdict and the rules its reasons cite, for many
// random profiles, against the spec applied to the raw rows.
func TestMatch_AgreesWithOracleOnGeneratedCatalogs(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			gen := genCatalog(600, seed)
			dir := t.TempDir()
			writePages(t, dir, gen, 250)
			c, rep, err := Import(dir)
			require.NoError(t, err)
			require.Equal(t, len(gen), c.Len())
			require.Equal(t, len(gen), rep.Services)

			asOf := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			r := rand.New(rand.NewPCG(seed, 7))
			seen := map[Verdict]int{}
			for range 60 {
				p := genProfile(r)
				who, err := NewPerson(p, asOf)
				require.NoError(t, err)
				got := map[string]Result{}
				for _, res := range c.Match(who, Options{All: true}) {
					got[res.Service.ID] = res
				}
				require.Len(t, got, len(gen), "with All, every service has a result")
				for _, g := range gen {
					wantV, wantRules := oracle(g, p, asOf)
					res := got[g.id()]
					var gotRules []Rule
					for _, rs := range res.Reasons {
						gotRules = append(gotRules, rs.Rule)
					}
					if !assert.Equal(t, wantV, res.Verdict, "service %s, profile %+v, conditions %v", g.id(), p, g.cond) ||
						!assert.Equal(t, wantRules, gotRules, "service %s, profile %+v", g.id(), p) {
						return
					}
					seen[wantV]++
				}
			}
			// The generator must exercise every verdict, or the check is weak.
			for _, v := range []Verdict{Eligible, NeedsCheck, Ineligible} {
				assert.Greater(t, seen[v], 100, "verdict %s", v)
			}
		})
	}
}
