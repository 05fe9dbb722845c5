package assets

import _ "embed" // the consultation knowledge base

//go:generate go run ../consult/internal/kbimport -in ../../shared/data/consult/qna_call_cases.json -out consult/kb.json

//go:embed consult/kb.json
var consultKB []byte

//go:embed consult/README.md
var consultProvenance string

// ConsultKB returns the consultation knowledge base the binaries ship with:
// a catalog body for consult.DecodeCatalog (531 call-centre answers). A
// kiosk uses a newer catalog from central when it has one.
func ConsultKB() []byte { return consultKB }

// ConsultProvenance returns the README of the knowledge base: how it is
// generated and where its answers come from.
func ConsultProvenance() string { return consultProvenance }
