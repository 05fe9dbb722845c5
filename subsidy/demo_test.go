package subsidy_test

import (
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/assets"
	"allimi/subsidy"
)

// TestDemoCatalog_ImportsAndSaysItIsDemoData checks the committed demo
// catalog: the 977 real services, marked as demo data with their
// provenance, importable without warnings.
func TestDemoCatalog_ImportsAndSaysItIsDemoData(t *testing.T) {
	c, rep, err := subsidy.ImportFS(assets.SubsidyDemo())
	require.NoError(t, err)
	assert.Equal(t, 977, c.Len())
	assert.Empty(t, rep.Warnings)
	assert.True(t, c.About.Demo)
	assert.Contains(t, c.About.Source, "DEMO DATA")
	assert.Contains(t, c.About.Source, "kjjin6280/korea-benefits")
	readme, err := fs.ReadFile(assets.SubsidyDemo(), "README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "Provenance: Services from the gov24 v3 serviceList API as collected in the public repository kjjin6280/korea-benefits")

	// Some services have no published criteria, so the kiosk shows that case.
	who, err := subsidy.NewPerson(subsidy.Profile{}, time.Now())
	require.NoError(t, err)
	n := c.Counts(who, subsidy.Region{})
	assert.Equal(t, 977, n[subsidy.Eligible]+n[subsidy.NeedsCheck]+n[subsidy.Ineligible])
	assert.Positive(t, n[subsidy.NeedsCheck])
	assert.Positive(t, n[subsidy.Eligible])
}

// TestDemoCatalog_EveryLocalServiceHasARegion: each local government's
// service is listed in the kiosks of some 시도, so that the region table
// knows every 소관기관명 of the real data (전남광주통합특별시 included).
func TestDemoCatalog_EveryLocalServiceHasARegion(t *testing.T) {
	c, _, err := subsidy.ImportFS(assets.SubsidyDemo())
	require.NoError(t, err)
	who, err := subsidy.NewPerson(subsidy.Profile{}, time.Now())
	require.NoError(t, err)
	local := map[string]bool{}
	for _, s := range c.Services() {
		if s.OrgType == "지방자치단체" {
			local[s.ID] = true
		}
	}
	require.NotEmpty(t, local)
	for _, sido := range []string{"서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원", "충북", "충남", "전북", "전남", "경북", "경남", "제주"} {
		r, err := subsidy.ParseRegion(sido)
		require.NoError(t, err)
		for _, res := range c.Match(who, subsidy.Options{Region: r, All: true}) {
			delete(local, res.Service.ID)
		}
	}
	assert.Empty(t, local, "local services no region lists")
}
