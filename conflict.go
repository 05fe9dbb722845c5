package allimi

import "time"

// Conflict is a grant and a withdrawal of the same person's consent to one
// notification type on one channel that crossed between two kiosks (each
// made without knowing of the other). Central applies the withdrawal and
// keeps the conflict until an official, having asked the person, resolves
// it: consent is never merged silently.
//
// It is the one conflict of the project: central stores it, lists it on
// GET /api/v1/conflicts and sends it to kiosks (sync, in the v1 reply's
// shorter form), and the kiosk's staff screen shows it.
type Conflict struct {
	ID         uint64           `json:"id"`
	Type       NotificationType `json:"type"`
	Channel    Channel          `json:"channel"`
	Grant      ConsentRef       `json:"grant"`
	Withdrawal ConsentRef       `json:"withdrawal"`
	DetectedAt time.Time        `json:"detectedAt"`
	Resolved   *Resolution      `json:"resolved,omitempty"`
	// Name and Mobile name the person masked (김*수, 010-****-5678), as
	// Shown sets them; they are empty in central's store, which keeps the
	// person only under CitizenKey.
	Name   string `json:"name"`
	Mobile string `json:"mobile"`
	// CitizenKey is central's keyed hash of the person, stored so that a
	// listing can name them. It never leaves central: Shown clears it.
	CitizenKey []byte `json:"citizenKey,omitempty"`
}

// ConsentRef points at one side of a conflict: the consent change a kiosk
// recorded as record Seq, at At (the kiosk's wall clock), by By.
type ConsentRef struct {
	Kiosk string    `json:"kiosk"`
	Seq   uint64    `json:"seq"`
	At    time.Time `json:"at"`
	By    Actor     `json:"by"`
}

// Resolution is an official's decision on a conflict.
type Resolution struct {
	Decision ConsentAction `json:"decision"`
	Official string        `json:"official"`
	At       time.Time     `json:"at"`
}

// Shown is the conflict as an official sees it: the person by masked name
// and mobile number only, and without the key central found them by.
func (c Conflict) Shown(person Citizen) Conflict {
	c.Name, c.Mobile = person.MaskedName(), person.MaskedMobile()
	c.CitizenKey = nil
	return c
}
