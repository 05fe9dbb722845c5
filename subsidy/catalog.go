package subsidy

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// CatalogName is the name under which central publishes the compiled
// catalog (Encode) as a signed catalog and kiosks install it
// (catalog.Topic(CatalogName)).
const CatalogName = "subsidy24"

// Catalog is an imported set of services, compiled for Match. It is
// read-only once made and safe for concurrent use.
type Catalog struct {
	About About

	services []Service
	rules    []rules     // compiled conditions, parallel to services
	codes    []ruleCodes // what each rule's reasons cite, parallel to services
	places   []place     // for the region filter, parallel to services
	index    map[string]int
}

// rules is one service's conditions as a few machine words: the age bounds
// and, per group of codes, the bitmask of the codes set (bit i is the i-th
// code of Codes(group)). A zero mask means the rule does not apply.
type rules struct {
	from, to  int32 // age bounds, inclusive; 0 and MaxInt32 when open
	sex       uint32
	income    uint32
	traits    uint32
	household uint32
	flags     uint8
	applies   uint8 // rule bits of rules 1–5 that apply
	fails     uint8 // bitAudience when rule 6 fails, whoever asks
	unknown   uint8 // bitCriteria when rule 7 holds, whoever asks
}

const (
	flagConds       uint8 = 1 << iota // the service has a supportConditions row
	flagFrom                          // JA0110 bounds the age from below
	flagTo                            // JA0111 bounds the age from above
	flagNotPersonal                   // rule 6: not for a private person
)

// ruleCodes holds, per rule, the service's codes that a reason cites, joined
// with "||" as the API joins multiple values; made once, at compile time, so
// that Match allocates no strings.
type ruleCodes struct {
	age, ageFrom, ageTo string
	sex, income         string
	traits, household   string
	audience            string
}

// NewCatalog compiles services into a catalog; services are ordered by ID,
// and of two with one ID the later is kept. Import and Decode use it; so
// may tests and tools that build catalogs in memory.
func NewCatalog(about About, services []Service) *Catalog {
	byID := make(map[string]Service, len(services))
	for _, s := range services {
		byID[s.ID] = s
	}
	list := make([]Service, 0, len(byID))
	for _, s := range byID {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b Service) int { return cmp.Compare(a.ID, b.ID) })
	c := &Catalog{
		About:    about,
		services: list,
		rules:    make([]rules, len(list)),
		codes:    make([]ruleCodes, len(list)),
		places:   make([]place, len(list)),
		index:    make(map[string]int, len(list)),
	}
	for i := range list {
		s := &c.services[i]
		c.rules[i], c.codes[i] = compile(s)
		c.places[i] = placeOf(s)
		c.index[s.ID] = i
	}
	return c
}

// Len returns the number of services.
func (c *Catalog) Len() int { return len(c.services) }

// Services returns the services ordered by ID. The slice is the catalog's
// own: read it, do not change it.
func (c *Catalog) Services() []Service { return c.services }

// Service returns the service of an ID.
func (c *Catalog) Service(id string) (*Service, bool) {
	i, ok := c.index[id]
	if !ok {
		return nil, false
	}
	return &c.services[i], true
}

// Subset returns a catalog of the services of c with the given IDs; IDs
// that c lacks are skipped. Matching a subset gives the verdicts of the
// whole catalog for those services.
func (c *Catalog) Subset(ids []string) *Catalog {
	var list []Service
	for _, id := range ids {
		if s, ok := c.Service(id); ok {
			list = append(list, *s)
		}
	}
	return NewCatalog(c.About, list)
}

// Changed returns, ordered, the IDs of the services of c that old lacks or
// whose conditions, audience or place differ in old: the services for which
// a person's verdict may be new. For "new benefits for you" notices.
func (c *Catalog) Changed(old *Catalog) []string {
	var out []string
	for i := range c.services {
		j, ok := old.index[c.services[i].ID]
		if !ok || c.rules[i] != old.rules[j] || !samePlace(c.places[i], old.places[j]) {
			out = append(out, c.services[i].ID)
		}
	}
	return out
}

func samePlace(a, b place) bool {
	return a.local == b.local && a.keys == b.keys && slices.Equal(a.sgg, b.sgg)
}

// compile turns a service's conditions into rules.
func compile(s *Service) (r rules, rc ruleCodes) {
	r = rules{to: math.MaxInt32}
	defer func() {
		// The rule bits Match reads, from the fields above.
		for _, x := range []struct {
			applies bool
			bit     uint8
		}{
			{r.flags&(flagFrom|flagTo) != 0, bitAge}, {r.sex != 0, bitSex}, {r.income != 0, bitIncome},
			{r.traits != 0, bitTraits}, {r.household != 0, bitHousehold},
		} {
			if x.applies {
				r.applies |= x.bit
			}
		}
		if r.flags&flagNotPersonal != 0 {
			r.fails |= bitAudience
		}
		if r.flags&flagConds == 0 {
			r.unknown |= bitCriteria
		}
	}()
	if userTypeNotPersonal(s.UserType) {
		r.flags |= flagNotPersonal
		rc.audience = strings.TrimSpace(s.UserType)
	}
	c := s.Conditions
	if c == nil {
		return r, rc
	}
	r.flags |= flagConds
	// Rule 1: a null bound, a ≤ 0 and b ≥ 120 are open.
	if c.AgeFrom != nil && *c.AgeFrom > 0 { // gov24 v3 supportConditions JA0110
		r.from, r.flags = int32(*c.AgeFrom), r.flags|flagFrom
		rc.ageFrom = CodeAgeFrom
	}
	if c.AgeTo != nil && *c.AgeTo < 120 { // gov24 v3 supportConditions JA0111
		r.to, r.flags = int32(*c.AgeTo), r.flags|flagTo
		rc.ageTo = CodeAgeTo
	}
	rc.age = joinCodes(rc.ageFrom, rc.ageTo)

	var set [GroupOrganisation + 1]uint32
	for _, code := range c.Codes {
		if ci, ok := codeTable[code]; ok {
			set[ci.group] |= ci.bit
		}
	}
	// Rules 2 and 3: no code, or every code, set → pass.
	for _, x := range []struct {
		g    Group
		mask *uint32
		code *string
	}{{GroupSex, &r.sex, &rc.sex}, {GroupIncome, &r.income, &rc.income}} {
		if m := set[x.g]; m != allOf(x.g) {
			*x.mask = m
		}
		*x.code = joinCodes(maskCodes(x.g, *x.mask)...)
	}
	// Rules 4 and 5: S empty, or "none of these" in S → pass.
	for _, x := range []struct {
		g    Group
		mask *uint32
		code *string
	}{{GroupTraits, &r.traits, &rc.traits}, {GroupHousehold, &r.household, &rc.household}} {
		if m := set[x.g]; m&noneBit(x.g) == 0 {
			*x.mask = m
		}
		*x.code = joinCodes(maskCodes(x.g, *x.mask)...)
	}
	// Rule 6: a business or organisation code, no code of rules 2–5 and no
	// age bound.
	personal := set[GroupSex]|set[GroupIncome]|set[GroupTraits]|set[GroupHousehold] != 0
	if org := set[GroupBusiness] | set[GroupOrganisation]; org != 0 && !personal && r.flags&(flagFrom|flagTo) == 0 {
		r.flags |= flagNotPersonal
		rc.audience = joinCodes(append(maskCodes(GroupBusiness, set[GroupBusiness]), maskCodes(GroupOrganisation, set[GroupOrganisation])...)...)
	}
	return r, rc
}

// userTypeNotPersonal reports whether 사용자구분 names only 법인/시설/단체
// and/or 소상공인, with no 개인 and no 가구 (rule 6).
func userTypeNotPersonal(userType string) bool {
	seen := false
	for _, v := range strings.Split(userType, "||") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		seen = true
		for _, part := range strings.Split(v, "/") {
			switch strings.TrimSpace(part) {
			case "법인", "시설", "단체", "소상공인":
			default:
				return false // 개인, 가구, or a kind the spec does not name
			}
		}
	}
	return seen
}

func joinCodes(codes ...string) string {
	var nonEmpty []string
	for _, c := range codes {
		if c != "" {
			nonEmpty = append(nonEmpty, c)
		}
	}
	return strings.Join(nonEmpty, "||")
}
