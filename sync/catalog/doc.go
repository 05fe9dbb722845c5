// Package catalog carries signed catalogs from central to kiosks, and
// installs them in a kiosk's bbolt file (Store).
//
// Central publishes versioned snapshots (the subsidy catalog, the
// consultation knowledge base, ...) to every kiosk as two retained MQTT
// messages: a small JSON Manifest on Topic(name) and the body, as raw
// bytes, on BodyTopic(name). The manifest names the body's size and
// SHA-256 and carries an Ed25519 signature by central's catalog key; a kiosk
// installs a body only when the manifest verifies with the public key it was
// provisioned with and the body matches it (see Store).
//
// The signature covers, and only covers, this canonical byte string (UTF-8,
// every line ended by a single "\n", numbers in decimal without leading zeros,
// the hash in lower-case hex):
//
//	allimi-catalog-v1\n
//	{name}\n
//	{version}\n
//	{sha256}\n
//	{size}\n
//
// for example "allimi-catalog-v1\nsubsidy24\n7\n9f86…0a08\n1234\n". The field
// V is not written separately: the first line names the format version, and a
// later format will use another first line. Since a valid name holds no "\n",
// the string is unambiguous. The JSON encoding of the manifest is not signed,
// so it may be re-encoded, reordered or extended with new fields freely.
package catalog
