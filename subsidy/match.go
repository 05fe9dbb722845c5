package subsidy

import (
	"bytes"
	"encoding/json"
	"math/bits"
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

	ageCodes string // both bounds of rule age, for the sentence
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
	// First pass: verdicts into a pointer-free list, so that the results
	// and their reasons are then allocated once, at their exact size.
	type hit struct {
		i                   int32
		fail, unknown, pass uint8
	}
	hits := make([]hit, 0, 1024)
	nReasons := 0
	for i := range c.services {
		fail, unknown, pass := c.evaluate(i, &who)
		v := verdictOf(fail, unknown)
		if v == Ineligible && !opt.All {
			continue
		}
		if !opt.Region.covers(c.places[i]) {
			continue
		}
		hits = append(hits, hit{int32(i), fail, unknown, pass})
		nReasons += bits.OnesCount8(reasonBits(v, fail, unknown, pass))
	}
	results := make([]Result, len(hits))
	slab := make([]Reason, 0, nReasons)
	for k, h := range hits {
		v := verdictOf(h.fail, h.unknown)
		start := len(slab)
		slab = c.appendReasons(slab, int(h.i), &who, v, h.fail, h.unknown, h.pass)
		results[k] = Result{Service: &c.services[h.i], Verdict: v, Reasons: slab[start:len(slab):len(slab)]}
	}
	return results
}

// reasonBits are the rules whose reasons a verdict lists.
func reasonBits(v Verdict, fail, unknown, pass uint8) uint8 {
	switch v {
	case Ineligible:
		return fail
	case NeedsCheck:
		return unknown
	}
	return pass
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
// unknown and that pass, as rule bits. Without branches: on a catalog the
// outcomes are as good as random, and mispredicted branches would cost
// more than the arithmetic.
func (c *Catalog) evaluate(i int, p *Person) (fail, unknown, pass uint8) {
	r := &c.rules[i]
	// Which of rules 1–5 the person satisfies, had they told: rule 1
	// a ≤ age ≤ b with open bounds at 0 and MaxInt32; rules 2–5 at least
	// one of the person's codes among those set (for sex and income the
	// person has one code; [] holds none and fails).
	ok := b2u(int32(p.age) >= r.from)&b2u(int32(p.age) <= r.to)*bitAge |
		b2u(p.sex&r.sex != 0)*bitSex |
		b2u(p.income&r.income != 0)*bitIncome |
		b2u(p.traits&r.traits != 0)*bitTraits |
		b2u(p.household&r.household != 0)*bitHousehold
	known := r.applies & p.known
	// Rule 6 fails and rule 7 is unknown whoever asks.
	return known&^ok | r.fails, r.applies&^p.known | r.unknown, known & ok
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
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
	which, out := reasonBits(v, fail, unknown, pass), Pass
	switch v {
	case Ineligible:
		out = Fail
	case NeedsCheck:
		out = Unknown
	}
	r, rc := &c.rules[i], &c.codes[i]
	for k, rule := range ruleOrder {
		if which&(1<<k) == 0 {
			continue
		}
		x := Reason{Rule: rule, Outcome: out}
		switch rule {
		case RuleAge:
			x.Code, x.Value, x.From, x.To, x.ageCodes = rc.age, p.ageText, int(r.from), int(r.to), rc.age
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
