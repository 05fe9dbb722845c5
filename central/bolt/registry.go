package bolt

// The registry part of the store keeps what kiosks record, the people and
// consents it changes, and what follows from them. Its buckets, and what
// their keys and values hold:
var (
	bucketEvents          = []byte("events")           // kiosk 0x00 seq → sealed event
	bucketHW              = []byte("hw")               // kiosk → highest contiguous stored seq
	bucketCitizens        = []byte("citizens")         // citizen key → citizenRecord
	bucketConsents        = []byte("consents")         // citizen key | type 0x00 channel → consentState
	bucketConsentLog      = []byte("consentlog")       // citizen key | hlc | kiosk 0x00 seq → the event's consent payload
	bucketConflicts       = []byte("conflicts")        // id → Conflict
	bucketRejected        = []byte("rejected")         // id → Rejection
	bucketActive          = []byte("active")           // type 0x00 channel → count of active grants
	bucketMeta            = []byte("meta")             // counters, the audit chain's head, the file's format version
	bucketSubs            = []byte("subs")             // type 0x00 citizen key → bitmask of channels with an active grant | sealed PII (subsfold.go)
	bucketSubsPending     = []byte("subs-pending")     // seq(8) → citizen key
	bucketReceipts        = []byte("receipts")         // codeKey(code) → citizen key(32) | hlc(8) | kiosk
	bucketConfirmations   = []byte("confirmations")    // kiosk 0x00 seq(8) → citizen key(32) | signed up at, ms(8)
	bucketProfiles        = []byte("profiles")         // citizen key → sealed benefitProfile JSON
	bucketBenefitNotified = []byte("benefit-notified") // citizen key | service id → catalog version
	bucketFeedback        = []byte("feedback")         // entry id → helpful(8) | not helpful(8)
)

// registryPart creates them when the store opens.
var registryPart = part{"registry", [][]byte{
	bucketEvents, bucketHW, bucketCitizens, bucketConsents, bucketConsentLog, bucketConflicts,
	bucketRejected, bucketActive, bucketMeta, bucketSubs, bucketSubsPending, bucketReceipts,
	bucketConfirmations, bucketProfiles, bucketBenefitNotified, bucketFeedback}}
