package subsidy

import "slices"

// The codes of gov24 v3 supportConditions (the spec's table "The codes").
// Age bounds are integer fields; every other code is "Y" or null.
const (
	// CodeAgeFrom is the lower age bound, 만 나이, inclusive.
	CodeAgeFrom = "JA0110"
	// CodeAgeTo is the upper age bound, 만 나이, inclusive.
	CodeAgeTo = "JA0111"
	// CodeNoTraits is the personal-trait code "none of these".
	CodeNoTraits = "JA0322"
	// CodeNoHousehold is the household code "none of these".
	CodeNoHousehold = "JA0410"
)

// Group is a group of condition codes, as the spec's table lists them.
type Group uint8

// The groups of codes. Sex, income, traits and household are rules 2 to 5;
// business and organisation codes only tell who a service is for (rule 6).
const (
	GroupSex Group = iota + 1
	GroupIncome
	GroupTraits
	GroupHousehold
	GroupBusiness
	GroupOrganisation
)

// groupCodes lists each group's codes in the spec's order; a code's index is
// its bit in the compiled masks, so at most 32 codes per group.
var groupCodes = map[Group][]string{
	GroupSex:    {"JA0101", "JA0102"},
	GroupIncome: {"JA0201", "JA0202", "JA0203", "JA0204", "JA0205"},
	GroupTraits: {"JA0301", "JA0302", "JA0303", "JA0313", "JA0314", "JA0315", "JA0316", "JA0317",
		"JA0318", "JA0319", "JA0320", "JA0326", "JA0327", "JA0328", "JA0329", "JA0330", CodeNoTraits},
	GroupHousehold:    {"JA0401", "JA0402", "JA0403", "JA0404", "JA0411", "JA0412", "JA0413", "JA0414", CodeNoHousehold},
	GroupBusiness:     {"JA1101", "JA1102", "JA1103", "JA1201", "JA1202", "JA1299"},
	GroupOrganisation: {"JA2101", "JA2102", "JA2103", "JA2201", "JA2202", "JA2203", "JA2299"},
}

type codeInfo struct {
	group Group
	bit   uint32 // 1 << index in groupCodes
}

// codeTable indexes every code of the spec's table but the age bounds.
var codeTable = func() map[string]codeInfo {
	t := make(map[string]codeInfo)
	for g, list := range groupCodes {
		for i, c := range list {
			t[c] = codeInfo{group: g, bit: 1 << i}
		}
	}
	return t
}()

// Codes returns the codes of group g in the spec's order, "none of these"
// last for traits and household: the choices a screen offers.
func Codes(g Group) []string { return slices.Clone(groupCodes[g]) }

// CodeGroup returns the group of a condition code, or false for the age
// bounds and for codes the spec does not list.
func CodeGroup(code string) (Group, bool) {
	ci, ok := codeTable[code]
	return ci.group, ok
}

// allOf is the mask with every code of g set.
func allOf(g Group) uint32 { return 1<<len(groupCodes[g]) - 1 }

// noneBit is the bit of the "none of these" code of traits or household.
func noneBit(g Group) uint32 {
	switch g {
	case GroupTraits:
		return codeTable[CodeNoTraits].bit
	case GroupHousehold:
		return codeTable[CodeNoHousehold].bit
	}
	return 0
}

// maskCodes lists the codes of g whose bits are set in mask, in table order.
func maskCodes(g Group, mask uint32) []string {
	var out []string
	for i, c := range groupCodes[g] {
		if mask&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}
