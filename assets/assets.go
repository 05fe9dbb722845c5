// Package assets holds the files compiled into the allimi binaries: the
// kiosk's fonts (NanumGothic, SIL Open Font License 1.1; see
// fonts/LICENSE-Nanum.txt).
package assets

import (
	"embed"
	"io/fs"
)

//go:embed fonts/NanumGothic.ttf
var nanumGothic []byte

//go:embed fonts/NanumGothicBold.ttf
var nanumGothicBold []byte

//go:embed fonts/LICENSE-Nanum.txt
var nanumLicense string

//go:embed fonts
var files embed.FS

//go:embed templates
var templates embed.FS

// Font file names inside FS.
const (
	FontRegularName = "NanumGothic.ttf"
	FontBoldName    = "NanumGothicBold.ttf"
)

// FontRegular returns the regular Korean UI font (NanumGothic, TrueType).
func FontRegular() []byte { return nanumGothic }

// FontBold returns the bold Korean UI font (NanumGothic Bold, TrueType).
func FontBold() []byte { return nanumGothicBold }

// FontLicense returns the licence text of the embedded Nanum fonts.
func FontLicense() string { return nanumLicense }

// FS returns every embedded file, rooted at the assets directory
// (for example "fonts/NanumGothic.ttf").
func FS() fs.FS { return files }

// Templates returns the notification templates, one file per notification
// type, rooted at the templates directory (for example "traffic-fine.toml").
func Templates() fs.FS {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		panic("assets: templates: " + err.Error()) // "templates" is a valid path
	}
	return sub
}
