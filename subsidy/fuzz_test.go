package subsidy

import (
	"bytes"
	"testing"
	"time"

	"allimi/assets"
)

// Profiles come from kiosks (and central keeps them); catalogs come from
// central: whatever the bytes, an error or a value, never a panic.

func FuzzProfileMatch(f *testing.F) {
	cat, _, err := ImportFS(assets.SubsidyDemo())
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"age":75,"sex":"F","income":"JA0201","traits":["JA0317"],"household":[]}`), "세종")
	f.Add([]byte(`{"birthDate":"1950-02-29"}`), "경기/성남시")
	f.Add([]byte(`{"traits":["JA0322","JA0317"]}`), "")
	asOf := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte, region string) {
		p, err := ParseProfile(b)
		if err != nil {
			return
		}
		who, err := NewPerson(p, asOf)
		if err != nil {
			return
		}
		r, err := ParseRegion(region)
		if err != nil {
			return
		}
		for _, res := range cat.Match(who, Options{Region: r}) {
			if res.Verdict == Ineligible {
				t.Fatalf("%s: ineligible shown without --all", res.Service.ID)
			}
			for _, reason := range res.Reasons {
				if reason.Text() == "" {
					t.Fatalf("%s: a reason without a sentence: %+v", res.Service.ID, reason)
				}
			}
		}
	})
}

func FuzzDecodeCatalog(f *testing.F) {
	cat, _, err := ImportFS(assets.SubsidyDemo())
	if err != nil {
		f.Fatal(err)
	}
	small, err := Encode(cat.Subset([]string{cat.services[0].ID, cat.services[1].ID}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add([]byte("not a catalog"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(c)
		if err != nil {
			t.Fatalf("a decoded catalog does not encode: %v", err)
		}
		c2, err := Decode(again)
		if err != nil || c2.Len() != c.Len() {
			t.Fatalf("catalog round trip: %v", err)
		}
		if again2, _ := Encode(c2); !bytes.Equal(again, again2) {
			t.Fatalf("encoding is not deterministic")
		}
	})
}
