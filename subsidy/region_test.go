package subsidy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRegion(t *testing.T) {
	for _, s := range []string{"경기", "경기도", "경기/성남시", "경기도/성남", "서울특별시/종로구", "전남광주통합특별시/보성군", "광주/동구", "강원도", "강원특별자치도/평창군"} {
		t.Run(s, func(t *testing.T) {
			r, err := ParseRegion(s)
			require.NoError(t, err)
			assert.False(t, r.IsZero())
			assert.Equal(t, s, r.String())
		})
	}
	r, err := ParseRegion("  ")
	require.NoError(t, err)
	assert.True(t, r.IsZero(), "no region is everywhere")

	for _, s := range []string{"성남시", "Gyeonggi", "경기/성남시/분당구", "서울특별시교육청"} {
		t.Run("refuses "+s, func(t *testing.T) {
			_, err := ParseRegion(s)
			assert.ErrorIs(t, err, ErrUnknownRegion)
		})
	}
}

// TestMatch_RegionFilter: central agencies and public bodies everywhere;
// local governments only where 소관기관명 names the kiosk's 시도, and its
// 시군구 when the name has one.
func TestMatch_RegionFilter(t *testing.T) {
	services := []Service{
		{ID: "central", Org: "보건복지부", OrgType: "중앙행정기관"},
		{ID: "public", Org: "국민건강보험공단", OrgType: "공공기관"},
		{ID: "edu-busan", Org: "부산광역시교육청", OrgType: "교육청"},
		{ID: "gyeonggi", Org: "경기도", OrgType: "지방자치단체"},
		{ID: "seongnam", Org: "경기도 성남시", OrgType: "지방자치단체"},
		{ID: "suwon", Org: "경기도 수원시", OrgType: "지방자치단체"},
		{ID: "jongno", Org: "서울특별시 종로구", OrgType: "지방자치단체"},
		{ID: "seoul", Org: "서울특별시", OrgType: "지방자치단체"},
		{ID: "seoul-edu", Org: "서울특별시교육청", OrgType: "지방자치단체"},
		{ID: "merged", Org: "전남광주통합특별시", OrgType: "지방자치단체"},
		{ID: "boseong", Org: "전남광주통합특별시 보성군", OrgType: "지방자치단체"},
		{ID: "gwangju-donggu", Org: "광주광역시 동구", OrgType: "지방자치단체"},
		{ID: "gyeonggi-gwangju", Org: "경기도 광주시", OrgType: "지방자치단체"},
		{ID: "unnamed-local", Org: "어느 군청", OrgType: "지방자치단체"},
	}
	for i := range services {
		services[i].Conditions = conds(nil, nil)
	}
	c := NewCatalog(About{}, services)
	everywhere := []string{"central", "edu-busan", "public"}
	tests := []struct {
		region string
		want   []string
	}{
		{"", []string{"boseong", "central", "edu-busan", "gwangju-donggu", "gyeonggi", "gyeonggi-gwangju", "jongno", "merged", "public", "seongnam", "seoul", "seoul-edu", "suwon", "unnamed-local"}},
		{"경기/성남시", append([]string{"gyeonggi", "seongnam"}, everywhere...)},
		{"경기도/성남", append([]string{"gyeonggi", "seongnam"}, everywhere...)},
		{"경기", append([]string{"gyeonggi", "gyeonggi-gwangju", "seongnam", "suwon"}, everywhere...)},
		{"경기/광주시", append([]string{"gyeonggi", "gyeonggi-gwangju"}, everywhere...)},
		{"서울/종로구", append([]string{"jongno", "seoul", "seoul-edu"}, everywhere...)},
		{"서울특별시/강남구", append([]string{"seoul", "seoul-edu"}, everywhere...)},
		{"광주/동구", append([]string{"gwangju-donggu", "merged"}, everywhere...)},
		{"전남/보성군", append([]string{"boseong", "merged"}, everywhere...)},
		{"전남광주통합특별시/보성군", append([]string{"boseong", "merged"}, everywhere...)},
		{"제주", everywhere},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			r, err := ParseRegion(tt.region)
			require.NoError(t, err)
			var got []string
			for _, res := range c.Match(person(t, Profile{}), Options{Region: r}) {
				got = append(got, res.Service.ID)
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}

// TestMatch_RegionFilterComesAfterTheVerdict: the filter hides, it does not
// change a verdict; and without All the ineligible stay hidden.
func TestMatch_RegionFilterComesAfterTheVerdict(t *testing.T) {
	c := NewCatalog(About{}, []Service{
		{ID: "here-old", Org: "경기도 성남시", OrgType: "지방자치단체", Conditions: conds(intp(65), nil)},
		{ID: "here-young", Org: "경기도 성남시", OrgType: "지방자치단체", Conditions: conds(nil, intp(34))},
		{ID: "there-old", Org: "경기도 수원시", OrgType: "지방자치단체", Conditions: conds(intp(65), nil)},
	})
	r, err := ParseRegion("경기/성남시")
	require.NoError(t, err)
	who := person(t, Profile{Age: intp(70)})
	got := c.Match(who, Options{Region: r})
	require.Len(t, got, 1)
	assert.Equal(t, "here-old", got[0].Service.ID)
	got = c.Match(who, Options{Region: r, All: true})
	require.Len(t, got, 2)
	assert.Equal(t, Ineligible, got[1].Verdict)
	res, ok := c.Check(who, "there-old")
	require.True(t, ok)
	assert.Equal(t, Eligible, res.Verdict, "Check ignores the region")
	assert.Equal(t, map[Verdict]int{Eligible: 1, Ineligible: 1}, c.Counts(who, r))
}

// TestCanonicalRegion: a region written short or long is one region,
// its 시도 by its official name; what ParseRegion refuses, or longer than
// a sign-up's payload.region may be, is refused.
func TestCanonicalRegion(t *testing.T) {
	for in, want := range map[string]string{
		"서울/종로구": "서울특별시/종로구", " 서울특별시 / 종로구 ": "서울특별시/종로구", "경기": "경기도", "강원도/평창군": "강원특별자치도/평창군",
		"광주/동구": "광주광역시/동구", "전남광주/보성군": "전남광주통합특별시/보성군", "": "",
	} {
		got, err := CanonicalRegion(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"성남시", "경기/성남시/분당구", "서울/" + strings.Repeat("구", 40)} {
		_, err := CanonicalRegion(bad)
		assert.ErrorIs(t, err, ErrUnknownRegion, bad)
	}
}
