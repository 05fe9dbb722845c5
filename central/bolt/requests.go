package bolt

import (
	"time"
)

// Verification codes.
const (
	CodeLifetime  = 5 * time.Minute
	CodeResend    = 30 * time.Second // a new code for the same number no sooner
	CodeMaxTries  = 5
	CodeMaxActive = 100_000 // codes held at once; beyond, expired ones go first
	// CodeMaxPerKiosk bounds one kiosk's share of codeMaxActive, so that
	// one kiosk's credentials cannot hold every place; its SMS quota
	// (LimitsConfig) keeps it far below this anyway.
	CodeMaxPerKiosk = 1_000
)
