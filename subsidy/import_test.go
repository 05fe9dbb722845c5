package subsidy

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// listPage is a serviceList page with the given rows.
func listPage(rows ...string) string {
	return `{"page":1,"perPage":1000,"totalCount":` + itoa(len(rows)) + `,"currentCount":` + itoa(len(rows)) + `,"data":[` + join(rows) + `]}`
}

func condPage(rows ...string) string { return listPage(rows...) }

func itoa(n int) string { return strconv.Itoa(n) }

func join(rows []string) string {
	out := ""
	for i, r := range rows {
		if i > 0 {
			out += ","
		}
		out += r
	}
	return out
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

func TestImport_JoinsTheThreeEndpointsOnServiceID(t *testing.T) {
	c, rep, err := ImportFS(mapFS(map[string]string{
		"serviceList_00001.json": listPage(
			`{"서비스ID":"A1","서비스명":"기초연금","소관기관명":"보건복지부","소관기관유형":"중앙행정기관","사용자구분":"개인","조회수":1234,"지원대상":"만 65세 이상"}`,
			`{"서비스ID":"B2","서비스명":"성남시 효도수당","소관기관명":"경기도 성남시","소관기관유형":"지방자치단체","지원내용":null}`),
		"serviceDetail_00001.json": listPage(
			`{"서비스ID":"A1","서비스명":"(상세) 기초연금","구비서류":"신분증","지원대상":"다른 문장","문의처":"129"}`),
		"supportConditions_00001.json": condPage(
			`{"서비스ID":"A1","서비스명":"기초연금","JA0110":65,"JA0111":null,"JA0101":null,"JA0102":null,"JA0201":"Y","JA0202":"Y"}`),
		"README.txt": "not a page",
	}))
	require.NoError(t, err)
	assert.Equal(t, 2, c.Len())
	assert.Equal(t, Report{Files: 3, Services: 2, WithConditions: 1, UnknownCodes: map[string]int{}}, *rep)
	assert.Equal(t, DefaultSource, c.About.Source)

	a, ok := c.Service("A1")
	require.True(t, ok)
	assert.Equal(t, "기초연금", a.Name, "serviceList wins")
	assert.Equal(t, "만 65세 이상", a.Target, "serviceList wins")
	assert.Equal(t, "신분증", a.Documents, "serviceDetail fills in")
	assert.Equal(t, "129", a.Phone, "serviceDetail fills gaps")
	assert.Equal(t, int64(1234), a.Views)
	assert.Equal(t, &Conditions{AgeFrom: intp(65), Codes: []string{"JA0201", "JA0202"}}, a.Conditions)

	b, ok := c.Service("B2")
	require.True(t, ok)
	assert.Nil(t, b.Conditions, "no conditions row")
}

func TestImport_KeepsUnknownCodesAndWarns(t *testing.T) {
	c, rep, err := ImportFS(mapFS(map[string]string{
		"serviceList.json": listPage(`{"서비스ID":"A1","서비스명":"x"}`, `{"서비스ID":"A2","서비스명":"y"}`),
		"supportConditions.json": condPage(
			`{"서비스ID":"A1","JA0501":"Y","JA0328":"Y"}`,
			`{"서비스ID":"A2","JA0501":null}`),
	}))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"JA0501": 2}, rep.UnknownCodes)
	assert.Contains(t, rep.Warnings, "supportConditions: code JA0501, not in the spec, in 2 rows: kept and ignored by the rules")
	a, _ := c.Service("A1")
	assert.Equal(t, []string{"JA0328", "JA0501"}, a.Conditions.Codes, "kept")
	res, _ := c.Check(person(t, Profile{Traits: []string{"JA0328"}}), "A1")
	assert.Equal(t, Eligible, res.Verdict, "ignored by the rules")
}

func TestImport_WarnsOfMissingPagesRepeatsAndOrphans(t *testing.T) {
	_, rep, err := ImportFS(mapFS(map[string]string{
		"serviceList_00001.json": `{"page":1,"perPage":2,"totalCount":5,"currentCount":2,"data":[{"서비스ID":"A1"},{"서비스ID":"A2"}]}`,
		"serviceList_00002.json": `{"page":2,"perPage":2,"totalCount":5,"currentCount":3,"data":[{"서비스ID":"A2"}]}`,
		"supportConditions.json": condPage(`{"서비스ID":"Z9","서비스명":"조건만"}`),
	}))
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Services, "A1, A2 and the orphan Z9")
	assert.Contains(t, rep.Warnings, "serviceList_00002.json: currentCount says 3 rows, data holds 1")
	assert.Contains(t, rep.Warnings, "serviceList: 1 rows repeat a 서비스ID; the one read last (by file name) is kept")
	assert.Contains(t, rep.Warnings, "serviceList: the API counts 5 rows, the pages hold 3: pages are missing (fetch again to complete them)")
	assert.Contains(t, rep.Warnings, "supportConditions: 1 rows name a service that no serviceList or serviceDetail row lists")
}

// TestImport_RefusesBadInputNamingFileRowAndField covers each kind of bad
// input the spec names, and a few more.
func TestImport_RefusesBadInputNamingFileRowAndField(t *testing.T) {
	good := `{"서비스ID":"OK1","서비스명":"좋은 행"}`
	tests := []struct {
		name  string
		file  string
		body  string
		row   int
		field string
		says  string
	}{
		{"malformed JSON", "serviceList_00001.json", "{\"data\": [\n" + good + ",\n{\"서비스ID\": }]}", -1, "", "malformed JSON at line 3 column"},
		{"not an object", "serviceList_00001.json", `[1, 2]`, -1, "", "this file holds array"},
		{"data is not a list", "serviceList_00001.json", `{"page":1,"data":{"서비스ID":"A"}}`, -1, "data", "is an object, not a list of rows"},
		{"data is null", "supportConditions_00001.json", `{"data":null}`, -1, "data", "is null, not a list"},
		{"no data", "serviceDetail_00001.json", `{"page":1}`, -1, "data", "missing"},
		{"row is not an object", "serviceList_00001.json", listPage(good, `"A2"`), 1, "", "is text, not an object"},
		{"row without 서비스ID", "serviceList_00001.json", listPage(good, `{"서비스명":"이름만"}`), 1, "서비스ID", "missing"},
		{"empty 서비스ID", "supportConditions_00001.json", condPage(`{"서비스ID":"  ","JA0101":"Y"}`), 0, "서비스ID", "missing"},
		{"numeric 서비스ID", "serviceList_00001.json", listPage(`{"서비스ID":123}`), 0, "서비스ID", "is a number 123, want text"},
		{"non-integer age", "supportConditions_00001.json", condPage(good, `{"서비스ID":"A2","JA0110":6.5}`), 1, "JA0110", "age is 6.5, not a whole number"},
		{"age as text", "supportConditions_00001.json", condPage(`{"서비스ID":"A2","JA0111":"65"}`), 0, "JA0111", `age is text "65", want a whole number`},
		{"age as true", "supportConditions_00001.json", condPage(`{"서비스ID":"A2","JA0111":true}`), 0, "JA0111", "want a whole number"},
		{"code value N", "supportConditions_00001.json", condPage(`{"서비스ID":"A2","JA0328":"N"}`), 0, "JA0328", `is text "N", want "Y" or null`},
		{"code value true", "supportConditions_00001.json", condPage(`{"서비스ID":"A2","JA0101":true}`), 0, "JA0101", `want "Y" or null`},
		{"code value empty", "supportConditions_00001.json", condPage(`{"서비스ID":"A2","JA0101":""}`), 0, "JA0101", `want "Y" or null`},
		{"unknown code value", "supportConditions_00001.json", condPage(`{"서비스ID":"A2","JA0999":1}`), 0, "JA0999", `want "Y" or null`},
		{"name as a number", "serviceList_00001.json", listPage(`{"서비스ID":"A2","서비스명":7}`), 0, "서비스명", "want text"},
		{"views as text", "serviceList_00001.json", listPage(`{"서비스ID":"A2","조회수":"many"}`), 0, "조회수", "want a whole number"},
		{"totalCount as text", "serviceList_00001.json", `{"totalCount":"10","data":[]}`, -1, "totalCount", "want a whole number"},
		{"bad catalog.json", AboutFile, `{"source": 1}`, -1, "", "not a catalog description"},
		{"catalog.json without source", AboutFile, `{"demo": true}`, -1, "source", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"serviceList_00000.json": listPage(good)}
			files[tt.file] = tt.body
			dir := t.TempDir()
			for name, body := range files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
			}
			c, rep, err := Import(dir)
			require.Error(t, err)
			assert.Nil(t, c, "no catalog from bad input")
			assert.Nil(t, rep)
			assert.ErrorIs(t, err, ErrBadPage)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			var ie *InputError
			require.True(t, errors.As(err, &ie))
			assert.Equal(t, tt.file, ie.File)
			assert.Equal(t, tt.row, ie.Row)
			assert.Equal(t, tt.field, ie.Field)
			assert.Contains(t, ie.Msg, tt.says)
			assert.Contains(t, err.Error(), dir, "the message names the directory")
			assert.Contains(t, err.Error(), tt.file, "and the file")
		})
	}
}

func TestImport_ListsManyProblemsAndCountsTheRest(t *testing.T) {
	var rows []string
	for range 30 {
		rows = append(rows, `{"서비스명":"no id"}`)
	}
	_, _, err := ImportFS(mapFS(map[string]string{"serviceList.json": listPage(rows...)}))
	var ie *ImportError
	require.True(t, errors.As(err, &ie))
	assert.Equal(t, 30, ie.Total)
	assert.Len(t, ie.Problems, maxProblems)
	assert.Contains(t, err.Error(), "30 problems, nothing imported")
	assert.Contains(t, err.Error(), "serviceList.json: row 19: field 서비스ID: missing")
	assert.Contains(t, err.Error(), "… and 10 more")
	assert.NotContains(t, err.Error(), "row 20:", "rows past the first 20 problems are counted, not listed")
}

func TestImport_RefusesADirectoryWithoutServices(t *testing.T) {
	_, _, err := ImportFS(mapFS(map[string]string{"notes.json": "{}"}))
	assert.ErrorIs(t, err, ErrNoPages)
	_, _, err = ImportFS(mapFS(map[string]string{"serviceList_00001.json": listPage()}))
	assert.ErrorIs(t, err, ErrNoPages)
	_, _, err = Import(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	f := filepath.Join(t.TempDir(), "file.json")
	require.NoError(t, os.WriteFile(f, []byte(listPage()), 0o644))
	_, _, err = Import(f)
	assert.ErrorIs(t, err, ErrNoPages)
}

func TestImport_ReadsCatalogJSON(t *testing.T) {
	c, _, err := ImportFS(mapFS(map[string]string{
		"serviceList.json": listPage(`{"서비스ID":"A1"}`),
		AboutFile:          `{"source": "DEMO: 조건은 만든 것", "demo": true}`,
	}))
	require.NoError(t, err)
	assert.Equal(t, About{Source: "DEMO: 조건은 만든 것", Demo: true}, c.About)
}
