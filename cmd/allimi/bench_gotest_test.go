package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseGoBench_ReadsResultLinesAndCustomMetrics(t *testing.T) {
	out := `goos: linux
pkg: allimi/subsidy
BenchmarkMatch/shown-2         	    3262	    443104 ns/op	      2535 results/op	  382611 B/op	       4 allocs/op
BenchmarkImport-2              	       2	 709690196 ns/op	   3634542 catalog-bytes	  25928339 page-bytes	     11000 services	197169512 B/op	 2791131 allocs/op
BenchmarkDecode-2              	      12	  96156195 ns/op	   3634542 catalog-bytes
PASS
ok  	allimi/subsidy	16.654s
`
	lines, err := parseGoBench(strings.NewReader(out))
	require.NoError(t, err)
	require.Len(t, lines, 3)
	assert.Equal(t, "BenchmarkMatch/shown", lines[0].Name)
	assert.EqualValues(t, 3262, lines[0].N)
	assert.InDelta(t, 443104, lines[0].Metrics["ns/op"], 0.1)
	assert.InDelta(t, 3634542, lines[1].Metrics["catalog-bytes"], 0.1)

	md := subsidyBenchMarkdown(lines)
	assert.Contains(t, md, "**0.443 ms**")
	assert.Contains(t, md, "709.690 ms")
	assert.Contains(t, md, "3.6 MB on the kiosk")
	assert.Contains(t, md, "| baseline: uncompiled rules, same profiles | not run |", "a benchmark missing from the output is said so")
}
