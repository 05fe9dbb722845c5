// Package periodic runs a job at a fixed period until its context ends:
// the one loop central's background jobs (purges, rescans, repairs) share.
package periodic

import (
	"context"
	"time"
)

// Every runs f every period, the first time one period from now, until
// ctx ends (f is never started after that). A run that takes longer
// than the period delays the next; none is run twice to catch up.
func Every(ctx context.Context, period time.Duration, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ctx.Err() != nil {
			return
		}
		f()
	}
}
