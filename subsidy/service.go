package subsidy

// Service is one Subsidy 24 service: its serviceList row, gaps filled from
// its serviceDetail row, and its supportConditions row when it has one.
// Free text (지원대상, 선정기준) is kept to be shown, never interpreted.
type Service struct {
	ID          string `json:"id"`                    // 서비스ID
	Name        string `json:"name"`                  // 서비스명
	Summary     string `json:"summary,omitempty"`     // 서비스목적요약 (serviceDetail: 서비스목적)
	Field       string `json:"field,omitempty"`       // 서비스분야
	SupportType string `json:"supportType,omitempty"` // 지원유형
	Target      string `json:"target,omitempty"`      // 지원대상
	Criteria    string `json:"criteria,omitempty"`    // 선정기준
	Content     string `json:"content,omitempty"`     // 지원내용
	HowToApply  string `json:"howToApply,omitempty"`  // 신청방법, "||"-joined
	Deadline    string `json:"deadline,omitempty"`    // 신청기한
	URL         string `json:"url,omitempty"`         // 상세조회URL
	Org         string `json:"org,omitempty"`         // 소관기관명
	OrgCode     string `json:"orgCode,omitempty"`     // 소관기관코드
	OrgType     string `json:"orgType,omitempty"`     // 소관기관유형
	Dept        string `json:"dept,omitempty"`        // 부서명
	UserType    string `json:"userType,omitempty"`    // 사용자구분, "||"-joined
	Reception   string `json:"reception,omitempty"`   // 접수기관 (serviceDetail: 접수기관명)
	Phone       string `json:"phone,omitempty"`       // 전화문의 (serviceDetail: 문의처)
	Views       int64  `json:"views,omitempty"`       // 조회수
	Registered  string `json:"registered,omitempty"`  // 등록일시
	Modified    string `json:"modified,omitempty"`    // 수정일시
	Documents   string `json:"documents,omitempty"`   // serviceDetail 구비서류
	ApplyURL    string `json:"applyUrl,omitempty"`    // serviceDetail 온라인신청사이트URL

	// Conditions is the supportConditions row; nil when the service has
	// none, which rule 7 answers with NeedsCheck.
	Conditions *Conditions `json:"conditions,omitempty"`
}

// Conditions is a supportConditions row.
type Conditions struct {
	AgeFrom *int `json:"ageFrom,omitempty"` // JA0110, 만 나이; nil when null
	AgeTo   *int `json:"ageTo,omitempty"`   // JA0111, 만 나이; nil when null
	// Codes lists every code set to "Y", sorted, including codes the spec
	// does not list: they are kept for later builds and ignored by the rules.
	Codes []string `json:"codes,omitempty"`
}

// About says where a catalog comes from. Import reads it from the optional
// file catalog.json of a page directory.
type About struct {
	// Source names the origin of the data; a demo catalog says so here.
	Source string `json:"source"`
	// Demo is true when the conditions are made up for a demonstration.
	Demo bool `json:"demo,omitempty"`
	// Fetched is the day the pages were fetched (YYYY-MM-DD), if known.
	Fetched string `json:"fetched,omitempty"`
}

// DefaultSource is the Source of a catalog directory without catalog.json.
const DefaultSource = "gov24 v3 Open API (data.go.kr 대한민국 공공서비스 정보)"
