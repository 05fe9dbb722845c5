package notify

import (
	"time"

	"allimi"
)

// QuietHours reports whether t falls between 21:00 and 08:00 KST, when
// non-urgent notices are held.
func QuietHours(t time.Time) bool {
	h := t.In(allimi.KST).Hour()
	return h >= 21 || h < 8
}

// QuietEnd is the next 08:00 KST after t.
func QuietEnd(t time.Time) time.Time {
	k := t.In(allimi.KST)
	end := time.Date(k.Year(), k.Month(), k.Day(), 8, 0, 0, 0, allimi.KST)
	if !end.After(k) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// eligible says whether a notification may be sent now.
func eligible(n *allimi.Notification, now time.Time) bool {
	return n.Urgent || !QuietHours(now)
}
