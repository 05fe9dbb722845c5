// Package catalog carries signed catalogs from central to kiosks: the
// subsidy catalog, the consultation knowledge base and any other versioned
// snapshot central publishes.
//
// Central describes each version of a catalog body in a Manifest signed
// with its Ed25519 key (Sign) and publishes both, retained, on Topic and
// BodyTopic. A kiosk verifies them (Manifest.Verify) and installs them in
// its bbolt file with a Store, which refuses older versions and never
// replaces a catalog by anything but one whole verified version.
package catalog
