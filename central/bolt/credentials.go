package bolt

// The credentials part of the store keeps the credentials of kiosks,
// agencies and officials. Its buckets, and what their keys and values hold:
var (
	bucketKiosks           = []byte("kiosks")            // kiosk id → kioskRecord
	bucketAgencies         = []byte("agencies")          // agency id → agencyRecord
	bucketAgencyTokens     = []byte("agency-tokens")     // sha256(token) → agency id
	bucketOfficials        = []byte("officials")         // official id → officialRecord
	bucketOfficialSessions = []byte("official-sessions") // sha256(session id) → officialSession
	bucketEnrolments       = []byte("enrolments")        // SHA-256(code) → enrolment JSON
)

// credentialsPart creates them when the store opens.
var credentialsPart = part{"credentials", [][]byte{
	bucketKiosks, bucketAgencies, bucketAgencyTokens, bucketOfficials, bucketOfficialSessions,
	bucketEnrolments}}
