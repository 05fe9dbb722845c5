package assets

import (
	"embed"
	"io/fs"
)

//go:embed i18n/*.toml
var i18nFiles embed.FS

// Translations returns the kiosk's translation files, one TOML file per
// language named after its code (ko.toml, en.toml, ...), rooted at the i18n
// directory. Korean is the source language.
func Translations() fs.FS {
	sub, err := fs.Sub(i18nFiles, "i18n")
	if err != nil {
		panic("assets: i18n: " + err.Error()) // "i18n" is a valid path
	}
	return sub
}
