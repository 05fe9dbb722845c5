package subsidy

import (
	_ "embed"
	"fmt"

	"github.com/BurntSushi/toml"
)

//go:embed median_income.toml
var medianIncomeTOML []byte

// MedianIncomeTable is the standard median income (기준 중위소득) of one
// year, monthly, in won, by household size: what the kiosk uses to explain
// the income bands (JA0201–JA0205) in won for a person's household.
type MedianIncomeTable struct {
	Year int `toml:"year"`
	// Illustrative is true while the figures are not checked against the
	// official announcement; screens must then say they are approximate.
	Illustrative bool   `toml:"illustrative"`
	Note         string `toml:"note"`
	// Monthly[i] is the median income of a household of i+1 people.
	Monthly []int64 `toml:"monthly"`
}

// MedianIncome returns the embedded table (median_income.toml).
func MedianIncome() MedianIncomeTable { return medianIncome }

var medianIncome = func() MedianIncomeTable {
	t, err := parseMedianIncome(medianIncomeTOML)
	if err != nil {
		panic("subsidy: median_income.toml: " + err.Error()) // embedded and tested: a build mistake
	}
	return t
}()

func parseMedianIncome(b []byte) (MedianIncomeTable, error) {
	var t MedianIncomeTable
	md, err := toml.Decode(string(b), &t)
	if err != nil {
		return t, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		return t, fmt.Errorf("unknown key %s", und[0])
	}
	if t.Year < 2000 || len(t.Monthly) == 0 {
		return t, fmt.Errorf("year and monthly are required")
	}
	for i, m := range t.Monthly {
		if m <= 0 || (i > 0 && m <= t.Monthly[i-1]) {
			return t, fmt.Errorf("monthly[%d] = %d: amounts must be positive and grow with the household", i, m)
		}
	}
	return t, nil
}

// MaxSize is the largest household size the table lists; larger
// households use its figure.
func (t MedianIncomeTable) MaxSize() int { return len(t.Monthly) }

// Band is an income band in won for one household size: Min exclusive
// (0 for the first band), Max inclusive (0 for the last, open band).
type Band struct {
	Code     string
	Min, Max int64
}

// Bands returns the five income bands (JA0201–JA0205) in won a month for a
// household of size people (clamped to 1..MaxSize), from the bands' shares
// of the median income (50, 75, 100, 200 %).
func (t MedianIncomeTable) Bands(size int) []Band {
	size = max(1, min(size, len(t.Monthly)))
	median := t.Monthly[size-1]
	codes := groupCodes[GroupIncome]
	out := make([]Band, len(codes))
	var lo int64
	for i, c := range codes {
		out[i] = Band{Code: c, Min: lo}
		if i < len(incomeUpper) {
			out[i].Max = median * int64(incomeUpper[i]) / 100
			lo = out[i].Max
		}
	}
	return out
}
