package allimi

import "errors"

// Sentinel errors shared by the packages. Wrap them with context; test with errors.Is.
var (
	// ErrInvalid marks input that fails validation (a bad date, an unknown code).
	ErrInvalid = errors.New("invalid")
	// ErrNotFound marks a lookup of something that is not stored.
	ErrNotFound = errors.New("not found")
	// ErrUnsupportedVersion marks a wire message of a version this build does not speak.
	ErrUnsupportedVersion = errors.New("unsupported message version")
)

// kindError is a sentinel error that is also one of the kinds above: a
// caller that needs the precise reason tests for it, one that needs only
// the kind tests for ErrInvalid or ErrNotFound. Its message is its own.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }
