package subsidy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A generated catalog: services in the shape of the gov24 v3 API, with
// random conditions, written as API pages. The rule tests check Match
// against an oracle on these rows; the benchmarks import and match them.

// genService is one generated service as the API would give it.
type genService struct {
	list   map[string]any // serviceList row
	cond   map[string]any // supportConditions row; nil when the service has none
	detail map[string]any // serviceDetail row; nil when none
}

func (g genService) id() string { return g.list["서비스ID"].(string) }

// allJACodes is every JA key of the spec's table, as the API sends each
// conditions row: all keys, "Y" or null.
func allJACodes() []string {
	var out []string
	for _, g := range []Group{GroupSex, GroupIncome, GroupTraits, GroupHousehold, GroupBusiness, GroupOrganisation} {
		out = append(out, groupCodes[g]...)
	}
	return out
}

var genOrgs = []struct{ name, kind string }{
	{"보건복지부", "중앙행정기관"}, {"고용노동부", "중앙행정기관"}, {"국가보훈부", "중앙행정기관"},
	{"국민건강보험공단", "공공기관"}, {"한국장학재단", "공공기관"},
	{"서울특별시", "지방자치단체"}, {"서울특별시 종로구", "지방자치단체"}, {"서울특별시 강남구", "지방자치단체"},
	{"경기도", "지방자치단체"}, {"경기도 성남시", "지방자치단체"}, {"경기도 수원시", "지방자치단체"},
	{"부산광역시 해운대구", "지방자치단체"}, {"부산광역시교육청", "교육청"},
	{"전남광주통합특별시 보성군", "지방자치단체"}, {"전남광주통합특별시", "지방자치단체"},
	{"강원특별자치도 평창군", "지방자치단체"}, {"제주특별자치도", "지방자치단체"},
}

var genUserTypes = []string{
	"개인", "개인||가구", "가구", "개인||가구", "개인", "개인||소상공인",
	"법인/시설/단체", "소상공인", "법인/시설/단체||소상공인", "",
}

// genWords make text of realistic length (the real catalog's 지원대상 has
// about 100 characters, 지원내용 a few hundred) and of roughly natural
// compressibility, so that the encoded size is an honest estimate: common
// real words mixed with a Zipf-distributed vocabulary of made-up ones.
var genWords = strings.Fields("지원 대상 가구 소득 기준 이하 신청 방법 주민센터 방문 온라인 정부24 " +
	"어르신 장애인 저소득층 기초생활수급자 차상위계층 아동 청년 임산부 월 만원 지급 바우처 감면 " +
	"의료비 교육비 주거비 난방비 일자리 상담 서비스 제공 연 1회 이내 거주 등록 확인 서류 제출")

var genVocab = func() []string {
	r := rand.New(rand.NewPCG(5, 5))
	out := make([]string, 4000)
	for i := range out {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteRune(rune(0xAC00 + r.IntN(11172)))
		}
		out[i] = b.String()
	}
	return out
}()

func genText(r *rand.Rand, words int) string {
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(genVocab)-1))
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if r.IntN(2) == 0 {
			b.WriteString(genWords[r.IntN(len(genWords))])
		} else {
			b.WriteString(genVocab[zipf.Uint64()])
		}
	}
	return b.String()
}

// genCatalog makes n services from seed: the same seed, the same services.
func genCatalog(n int, seed uint64) []genService {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	codes := allJACodes()
	out := make([]genService, n)
	for i := range out {
		id := fmt.Sprintf("%06d%06d", 100000+r.IntN(900000), i)
		org := genOrgs[r.IntN(len(genOrgs))]
		list := map[string]any{
			"서비스ID": id, "서비스명": fmt.Sprintf("%s %s 지원사업 %d", genText(r, 2), org.name, i),
			"서비스목적요약": genText(r, 8), "서비스분야": "보건·의료", "지원유형": "현금",
			"지원대상": genText(r, 30), "선정기준": genText(r, 25), "지원내용": genText(r, 40),
			"신청방법": "방문신청||정부24온라인신청", "신청기한": "상시",
			"상세조회URL": "https://www.gov.kr/portal/rcvfvrSvc/dtlEx/" + id,
			"소관기관명":   org.name, "소관기관코드": fmt.Sprintf("%07d", r.IntN(9999999)), "소관기관유형": org.kind,
			"부서명": "복지정책과", "사용자구분": genUserTypes[r.IntN(len(genUserTypes))],
			"접수기관": "읍면동 행정복지센터", "전화문의": "보건복지상담센터/129", "조회수": r.IntN(100000),
			"등록일시": "20240101000000", "수정일시": "20250301120000",
		}
		g := genService{list: list}
		if r.IntN(10) < 9 { // most services publish conditions
			cond := map[string]any{"서비스ID": id, "서비스명": list["서비스명"]}
			for _, c := range codes {
				cond[c] = nil
			}
			// A few codes of a few groups; sometimes all of a group, or its
			// "none of these", so that the open cases occur.
			for range r.IntN(5) {
				cond[codes[r.IntN(len(codes))]] = "Y"
			}
			switch r.IntN(12) {
			case 0:
				for _, c := range groupCodes[GroupIncome] {
					cond[c] = "Y"
				}
			case 1:
				cond["JA0101"], cond["JA0102"] = "Y", "Y"
			}
			cond[CodeAgeFrom], cond[CodeAgeTo] = nil, nil
			switch r.IntN(6) {
			case 0:
				cond[CodeAgeFrom] = 65
			case 1:
				cond[CodeAgeFrom], cond[CodeAgeTo] = 19, 34
			case 2:
				cond[CodeAgeTo] = r.IntN(20)
			case 3:
				cond[CodeAgeFrom], cond[CodeAgeTo] = 0, 120 // both open
			case 4:
				cond[CodeAgeFrom], cond[CodeAgeTo] = r.IntN(90), r.IntN(130)
			}
			g.cond = cond
		}
		if r.IntN(4) == 0 {
			g.detail = map[string]any{"서비스ID": id, "구비서류": genText(r, 6), "온라인신청사이트URL": "https://www.gov.kr/"}
		}
		out[i] = g
	}
	return out
}

// writePages writes the generated services into dir as API pages of
// perPage rows, named as Fetch names them.
func writePages(tb testing.TB, dir string, services []genService, perPage int) {
	tb.Helper()
	var list, cond, detail []any
	for _, s := range services {
		list = append(list, s.list)
		if s.cond != nil {
			cond = append(cond, s.cond)
		}
		if s.detail != nil {
			detail = append(detail, s.detail)
		}
	}
	for ep, rows := range map[string][]any{EndpointServiceList: list, EndpointSupportConditions: cond, EndpointServiceDetail: detail} {
		for n := 1; (n-1)*perPage < len(rows) || n == 1; n++ {
			part := rows[(n-1)*perPage : min(n*perPage, len(rows))]
			writeJSON(tb, filepath.Join(dir, pageFile(ep, n)), apiPage(n, perPage, len(rows), part))
		}
	}
}

// apiPage is one page as the API answers it.
func apiPage(n, perPage, total int, rows []any) map[string]any {
	if rows == nil {
		rows = []any{}
	}
	return map[string]any{"page": n, "perPage": perPage, "totalCount": total,
		"currentCount": len(rows), "matchCount": total, "data": rows}
}

func writeJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := json.Marshal(v)
	require.NoError(tb, err)
	require.NoError(tb, os.WriteFile(path, b, 0o644))
}

// genProfile makes a random profile: each field told or not.
func genProfile(r *rand.Rand) Profile {
	var p Profile
	switch r.IntN(3) {
	case 0:
		age := r.IntN(100)
		p.Age = &age
	case 1:
		p.BirthDate = fmt.Sprintf("%04d-%02d-%02d", 1925+r.IntN(100), 1+r.IntN(12), 1+r.IntN(28))
	}
	if r.IntN(3) > 0 {
		p.Sex = []string{SexMale, SexFemale}[r.IntN(2)]
	}
	if r.IntN(3) > 0 {
		p.Income = groupCodes[GroupIncome][r.IntN(5)]
	}
	pick := func(g Group) []string {
		list := groupCodes[g]
		switch r.IntN(4) {
		case 0:
			return nil
		case 1:
			return []string{}
		case 2:
			return []string{list[len(list)-1]} // none of these
		}
		var out []string
		for range 1 + r.IntN(3) {
			out = append(out, list[r.IntN(len(list)-1)])
		}
		return out
	}
	p.Traits = pick(GroupTraits)
	p.Household = pick(GroupHousehold)
	return p
}
