package bolt

import "allimi/central/keyring"

// A citizen's personal data is encoded as every store of central encodes
// it (keyring.EncodeCitizen).
var (
	encodePII = keyring.EncodeCitizen
	decodePII = keyring.DecodeCitizen
	// decodePerson reads the language too: the sealed personal data keeps
	// the one the person signed up in.
	decodePerson = keyring.DecodePerson
)
