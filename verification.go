package allimi

import "time"

// Verification codes: six digits central sends by SMS to a number being
// signed up at a kiosk, so that the kiosk knows the person holds it.
const (
	VerifyCodeLifetime  = 5 * time.Minute
	VerifyCodeResend    = 30 * time.Second // a new code for the same number no sooner
	VerifyCodeMaxTries  = 5
	VerifyCodeMaxActive = 100_000 // codes central holds at once; beyond, expired ones go first
	// VerifyCodeMaxPerKiosk bounds one kiosk's share of VerifyCodeMaxActive,
	// so that one kiosk's credentials cannot hold every place; its SMS
	// quota keeps it far below this anyway.
	VerifyCodeMaxPerKiosk = 1_000
)
