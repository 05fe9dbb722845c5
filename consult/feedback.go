package consult

import "fmt"

// Feedback is a person's answer to "was this helpful?" about one entry,
// which the kiosk queues in its outbox for central to count per entry. It
// deliberately holds no question text: what a person typed or said may
// name them.
type Feedback struct {
	EntryID string `json:"entryId"`
	Helpful bool   `json:"helpful"`
}

// Validate checks the entry id's form (ValidateID); kiosks call it before
// they queue a record, central before it counts one.
func (f Feedback) Validate() error {
	if err := ValidateID(f.EntryID); err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	return nil
}

// CheckFeedback validates f and checks that kb has its entry, retired or
// not: a kiosk may still be showing an entry that central has since
// retired, and that feedback still counts for it. An unknown id wraps
// ErrUnknownEntry.
func (kb KB) CheckFeedback(f Feedback) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if _, ok := kb.Entry(f.EntryID); !ok {
		return fmt.Errorf("feedback: entry %s: %w", f.EntryID, ErrUnknownEntry)
	}
	return nil
}
