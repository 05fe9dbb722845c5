package subsidy

import (
	"fmt"

	"allimi"
)

// Errors of the package; they come wrapped with context, test with
// errors.Is. Those about what a person or an operator typed also wrap
// allimi.ErrInvalid.
var (
	// ErrBadPage marks an API page the import cannot use: malformed JSON,
	// a page whose data is not a list, a row without 서비스ID, a value of
	// the wrong kind. It comes inside an *InputError naming file, row and
	// field.
	ErrBadPage = fmt.Errorf("bad gov24 page: %w", allimi.ErrInvalid)
	// ErrNoPages marks a catalog directory without any page file.
	ErrNoPages = fmt.Errorf("no gov24 page files (serviceList*.json, supportConditions*.json, serviceDetail*.json): %w", allimi.ErrInvalid)
	// ErrBadProfile marks a profile that is not valid JSON or holds a
	// malformed value.
	ErrBadProfile = fmt.Errorf("bad profile: %w", allimi.ErrInvalid)
	// ErrUnknownCode marks a code that is not in the spec's table, or not in
	// the group of the field that holds it.
	ErrUnknownCode = fmt.Errorf("unknown code: %w", allimi.ErrInvalid)
	// ErrBadDate marks a date that is not YYYY-MM-DD, that does not exist,
	// or a birth date after the as-of date.
	ErrBadDate = fmt.Errorf("bad date: %w", allimi.ErrInvalid)
	// ErrUnknownRegion marks a region whose 시도 is not one of Korea's.
	ErrUnknownRegion = fmt.Errorf("unknown region: %w", allimi.ErrInvalid)
	// ErrBadCatalog marks compiled catalog bytes that Decode cannot read.
	ErrBadCatalog = fmt.Errorf("bad compiled subsidy catalog: %w", allimi.ErrInvalid)
)
