package wire

import (
	"encoding/json"
	"time"

	"allimi"
)

// conflictList is Reply.Conflicts: allimi.Conflicts that travel in the
// shape v1 kiosks read, which holds what a kiosk's official needs and no
// more (not the kiosks, sequence numbers or officials of either side).
// Kiosks and centrals of every v1 build read each other's lists.
type conflictList []allimi.Conflict

// conflictSummary is one conflict on the wire: the person only by masked
// name and number, each side only by when it was recorded.
type conflictSummary struct {
	ID         uint64                  `json:"id"`
	Name       string                  `json:"name"`   // 김*자
	Mobile     string                  `json:"mobile"` // 010-****-5678
	Type       allimi.NotificationType `json:"type"`
	Channel    allimi.Channel          `json:"channel"`
	GrantAt    time.Time               `json:"grantAt"`
	WithdrawAt time.Time               `json:"withdrawAt"`
}

// MarshalJSON writes the conflicts in the v1 summary shape.
func (l conflictList) MarshalJSON() ([]byte, error) {
	out := make([]conflictSummary, len(l))
	for i, c := range l {
		out[i] = conflictSummary{ID: c.ID, Name: c.Name, Mobile: c.Mobile, Type: c.Type, Channel: c.Channel,
			GrantAt: c.Grant.At, WithdrawAt: c.Withdrawal.At}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads conflicts in the v1 summary shape: each side of a
// conflict has only its time.
func (l *conflictList) UnmarshalJSON(b []byte) error {
	var in []conflictSummary
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if in == nil {
		return nil // null, as for any slice
	}
	*l = make(conflictList, len(in))
	for i, s := range in {
		(*l)[i] = allimi.Conflict{ID: s.ID, Name: s.Name, Mobile: s.Mobile, Type: s.Type, Channel: s.Channel,
			Grant: allimi.ConsentRef{At: s.GrantAt}, Withdrawal: allimi.ConsentRef{At: s.WithdrawAt}}
	}
	return nil
}
