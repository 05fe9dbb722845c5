package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/subsidy"
)

const sample = `[
 {"id": "A00000000001", "name": "어르신 기초연금", "desc": "만 65세 이상 어르신께 연금 지급", "org": "보건복지부", "target": "소득 하위 70%", "how": "방문신청", "url": "https://www.gov.kr/x", "region": "전국", "deadline": "상시"},
 {"id": "A00000000002", "name": "성남시 한부모가족 난방비", "desc": "저소득 한부모가족 지원", "org": "경기도 성남시", "target": "", "how": "방문신청", "url": "", "region": "경기", "deadline": "상시"},
 {"id": "A00000000003", "name": "소상공인 경영 지원", "desc": "영업 중인 소상공인 지원", "org": "부산광역시교육청", "target": "", "how": "", "url": "", "region": "부산", "deadline": "상시"}
]`

func TestGenerate_IsDeterministicAndImportable(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, generate([]byte(sample), a))
	require.NoError(t, generate([]byte(sample), b))
	for _, name := range []string{subsidy.AboutFile, "serviceList_00001.json", "supportConditions_00001.json", "README.md"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, name))
		require.NoError(t, err)
		assert.Equal(t, x, y, name)
	}

	c, rep, err := subsidy.Import(a)
	require.NoError(t, err)
	assert.Empty(t, rep.Warnings)
	assert.True(t, c.About.Demo)
	assert.Equal(t, Source, c.About.Source)

	s, _ := c.Service("A00000000001")
	assert.Equal(t, "중앙행정기관", s.OrgType)
	require.NotNil(t, s.Conditions)
	assert.Equal(t, 65, *s.Conditions.AgeFrom, "어르신 → 만 65세 이상")
	s, _ = c.Service("A00000000002")
	assert.Equal(t, "지방자치단체", s.OrgType)
	assert.Equal(t, []string{"JA0201", "JA0403"}, s.Conditions.Codes, "저소득, 한부모")
	s, _ = c.Service("A00000000003")
	assert.Equal(t, "소상공인", s.UserType)
	assert.Equal(t, "지방자치단체", s.OrgType, "a 시도's 교육청 is local")
}
