package subsidy

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed reasons.ko.toml
var reasonsKo []byte

// sentences is the loaded reasons.ko.toml.
var sentences = mustLoadSentences(reasonsKo)

// sentence is a loaded sentence: literal text and variables, alternately.
type sentence []segment

type segment struct {
	lit  string // literal text, when name is ""
	name string
}

type sentenceSet struct {
	joinOr, joinAnd                    string
	rangeFrom, rangeTo, rangeBoth      sentence
	bandsUpTo, bandsOver, bandsBetween sentence
	rules                              [len(ruleOrder)][Unknown + 1]sentence
	names                              map[string]string
}

// textFile is the shape of reasons.ko.toml.
type textFile struct {
	Join struct {
		Or  string `toml:"or"`
		And string `toml:"and"`
	} `toml:"join"`
	Range struct {
		From string `toml:"from"`
		To   string `toml:"to"`
		Both string `toml:"both"`
	} `toml:"range"`
	IncomeBands struct {
		UpTo    string `toml:"up_to"`
		Over    string `toml:"over"`
		Between string `toml:"between"`
	} `toml:"income_bands"`
	Age       map[string]string `toml:"age"`
	Sex       map[string]string `toml:"sex"`
	Income    map[string]string `toml:"income"`
	Traits    map[string]string `toml:"traits"`
	Household map[string]string `toml:"household"`
	Audience  map[string]string `toml:"audience"`
	Criteria  map[string]string `toml:"criteria"`
	Codes     map[string]string `toml:"codes"`
}

// ruleVars lists, per rule, the outcomes it has and the variables its
// sentences may use.
var ruleVars = map[Rule]struct {
	outcomes []Outcome
	vars     []string
}{
	RuleAge:       {[]Outcome{Pass, Fail, Unknown}, []string{"range", "age"}},
	RuleSex:       {[]Outcome{Pass, Fail, Unknown}, []string{"codes", "value"}},
	RuleIncome:    {[]Outcome{Pass, Fail, Unknown}, []string{"codes", "value"}},
	RuleTraits:    {[]Outcome{Pass, Fail, Unknown}, []string{"codes", "value"}},
	RuleHousehold: {[]Outcome{Pass, Fail, Unknown}, []string{"codes", "value"}},
	RuleAudience:  {[]Outcome{Fail}, nil},
	RuleCriteria:  {[]Outcome{Unknown}, nil},
}

func mustLoadSentences(b []byte) *sentenceSet {
	s, err := loadSentences(b)
	if err != nil {
		panic("subsidy: reasons.ko.toml: " + err.Error()) // embedded and tested: a build mistake
	}
	return s
}

// loadSentences reads and checks a sentence file: every sentence present,
// every variable allowed, every code of rules 2–5 named.
func loadSentences(b []byte) (*sentenceSet, error) {
	var f textFile
	md, err := toml.Decode(string(b), &f)
	if err != nil {
		return nil, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("unknown key %s", und[0])
	}
	s := &sentenceSet{joinOr: f.Join.Or, joinAnd: f.Join.And, names: f.Codes}
	if s.joinOr == "" || s.joinAnd == "" {
		return nil, fmt.Errorf("[join]: or and and are required")
	}
	for _, x := range []struct {
		where string
		src   string
		dst   *sentence
	}{
		{"range.from", f.Range.From, &s.rangeFrom},
		{"range.to", f.Range.To, &s.rangeTo},
		{"range.both", f.Range.Both, &s.rangeBoth},
		{"income_bands.up_to", f.IncomeBands.UpTo, &s.bandsUpTo},
		{"income_bands.over", f.IncomeBands.Over, &s.bandsOver},
		{"income_bands.between", f.IncomeBands.Between, &s.bandsBetween},
	} {
		if *x.dst, err = parseSentence(x.where, x.src, []string{"from", "to"}); err != nil {
			return nil, err
		}
	}
	byRule := map[Rule]map[string]string{
		RuleAge: f.Age, RuleSex: f.Sex, RuleIncome: f.Income, RuleTraits: f.Traits,
		RuleHousehold: f.Household, RuleAudience: f.Audience, RuleCriteria: f.Criteria,
	}
	for k, rule := range ruleOrder {
		spec := ruleVars[rule]
		table := byRule[rule]
		for key := range table {
			if !slicesContainsOutcome(spec.outcomes, key) {
				return nil, fmt.Errorf("[%s]: %q is not one of its outcomes", rule, key)
			}
		}
		for _, o := range spec.outcomes {
			where := fmt.Sprintf("%s.%s", rule, o)
			if s.rules[k][o], err = parseSentence(where, table[o.String()], spec.vars); err != nil {
				return nil, err
			}
		}
	}
	for _, g := range []Group{GroupSex, GroupIncome, GroupTraits, GroupHousehold} {
		for _, code := range groupCodes[g] {
			if s.names[code] == "" {
				return nil, fmt.Errorf("[codes]: %s has no name", code)
			}
		}
	}
	return s, nil
}

func slicesContainsOutcome(list []Outcome, key string) bool {
	for _, o := range list {
		if o.String() == key {
			return true
		}
	}
	return false
}

// parseSentence splits src at its {variables}, each of which must be in vars.
func parseSentence(where, src string, vars []string) (sentence, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("%s: missing", where)
	}
	var out sentence
	rest := src
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return nil, fmt.Errorf("%s: a } without its {", where)
			}
			out = append(out, segment{lit: rest})
			break
		}
		if open > 0 {
			if strings.IndexByte(rest[:open], '}') >= 0 {
				return nil, fmt.Errorf("%s: a } without its {", where)
			}
			out = append(out, segment{lit: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%s: a { without its }", where)
		}
		name := rest[open+1 : open+end]
		ok := false
		for _, v := range vars {
			ok = ok || v == name
		}
		if !ok {
			return nil, fmt.Errorf("%s: variable {%s} is not one of %v", where, name, vars)
		}
		out = append(out, segment{name: name})
		rest = rest[open+end+1:]
	}
	return out, nil
}

func (s sentence) render(value func(name string) string) string {
	var b strings.Builder
	for _, seg := range s {
		if seg.name == "" {
			b.WriteString(seg.lit)
		} else {
			b.WriteString(value(seg.name))
		}
	}
	return b.String()
}

// CodeName returns a code's Korean name, as the screens show it ("장애인"
// for JA0328), or the code itself when it has none.
func CodeName(code string) string {
	if n := sentences.names[code]; n != "" {
		return n
	}
	return code
}

// Text says the reason in one plain Korean sentence, e.g. "만 65세 이상만
// 받을 수 있어요 (지금 만 62세)".
func (r Reason) Text() string {
	k := -1
	for i, rule := range ruleOrder {
		if rule == r.Rule {
			k = i
		}
	}
	if k < 0 || r.Outcome < Pass || r.Outcome > Unknown || sentences.rules[k][r.Outcome] == nil {
		return "" // not a reason Match makes
	}
	return sentences.rules[k][r.Outcome].render(func(name string) string {
		switch name {
		case "range":
			return r.ageRange()
		case "age":
			return r.Value
		case "codes":
			if r.Rule == RuleIncome {
				return incomeBands(splitCodes(r.Code))
			}
			return codeNames(splitCodes(r.Code), sentences.joinOr)
		case "value":
			return codeNames(splitCodes(r.Value), sentences.joinAnd)
		}
		return ""
	})
}

// ageRange says the age bounds: both of the service's, even when Code
// names the one that failed.
func (r Reason) ageRange() string {
	codes := r.ageCodes
	if codes == "" {
		codes = r.Code
	}
	from := strings.Contains(codes, CodeAgeFrom)
	to := strings.Contains(codes, CodeAgeTo)
	nums := func(name string) string {
		if name == "from" {
			return strconv.Itoa(r.From)
		}
		return strconv.Itoa(r.To)
	}
	switch {
	case from && to:
		return sentences.rangeBoth.render(nums)
	case from:
		return sentences.rangeFrom.render(nums)
	}
	return sentences.rangeTo.render(nums)
}

func splitCodes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "||")
}

func codeNames(codes []string, sep string) string {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = CodeName(c)
	}
	return strings.Join(names, sep)
}

// incomeUpper is the upper end, in percent of the median income, of each
// income band (JA0201–JA0204); JA0205 is open above.
var incomeUpper = [...]int{50, 75, 100, 200}

// incomeBands says a set of income codes as ranges: bands that touch make
// one ("중위소득 100% 이하" for JA0201–JA0203).
func incomeBands(codes []string) string {
	var in [5]bool
	for _, c := range codes {
		if ci, ok := codeTable[c]; ok && ci.group == GroupIncome {
			for i := range in {
				in[i] = in[i] || ci.bit == 1<<i
			}
		}
	}
	var parts []string
	for i := 0; i < len(in); i++ {
		if !in[i] {
			continue
		}
		j := i
		for j+1 < len(in) && in[j+1] {
			j++
		}
		nums := func(name string) string {
			if name == "from" {
				if i == 4 || j == 4 {
					return strconv.Itoa(incomeUpper[i-1])
				}
				return strconv.Itoa(incomeUpper[i-1] + 1)
			}
			return strconv.Itoa(incomeUpper[j])
		}
		switch {
		case i == 0 && j == 4:
			parts = append(parts, codeNames(groupCodes[GroupIncome], sentences.joinOr)) // never made: all five is no condition
		case i == 0:
			parts = append(parts, sentences.bandsUpTo.render(nums))
		case j == 4:
			parts = append(parts, sentences.bandsOver.render(nums))
		case i == j:
			parts = append(parts, CodeName(groupCodes[GroupIncome][i]))
		default:
			parts = append(parts, sentences.bandsBetween.render(nums))
		}
		i = j
	}
	return strings.Join(parts, sentences.joinOr)
}
