package throttle

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrLocked: too many failures on the key or from the client; see
	// LockedError.
	ErrLocked = errors.New("too many failed attempts")
	// ErrBusy: refused for now without a lock of its own: failures come
	// faster than the global ceiling and this client already failed, or
	// the table of tracked keys is full. Trying again later works.
	ErrBusy = errors.New("too many failed attempts on this service just now: try again in a minute")
)

// LockedError says what is locked and until when.
type LockedError struct {
	Until time.Time
	// Client is true when the client is locked, false when the key is.
	Client bool
}

func (e *LockedError) Error() string {
	what := "on this target"
	if e.Client {
		what = "from this client"
	}
	return fmt.Sprintf("%v %s: locked until %s", ErrLocked, what, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }
