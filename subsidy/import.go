package subsidy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The gov24 v3 endpoints whose pages make a catalog directory. A page file
// is named for its endpoint: serviceList*.json and so on.
const (
	EndpointServiceList       = "serviceList"
	EndpointSupportConditions = "supportConditions"
	EndpointServiceDetail     = "serviceDetail"
)

// Endpoints lists the endpoints in the order Import reads them.
var Endpoints = []string{EndpointServiceList, EndpointServiceDetail, EndpointSupportConditions}

// AboutFile is the optional file of a catalog directory that holds its
// About as JSON ({"source": "…", "demo": true}).
const AboutFile = "catalog.json"

// maxProblems is how many problems an ImportError lists; the rest are
// counted. A broken export repeats one mistake thousands of times.
const maxProblems = 20

// InputError is one problem in a catalog directory: the file, the row and
// the field, and what is wrong. It wraps ErrBadPage.
type InputError struct {
	File  string // file name inside the directory
	Row   int    // index in the page's data list, from 0; -1 for the page itself
	Field string // the row's key (서비스ID, JA0110, …) or the page's (data); "" for a whole file or row
	Msg   string // what is wrong
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Row >= 0 {
		fmt.Fprintf(&b, ": row %d", e.Row)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func (e *InputError) Unwrap() error { return ErrBadPage }

// ImportError is a failed import: every problem found (up to 20, the rest
// counted). Nothing of the directory was imported.
type ImportError struct {
	Dir      string
	Problems []*InputError
	Total    int // problems found, listed or not
}

func (e *ImportError) Error() string {
	var b strings.Builder
	noun := "problems"
	if e.Total == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "import %s: %d %s, nothing imported", e.Dir, e.Total, noun)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	if more := e.Total - len(e.Problems); more > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", more)
	}
	return b.String()
}

// Unwrap returns the problems listed, so that errors.As finds an
// *InputError and errors.Is finds ErrBadPage.
func (e *ImportError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// Report tells what an import read, and what it kept despite doubts.
type Report struct {
	Files          int `json:"files"` // page files read
	Services       int `json:"services"`
	WithConditions int `json:"withConditions"` // services that have a supportConditions row
	// UnknownCodes counts, for each JA key the spec does not list, the
	// conditions rows that carry it: the API adds codes over time, and a
	// new one is kept, ignored by the rules and reported here.
	UnknownCodes map[string]int `json:"unknownCodes"`
	// Warnings says, one sentence each, what was odd but usable.
	Warnings []string `json:"warnings"`
}

// Import reads a catalog directory: any number of gov24 v3 pages of
// serviceList, serviceDetail and supportConditions, joined on 서비스ID, and
// the optional AboutFile. On any problem it returns an *ImportError naming
// file, row and field, and no catalog: the caller keeps its current one.
func Import(dir string) (*Catalog, *Report, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("import %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("import %s: not a directory: %w", dir, ErrNoPages)
	}
	return importFS(os.DirFS(dir), dir)
}

// ImportFS is Import from a file system, such as an embedded demo catalog;
// the pages are at its root.
func ImportFS(fsys fs.FS) (*Catalog, *Report, error) {
	return importFS(fsys, ".")
}

func importFS(fsys fs.FS, dir string) (*Catalog, *Report, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("import %s: %w", dir, err)
	}
	im := newImporter(dir)
	byEndpoint := make(map[string][]string)
	hasAbout := false
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		if name == AboutFile {
			hasAbout = true
			continue
		}
		for _, ep := range Endpoints {
			if strings.HasPrefix(name, ep) {
				byEndpoint[ep] = append(byEndpoint[ep], name)
			}
		}
	}
	if hasAbout {
		im.readAbout(fsys)
	}
	for _, ep := range Endpoints {
		names := byEndpoint[ep]
		slices.Sort(names) // fetched pages are numbered with leading zeros
		for _, name := range names {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, nil, fmt.Errorf("import %s: %w", dir, err)
			}
			im.report.Files++
			im.readPage(ep, name, b)
		}
	}
	if im.report.Files == 0 {
		return nil, nil, fmt.Errorf("import %s: %w", dir, ErrNoPages)
	}
	if im.total > 0 {
		return nil, nil, &ImportError{Dir: dir, Problems: im.problems, Total: im.total}
	}
	c := im.catalog()
	if c.Len() == 0 {
		return nil, nil, fmt.Errorf("import %s: the pages hold no service: %w", dir, ErrNoPages)
	}
	return c, im.report, nil
}

type importer struct {
	dir      string
	about    About
	report   *Report
	problems []*InputError
	total    int

	list   map[string]*Service // serviceList rows
	detail map[string]*Service // serviceDetail rows, in Service's fields
	conds  map[string]*Conditions
	// condNames keeps 서비스명 of conditions rows, for services listed nowhere else.
	condNames map[string]string

	rows   map[string]int // rows read per endpoint
	totals map[string]int // the largest totalCount a page of the endpoint gave
	dups   map[string]int // repeated 서비스ID per endpoint
}

func newImporter(dir string) *importer {
	return &importer{
		dir:       dir,
		about:     About{Source: DefaultSource},
		report:    &Report{UnknownCodes: map[string]int{}},
		list:      map[string]*Service{},
		detail:    map[string]*Service{},
		conds:     map[string]*Conditions{},
		condNames: map[string]string{},
		rows:      map[string]int{},
		totals:    map[string]int{},
		dups:      map[string]int{},
	}
}

func (im *importer) problem(file string, row int, field, format string, args ...any) {
	im.total++
	if len(im.problems) < maxProblems {
		im.problems = append(im.problems, &InputError{File: file, Row: row, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
}

func (im *importer) warn(format string, args ...any) {
	im.report.Warnings = append(im.report.Warnings, fmt.Sprintf(format, args...))
}

func (im *importer) readAbout(fsys fs.FS) {
	b, err := fs.ReadFile(fsys, AboutFile)
	if err != nil {
		im.problem(AboutFile, -1, "", "cannot read: %v", err)
		return
	}
	var a About
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		im.problem(AboutFile, -1, "", "not a catalog description ({\"source\": \"…\", \"demo\": true}): %v", err)
		return
	}
	if strings.TrimSpace(a.Source) == "" {
		im.problem(AboutFile, -1, "source", "empty: say where the catalog comes from")
		return
	}
	im.about = a
}

// pageShape is a page as the API sends it, for decoding in one pass.
type pageShape struct {
	Page         json.RawMessage              `json:"page"`
	PerPage      json.RawMessage              `json:"perPage"`
	TotalCount   json.RawMessage              `json:"totalCount"`
	CurrentCount json.RawMessage              `json:"currentCount"`
	MatchCount   json.RawMessage              `json:"matchCount"`
	Data         []map[string]json.RawMessage `json:"data"`
}

// readPage checks one page file and takes its rows.
func (im *importer) readPage(ep, file string, b []byte) {
	// One pass for a well-formed page; the careful path below finds what is
	// wrong with any other.
	var fast pageShape
	if err := json.Unmarshal(b, &fast); err == nil && fast.Data != nil && !slices.ContainsFunc(fast.Data, func(r map[string]json.RawMessage) bool { return r == nil }) {
		meta := map[string]json.RawMessage{"page": fast.Page, "perPage": fast.PerPage,
			"totalCount": fast.TotalCount, "currentCount": fast.CurrentCount, "matchCount": fast.MatchCount}
		im.readRows(ep, file, meta, fast.Data)
		return
	}
	var page map[string]json.RawMessage
	if err := json.Unmarshal(b, &page); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			line, col := position(b, syn.Offset)
			im.problem(file, -1, "", "malformed JSON at line %d column %d: %v", line, col, syn)
		case errors.As(err, &typ):
			im.problem(file, -1, "", "a page is a JSON object {\"data\": [...]}, this file holds %s", typ.Value)
		default:
			im.problem(file, -1, "", "malformed JSON: %v", err)
		}
		return
	}
	raw, ok := page["data"]
	if !ok {
		im.problem(file, -1, "data", "missing: a page holds its rows in a data list")
		return
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		im.problem(file, -1, "data", "is %s, not a list of rows", kindOf(raw))
		return
	}
	rows := make([]map[string]json.RawMessage, len(list))
	for i, r := range list {
		if err := json.Unmarshal(r, &rows[i]); err != nil || rows[i] == nil {
			im.problem(file, i, "", "is %s, not an object", kindOf(r))
			rows[i] = nil
		}
	}
	im.readRows(ep, file, page, rows)
}

// readRows checks a page's counts and takes its rows; nil rows were
// reported already.
func (im *importer) readRows(ep, file string, meta map[string]json.RawMessage, rows []map[string]json.RawMessage) {
	for _, k := range []string{"page", "perPage", "totalCount", "currentCount", "matchCount"} {
		raw := meta[k]
		if isNull(raw) {
			continue
		}
		n, msg := wholeNumber(raw)
		if msg != "" {
			im.problem(file, -1, k, "%s", msg)
			continue
		}
		if k == "totalCount" && n > int64(im.totals[ep]) && n <= math.MaxInt32 {
			im.totals[ep] = int(n)
		}
	}
	if cc := meta["currentCount"]; !isNull(cc) {
		if n, msg := wholeNumber(cc); msg == "" && n != int64(len(rows)) {
			im.warn("%s: currentCount says %d rows, data holds %d", file, n, len(rows))
		}
	}
	for i, row := range rows {
		if row == nil {
			continue
		}
		id, msg := text(row["서비스ID"])
		id = strings.TrimSpace(id)
		switch {
		case msg != "":
			im.problem(file, i, "서비스ID", "%s", msg)
			continue
		case id == "":
			im.problem(file, i, "서비스ID", "missing: every row needs its 서비스ID")
			continue
		}
		im.rows[ep]++
		switch ep {
		case EndpointServiceList:
			im.takeService(im.list, ep, file, i, id, row, serviceListFields)
		case EndpointServiceDetail:
			im.takeService(im.detail, ep, file, i, id, row, serviceDetailFields)
		case EndpointSupportConditions:
			im.takeConditions(file, i, id, row)
		}
	}
}

// field is a text key of a row and the Service field it fills.
type field struct {
	key string
	of  func(*Service) *string
}

// serviceListFields are the text keys of serviceList rows, in the order
// their problems are reported.
var serviceListFields = []field{
	{"서비스명", func(s *Service) *string { return &s.Name }},
	{"서비스목적요약", func(s *Service) *string { return &s.Summary }},
	{"서비스분야", func(s *Service) *string { return &s.Field }},
	{"지원유형", func(s *Service) *string { return &s.SupportType }},
	{"지원대상", func(s *Service) *string { return &s.Target }},
	{"선정기준", func(s *Service) *string { return &s.Criteria }},
	{"지원내용", func(s *Service) *string { return &s.Content }},
	{"신청방법", func(s *Service) *string { return &s.HowToApply }},
	{"신청기한", func(s *Service) *string { return &s.Deadline }},
	{"상세조회URL", func(s *Service) *string { return &s.URL }},
	{"소관기관명", func(s *Service) *string { return &s.Org }},
	{"소관기관코드", func(s *Service) *string { return &s.OrgCode }},
	{"소관기관유형", func(s *Service) *string { return &s.OrgType }},
	{"부서명", func(s *Service) *string { return &s.Dept }},
	{"사용자구분", func(s *Service) *string { return &s.UserType }},
	{"접수기관", func(s *Service) *string { return &s.Reception }},
	{"전화문의", func(s *Service) *string { return &s.Phone }},
	{"등록일시", func(s *Service) *string { return &s.Registered }},
	{"수정일시", func(s *Service) *string { return &s.Modified }},
}

// serviceDetailFields are the text keys of serviceDetail rows; they fill
// what serviceList left empty.
var serviceDetailFields = []field{
	{"서비스명", func(s *Service) *string { return &s.Name }},
	{"서비스목적", func(s *Service) *string { return &s.Summary }},
	{"지원유형", func(s *Service) *string { return &s.SupportType }},
	{"지원대상", func(s *Service) *string { return &s.Target }},
	{"선정기준", func(s *Service) *string { return &s.Criteria }},
	{"지원내용", func(s *Service) *string { return &s.Content }},
	{"신청방법", func(s *Service) *string { return &s.HowToApply }},
	{"신청기한", func(s *Service) *string { return &s.Deadline }},
	{"소관기관명", func(s *Service) *string { return &s.Org }},
	{"접수기관명", func(s *Service) *string { return &s.Reception }},
	{"문의처", func(s *Service) *string { return &s.Phone }},
	{"수정일시", func(s *Service) *string { return &s.Modified }},
	{"구비서류", func(s *Service) *string { return &s.Documents }},
	{"온라인신청사이트URL", func(s *Service) *string { return &s.ApplyURL }},
}

func (im *importer) takeService(into map[string]*Service, ep, file string, i int, id string, row map[string]json.RawMessage, fields []field) {
	s := &Service{ID: id}
	ok := true
	for _, f := range fields {
		raw, has := row[f.key]
		if !has {
			continue
		}
		v, msg := text(raw)
		if msg != "" {
			im.problem(file, i, f.key, "%s", msg)
			ok = false
			continue
		}
		*f.of(s) = v
	}
	if raw, has := row["조회수"]; has && ep == EndpointServiceList && !isNull(raw) {
		n, msg := wholeNumber(raw)
		if msg != "" {
			im.problem(file, i, "조회수", "%s", msg)
			ok = false
		}
		s.Views = n
	}
	if !ok {
		return
	}
	if _, dup := into[id]; dup {
		im.dups[ep]++
	}
	into[id] = s
}

func (im *importer) takeConditions(file string, i int, id string, row map[string]json.RawMessage) {
	c := &Conditions{}
	var bad []*InputError // reported in key order, whatever the map's order
	fail := func(k, format string, args ...any) {
		bad = append(bad, &InputError{File: file, Row: i, Field: k, Msg: fmt.Sprintf(format, args...)})
	}
	for k, raw := range row {
		switch {
		case k == "서비스ID":
		case k == "서비스명":
			name, msg := text(raw)
			if msg != "" {
				fail(k, "%s", msg)
			}
			im.condNames[id] = name
		case k == CodeAgeFrom || k == CodeAgeTo:
			// gov24 v3 supportConditions JA0110, JA0111: integers or null.
			if isNull(raw) {
				continue
			}
			n, msg := wholeNumber(raw)
			if msg != "" {
				fail(k, "age %s", msg)
				continue
			}
			n = max(min(n, math.MaxInt32), math.MinInt32)
			age := int(n)
			if k == CodeAgeFrom {
				c.AgeFrom = &age
			} else {
				c.AgeTo = &age
			}
		case strings.HasPrefix(k, "JA"):
			// gov24 v3 supportConditions: every other code is "Y" or null.
			if _, known := codeTable[k]; !known {
				im.report.UnknownCodes[k]++
			}
			if isNull(raw) {
				continue
			}
			v, msg := text(raw)
			if msg != "" || v != "Y" {
				fail(k, "is %s, want \"Y\" or null", shown(raw))
				continue
			}
			c.Codes = append(c.Codes, k)
		}
	}
	if len(bad) > 0 {
		slices.SortFunc(bad, func(a, b *InputError) int { return strings.Compare(a.Field, b.Field) })
		for _, p := range bad {
			im.problem(p.File, p.Row, p.Field, "%s", p.Msg)
		}
		return
	}
	slices.Sort(c.Codes)
	if _, dup := im.conds[id]; dup {
		im.dups[EndpointSupportConditions]++
	}
	im.conds[id] = c
}

// catalog joins what was read; call it only when there were no problems.
func (im *importer) catalog() *Catalog {
	ids := make(map[string]bool)
	for _, m := range []map[string]*Service{im.list, im.detail} {
		for id := range m {
			ids[id] = true
		}
	}
	orphans := 0
	for id := range im.conds {
		if !ids[id] {
			ids[id] = true
			orphans++
		}
	}
	services := make([]Service, 0, len(ids))
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		var s Service
		if l := im.list[id]; l != nil {
			s = *l
		} else {
			s.ID = id
		}
		if d := im.detail[id]; d != nil {
			fillFrom(&s, d)
		}
		if s.Name == "" {
			s.Name = im.condNames[id]
		}
		s.Conditions = im.conds[id]
		services = append(services, s)
	}
	c := NewCatalog(im.about, services)

	r := im.report
	r.Services = c.Len()
	r.WithConditions = len(im.conds)
	for _, ep := range Endpoints {
		if n := im.dups[ep]; n > 0 {
			im.warn("%s: %d rows repeat a 서비스ID; the one read last (by file name) is kept", ep, n)
		}
		if t, n := im.totals[ep], im.rows[ep]; t > n {
			im.warn("%s: the API counts %d rows, the pages hold %d: pages are missing (fetch again to complete them)", ep, t, n)
		}
	}
	if orphans > 0 {
		im.warn("%s: %d rows name a service that no serviceList or serviceDetail row lists", EndpointSupportConditions, orphans)
	}
	for _, code := range slices.Sorted(maps.Keys(r.UnknownCodes)) {
		im.warn("%s: code %s, not in the spec, in %d rows: kept and ignored by the rules", EndpointSupportConditions, code, r.UnknownCodes[code])
	}
	if n := len(im.list); n == 0 {
		im.warn("no serviceList rows: names, agencies and 사용자구분 come from serviceDetail alone")
	}
	return c
}

// fillFrom fills the empty text fields of s from d.
func fillFrom(s, d *Service) {
	for _, f := range serviceDetailFields {
		if dst, src := f.of(s), f.of(d); *dst == "" {
			*dst = *src
		}
	}
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// text reads a JSON string or null ("" then); msg says why it cannot.
func text(raw json.RawMessage) (string, string) {
	if isNull(raw) {
		return "", ""
	}
	if raw[0] != '"' {
		return "", fmt.Sprintf("is %s, want text", shown(raw))
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), "" // json.RawMessage of a string is well formed
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Sprintf("is not text: %v", err)
	}
	return s, ""
}

// wholeNumber reads a JSON integer (65, or 65.0); msg says why it cannot.
func wholeNumber(raw json.RawMessage) (int64, string) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, fmt.Sprintf("is %s, want a whole number", shown(raw))
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, ""
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Sprintf("is %s, not a whole number", raw)
	}
	return int64(f), ""
}

// kindOf names the JSON kind of raw, for messages.
func kindOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "text"
	case 'n':
		return "null"
	case 't', 'f':
		return "true/false"
	}
	return "a number"
}

// shown quotes a raw value for a message, cut to a readable length.
func shown(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	if s == "" {
		return "empty"
	}
	return kindOf(raw) + " " + s
}

// position turns a byte offset into a line and column, from 1.
func position(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
