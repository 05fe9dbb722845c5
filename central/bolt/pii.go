package bolt

import "allimi/central/keyring"

// A citizen's personal data is encoded as every store of central encodes
// it (keyring.EncodeCitizen).
var (
	encodePII = keyring.EncodeCitizen
	decodePII = keyring.DecodeCitizen
)
