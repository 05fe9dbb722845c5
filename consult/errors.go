package consult

import "allimi"

// Errors of the package. They come wrapped with context; test with
// errors.Is. Each also wraps allimi.ErrInvalid or allimi.ErrNotFound, so
// callers that only know those sentinels still classify them.
var (
	// ErrEmptyQuestion: the question is empty or only white space.
	ErrEmptyQuestion = wrapSentinel("empty question", allimi.ErrInvalid)
	// ErrMalformedKB: the knowledge base is not the JSON it should be.
	ErrMalformedKB = wrapSentinel("malformed knowledge base", allimi.ErrInvalid)
	// ErrDuplicateID: two entries share one id.
	ErrDuplicateID = wrapSentinel("duplicate entry id", allimi.ErrInvalid)
	// ErrInvalidEntry: an entry lacks its id, question or answer, or its id
	// is not a valid entry id.
	ErrInvalidEntry = wrapSentinel("invalid entry", allimi.ErrInvalid)
	// ErrUnknownEntry: no entry has this id.
	ErrUnknownEntry = wrapSentinel("unknown entry", allimi.ErrNotFound)
)

// sentinel is an error that is also its parent sentinel under errors.Is.
type sentinel struct {
	msg    string
	parent error
}

func wrapSentinel(msg string, parent error) error { return &sentinel{msg: msg, parent: parent} }

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.parent }
