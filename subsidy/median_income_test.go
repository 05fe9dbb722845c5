package subsidy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedianIncome_EmbeddedTableIsUsable(t *testing.T) {
	tb := MedianIncome()
	assert.Equal(t, 2026, tb.Year)
	require.GreaterOrEqual(t, tb.MaxSize(), 4)
	assert.NotEmpty(t, tb.Note, "the table says where its figures come from")
}

func TestMedianIncome_BandsFollowTheShares(t *testing.T) {
	tb := MedianIncomeTable{Year: 2026, Monthly: []int64{1_000_000, 2_000_000}}
	b := tb.Bands(2)
	require.Len(t, b, 5)
	assert.Equal(t, Band{Code: "JA0201", Min: 0, Max: 1_000_000}, b[0])
	assert.Equal(t, Band{Code: "JA0202", Min: 1_000_000, Max: 1_500_000}, b[1])
	assert.Equal(t, Band{Code: "JA0203", Min: 1_500_000, Max: 2_000_000}, b[2])
	assert.Equal(t, Band{Code: "JA0204", Min: 2_000_000, Max: 4_000_000}, b[3])
	assert.Equal(t, Band{Code: "JA0205", Min: 4_000_000, Max: 0}, b[4])
	assert.Equal(t, tb.Bands(2), tb.Bands(9), "larger households use the largest size listed")
	assert.Equal(t, tb.Bands(1), tb.Bands(0))
}

func TestMedianIncome_RefusesBadTables(t *testing.T) {
	for name, src := range map[string]string{
		"no year":     `monthly = [1, 2]`,
		"shrinking":   "year = 2026\nmonthly = [3, 2]",
		"unknown key": "year = 2026\nmonthly = [1]\nsource = \"x\"",
	} {
		_, err := parseMedianIncome([]byte(src))
		assert.Error(t, err, name)
	}
}
