package catalog

// Stored is a catalog as central keeps it: its signed manifest and body.
type Stored struct {
	Manifest Manifest `json:"manifest"`
	Body     []byte   `json:"body"`
}

// Keeper is central's storage of the catalogs it publishes to kiosks.
type Keeper interface {
	// PutCatalog signs body as the next version of catalog name (or as
	// version, when it is not zero) with central's catalog key and keeps
	// it. A name ValidateName refuses, or a version not above the kept
	// one (kiosks would refuse it too), is allimi.ErrInvalid.
	PutCatalog(name string, version uint64, body []byte) (Manifest, error)
	// Catalog is the kept catalog name; ok is false when there is none.
	Catalog(name string) (c Stored, ok bool, err error)
	// Catalogs lists every kept catalog, by name.
	Catalogs() ([]Stored, error)
}
