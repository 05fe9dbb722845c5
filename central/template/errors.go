package template

import "errors"

// Errors of Render; test with errors.Is. (Load's errors and Render's errors
// for a bad type, channel or link wrap allimi.ErrInvalid.)
var (
	// ErrMissingValue marks a Render call without a value for one of the
	// template's variables.
	ErrMissingValue = errors.New("missing variable value")
	// ErrTooLong marks a text that does not fit its channel even with every
	// variable but the link cut down to "…".
	ErrTooLong = errors.New("text too long for the channel")
)
