// Package subsidy answers "which Subsidy 24 (보조금24) services might this
// person get?" offline, from a catalog of the gov24 v3 Open API
// (data.go.kr "대한민국 공공서비스 정보"), as specified in
// shared/specs/subsidy-eligibility.md.
//
// A catalog is imported from a directory of API pages (Import, ImportFS),
// which central fetches with a Fetcher, and travels to kiosks as the bytes
// of Encode, signed by package allimi/sync/catalog under CatalogName.
// On import every service is compiled into a few machine words (the age
// bounds and one bitmask per group of codes), so that Match checks a
// person against the whole catalog of about 11,000 services in well under
// a millisecond.
//
// Match gives each service one verdict (Eligible, NeedsCheck, Ineligible)
// and its reasons, as data (Reason) and as one plain Korean sentence
// (Reason.Text) from reasons.ko.toml. The rules are deliberately
// conservative: a guess never makes a service ineligible.
package subsidy

//go:generate go run ./internal/demogen -in ../../shared/data/gov24/popular_services.json -out ../assets/subsidy
