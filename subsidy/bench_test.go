package subsidy

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// benchServices is the size of the real catalog (the API's totalCount was
// 10,968 in 2025), rounded up.
const benchServices = 11_000

// benchPages is the generated catalog's page directory, made by the first
// benchmark that needs it and removed by TestMain.
var benchPages struct {
	once sync.Once
	dir  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchPages.dir != "" {
		os.RemoveAll(benchPages.dir)
	}
	os.Exit(code)
}

func benchCatalog(b *testing.B) (*Catalog, string) {
	b.Helper()
	benchPages.once.Do(func() {
		dir, err := os.MkdirTemp("", "subsidy-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchPages.dir = dir
		writePages(b, dir, genCatalog(benchServices, 42), DefaultPerPage)
	})
	c, _, err := Import(benchPages.dir)
	if err != nil {
		b.Fatal(err)
	}
	return c, benchPages.dir
}

func benchPeople(b *testing.B) []Person {
	r := rand.New(rand.NewPCG(9, 9))
	asOf := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	people := make([]Person, 64)
	for i := range people {
		who, err := NewPerson(genProfile(r), asOf)
		if err != nil {
			b.Fatal(err)
		}
		people[i] = who
	}
	return people
}

// BenchmarkMatch checks one person against the whole 11,000-service
// catalog per operation (ns/op is per profile). "uncompiled" is the
// baseline of the same run: the same rules read from the Service structs
// (codes as strings) instead of the compiled bitmasks.
func BenchmarkMatch(b *testing.B) {
	c, _ := benchCatalog(b)
	people := benchPeople(b)
	region, err := ParseRegion("경기/성남시")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opt  Options
	}{
		{"shown", Options{}},
		{"all", Options{All: true}},
		{"region", Options{Region: region}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			results := 0
			i := 0
			for b.Loop() {
				results += len(c.Match(people[i%len(people)], bc.opt))
				i++
			}
			b.ReportMetric(float64(results)/float64(i), "results/op")
		})
	}
	b.Run("shown+text", func(b *testing.B) {
		// The CLI's work: every shown reason said as a sentence.
		i := 0
		for b.Loop() {
			for _, res := range c.Match(people[i%len(people)], Options{}) {
				for _, r := range res.Reasons {
					_ = r.Text()
				}
			}
			i++
		}
	})
	b.Run("uncompiled", func(b *testing.B) {
		i := 0
		for b.Loop() {
			uncompiledMatch(c.services, people[i%len(people)].profile)
			i++
		}
	})
}

// uncompiledMatch is the baseline: rules 1–7 straight from the Service
// structs, verdicts only.
func uncompiledMatch(services []Service, p Profile) int {
	shown := 0
	for i := range services {
		s := &services[i]
		fail, unknown := false, false
		if c := s.Conditions; c == nil {
			unknown = true
		} else {
			if (c.AgeFrom != nil && *c.AgeFrom > 0) || (c.AgeTo != nil && *c.AgeTo < 120) {
				if p.Age == nil {
					unknown = true
				} else if (c.AgeFrom != nil && *p.Age < *c.AgeFrom) || (c.AgeTo != nil && *c.AgeTo < 120 && *p.Age > *c.AgeTo) {
					fail = true
				}
			}
			for _, g := range []struct {
				group Group
				has   []string
				known bool
			}{
				{GroupSex, []string{map[string]string{"M": "JA0101", "F": "JA0102"}[p.Sex]}, p.Sex != ""},
				{GroupIncome, []string{p.Income}, p.Income != ""},
				{GroupTraits, p.Traits, p.Traits != nil},
				{GroupHousehold, p.Household, p.Household != nil},
			} {
				var set []string
				for _, code := range c.Codes {
					if gr, ok := CodeGroup(code); ok && gr == g.group {
						set = append(set, code)
					}
				}
				if len(set) == 0 || len(set) == len(groupCodes[g.group]) || slices.Contains(set, CodeNoTraits) || slices.Contains(set, CodeNoHousehold) {
					continue
				}
				hit := false
				for _, h := range g.has {
					hit = hit || slices.Contains(set, h)
				}
				switch {
				case !g.known:
					unknown = true
				case !hit:
					fail = true
				}
			}
		}
		if userTypeNotPersonal(s.UserType) {
			fail = true
		}
		if !fail {
			shown++
		}
		_ = unknown
	}
	return shown
}

// BenchmarkImport imports the 11,000-service catalog from its API pages
// (ns/op is one whole import) and reports the sizes: the pages, and the
// compiled catalog as it travels to kiosks and stays on their disk.
func BenchmarkImport(b *testing.B) {
	_, dir := benchCatalog(b)
	pages := int64(0)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			pages += fi.Size()
		}
	}
	var c *Catalog
	for b.Loop() {
		var err error
		if c, _, err = Import(dir); err != nil {
			b.Fatal(err)
		}
	}
	enc, err := Encode(c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(c.Len()), "services")
	b.ReportMetric(float64(pages), "page-bytes")
	b.ReportMetric(float64(len(enc)), "catalog-bytes")
}

// BenchmarkDecode reads the compiled 11,000-service catalog, as a kiosk
// does when it starts or installs a new version.
func BenchmarkDecode(b *testing.B) {
	c, _ := benchCatalog(b)
	enc, err := Encode(c)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(enc)), "catalog-bytes")
}

// BenchmarkEncode compiles the catalog's bytes, as central does per publication.
func BenchmarkEncode(b *testing.B) {
	c, _ := benchCatalog(b)
	for b.Loop() {
		if _, err := Encode(c); err != nil {
			b.Fatal(err)
		}
	}
}
