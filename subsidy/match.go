package subsidy

import (
	"bytes"
	"encoding/json"
)

// Verdict is Match's answer for one service.
type Verdict string

// The verdicts (spec rule 8).
const (
	Eligible   Verdict = "eligible"    // every rule that applies passes
	NeedsCheck Verdict = "needs_check" // no rule fails, but one needs what the person did not tell, or the service publishes no criteria
	Ineligible Verdict = "ineligible"  // a rule fails
)

// Rule names one of the spec's rules, as reasons cite it.
type Rule string

// The rules, in the order reasons are listed.
const (
	RuleAge       Rule = "age"       // rule 1, JA0110 and JA0111
	RuleSex       Rule = "sex"       // rule 2
	RuleIncome    Rule = "income"    // rule 3
	RuleTraits    Rule = "traits"    // rule 4
	RuleHousehold Rule = "household" // rule 5
	RuleAudience  Rule = "audience"  // rule 6: not for a private person
	RuleCriteria  Rule = "criteria"  // rule 7: no published criteria
)

var ruleOrder = [...]Rule{RuleAge, RuleSex, RuleIncome, RuleTraits, RuleHousehold, RuleAudience, RuleCriteria}

// Outcome is how one rule went for one person and service.
type Outcome uint8

// The outcomes of a rule that applies.
const (
	Pass    Outcome = iota + 1
	Fail            // makes the verdict Ineligible
	Unknown         // makes the verdict NeedsCheck, unless another rule fails
)

func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Unknown:
		return "unknown"
	}
	return "?"
}

// Reason is why a rule went as it did, as data; Text says it in one plain
// Korean sentence. A verdict carries the reasons that make it: the rules
// that fail (Ineligible), that are unknown (NeedsCheck) or that pass
// (Eligible; rules that do not apply are not listed).
type Reason struct {
	Rule    Rule
	Outcome Outcome
	// Code is the service's condition the rule turned on: the codes set
	// ("JA0102", "JA0201||JA0202"), for age the bound that decided ("JA0110"
	// too young, "JA0111" too old, both when none did), for audience the
	// business or organisation codes or the 사용자구분; "" for criteria.
	Code string
	// Value is the person's value the rule read: the age, "M" or "F", the
	// income code, the trait or household codes ("||"-joined, JA0322 or
	// JA0410 for none); "" when unknown, and for audience and criteria.
	Value string
	// From and To are the age bounds of rule age, as far as Code names them.
	From, To int
}

// Result is one service's verdict for a person.
type Result struct {
	Service *Service
	Verdict Verdict
	Reasons []Reason
}

// Options narrow Match's results.
type Options struct {
	// Region keeps the services of local governments that serve it (spec
	// "Where"); the zero Region keeps all.
	Region Region
	// All keeps Ineligible services too.
	All bool
}

// Rule bits, in ruleOrder.
const (
	bitAge uint8 = 1 << iota
	bitSex
	bitIncome
	bitTraits
	bitHousehold
	bitAudience
	bitCriteria
)

// Match checks the person against every service and returns, ordered by
// service ID, the services that are Eligible or NeedsCheck (and Ineligible
// ones with opt.All), of the region of opt.Region. The region filter is
// applied after the verdict and does not change it.
func (c *Catalog) Match(who Person, opt Options) []Result {
	results := make([]Result, 0, 256)
	slab := make([]Reason, 0, 512) // one backing array for the reasons of many results
	for i := range c.services {
		fail, unknown, pass := c.evaluate(i, &who)
		v := verdictOf(fail, unknown)
		if v == Ineligible && !opt.All {
			continue
		}
		if !opt.Region.covers(c.places[i]) {
			continue
		}
		start := len(slab)
		slab = c.appendReasons(slab, i, &who, v, fail, unknown, pass)
		results = append(results, Result{Service: &c.services[i], Verdict: v, Reasons: slab[start:len(slab):len(slab)]})
	}
	return results
}

// Check returns one service's verdict for the person, whatever the region.
func (c *Catalog) Check(who Person, id string) (Result, bool) {
	i, ok := c.index[id]
	if !ok {
		return Result{}, false
	}
	fail, unknown, pass := c.evaluate(i, &who)
	v := verdictOf(fail, unknown)
	return Result{Service: &c.services[i], Verdict: v, Reasons: c.appendReasons(nil, i, &who, v, fail, unknown, pass)}, true
}

// Counts returns how many services of the region get each verdict: what a
// screen shows before the list.
func (c *Catalog) Counts(who Person, region Region) map[Verdict]int {
	n := map[Verdict]int{}
	for i := range c.services {
		if region.covers(c.places[i]) {
			fail, unknown, _ := c.evaluate(i, &who)
			n[verdictOf(fail, unknown)]++
		}
	}
	return n
}

// evaluate applies rules 1–7 to service i: the rules that fail, that are
// unknown and that pass, as rule bits.
func (c *Catalog) evaluate(i int, p *Person) (fail, unknown, pass uint8) {
	r := &c.rules[i]
	// Rule 1: a ≤ age ≤ b, open bounds left out; unknown age → unknown.
	if r.flags&(flagFrom|flagTo) != 0 {
		switch {
		case p.age < 0:
			unknown |= bitAge
		case r.flags&flagFrom != 0 && p.age < int(r.from), r.flags&flagTo != 0 && p.age > int(r.to):
			fail |= bitAge
		default:
			pass |= bitAge
		}
	}
	// Rules 2 and 3: the person's one code must be among those set.
	if r.sex != 0 {
		switch {
		case p.sex == 0:
			unknown |= bitSex
		case p.sex&r.sex == 0:
			fail |= bitSex
		default:
			pass |= bitSex
		}
	}
	if r.income != 0 {
		switch {
		case p.income == 0:
			unknown |= bitIncome
		case p.income&r.income == 0:
			fail |= bitIncome
		default:
			pass |= bitIncome
		}
	}
	// Rules 4 and 5: at least one code in S; [] fails.
	if r.traits != 0 {
		switch {
		case !p.knownTraits:
			unknown |= bitTraits
		case p.traits&r.traits == 0:
			fail |= bitTraits
		default:
			pass |= bitTraits
		}
	}
	if r.household != 0 {
		switch {
		case !p.knownHousehold:
			unknown |= bitHousehold
		case p.household&r.household == 0:
			fail |= bitHousehold
		default:
			pass |= bitHousehold
		}
	}
	// Rule 6 before rule 7: a service not for private persons is
	// ineligible even without a conditions row.
	if r.flags&flagNotPersonal != 0 {
		fail |= bitAudience
	}
	if r.flags&flagConds == 0 {
		unknown |= bitCriteria
	}
	return fail, unknown, pass
}

// verdictOf is rule 8.
func verdictOf(fail, unknown uint8) Verdict {
	switch {
	case fail != 0:
		return Ineligible
	case unknown != 0:
		return NeedsCheck
	}
	return Eligible
}

// appendReasons appends the reasons of verdict v for service i.
func (c *Catalog) appendReasons(dst []Reason, i int, p *Person, v Verdict, fail, unknown, pass uint8) []Reason {
	bits, out := pass, Pass
	switch v {
	case Ineligible:
		bits, out = fail, Fail
	case NeedsCheck:
		bits, out = unknown, Unknown
	}
	r, rc := &c.rules[i], &c.codes[i]
	for k, rule := range ruleOrder {
		if bits&(1<<k) == 0 {
			continue
		}
		x := Reason{Rule: rule, Outcome: out}
		switch rule {
		case RuleAge:
			x.Code, x.Value, x.From, x.To = rc.age, p.ageText, int(r.from), int(r.to)
			if out == Fail {
				if r.flags&flagFrom != 0 && p.age < int(r.from) {
					x.Code = rc.ageFrom
				} else {
					x.Code = rc.ageTo
				}
			}
		case RuleSex:
			x.Code, x.Value = rc.sex, p.profile.Sex
		case RuleIncome:
			x.Code, x.Value = rc.income, p.profile.Income
		case RuleTraits:
			x.Code, x.Value = rc.traits, p.traitsText
		case RuleHousehold:
			x.Code, x.Value = rc.household, p.householdText
		case RuleAudience:
			x.Code = rc.audience
		}
		dst = append(dst, x)
	}
	return dst
}

// MarshalJSON writes a reason as {"rule", "code", "value", "text"}; value
// is left out when empty.
func (r Reason) MarshalJSON() ([]byte, error) {
	return marshalText(struct {
		Rule  Rule   `json:"rule"`
		Code  string `json:"code"`
		Value string `json:"value,omitempty"`
		Text  string `json:"text"`
	}{r.Rule, r.Code, r.Value, r.Text()})
}

// MarshalJSON writes a result as {"serviceId", "name", "verdict",
// "reasons"}, the shape of `allimi subsidy match --json`.
func (r Result) MarshalJSON() ([]byte, error) {
	reasons := r.Reasons
	if reasons == nil {
		reasons = []Reason{}
	}
	return marshalText(struct {
		ServiceID string   `json:"serviceId"`
		Name      string   `json:"name"`
		Verdict   Verdict  `json:"verdict"`
		Reasons   []Reason `json:"reasons"`
	}{r.Service.ID, r.Service.Name, r.Verdict, reasons})
}

// marshalText is json.Marshal without HTML escaping: names and sentences
// hold "&" and "<" as they are.
func marshalText(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
