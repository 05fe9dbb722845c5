package kiosk

import (
	"context"
	"fmt"
	"strconv"

	"allimi"
	"allimi/sync"
)

// CentralConflicts is the ConflictSource of a kiosk connected to central:
// it asks over the sender's connection (sync.Central). *sync.Central is
// also the kiosk's Verifier as it is.
type CentralConflicts struct{ C *sync.Central }

var _ Verifier = (*sync.Central)(nil)

// Conflicts implements ConflictSource.
func (c CentralConflicts) Conflicts(ctx context.Context) ([]Conflict, error) {
	cs, err := c.C.Conflicts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Conflict, len(cs))
	for i, s := range cs {
		out[i] = Conflict{ID: strconv.FormatUint(s.ID, 10), Name: s.Name, Mobile: s.Mobile,
			Type: s.Type, Channel: s.Channel, GrantAt: s.GrantAt, WithdrawAt: s.WithdrawAt}
	}
	return out, nil
}

// Resolve implements ConflictSource.
func (c CentralConflicts) Resolve(ctx context.Context, id string, decision allimi.ConsentAction, official string) error {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return fmt.Errorf("conflict id %q: %w", id, err)
	}
	return c.C.Resolve(ctx, n, decision, official)
}
