// Package assets holds the files compiled into the allimi binaries: the
// kiosk's fonts (Noto Sans CJK subsets and Noto Sans Thai, SIL Open Font
// License 1.1; see fonts/LICENSE-Noto.txt), the notification templates, the
// translations, the consultation knowledge base and the demo Subsidy 24
// catalog.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed fonts/*.otf fonts/*.ttf fonts/LICENSE-Noto.txt
var files embed.FS

//go:embed templates
var templates embed.FS

//go:embed programs
var programs embed.FS

// FS returns the embedded fonts, rooted at the assets directory (for
// example "fonts/NotoSansThai-Regular.ttf").
func FS() fs.FS { return files }

// Templates returns the notification templates, one file per notification
// type, rooted at the templates directory (for example "traffic-fine.toml"),
// and central's own messages (system/messages.toml).
func Templates() fs.FS {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		panic("assets: templates: " + err.Error()) // "templates" is a valid path
	}
	return sub
}

// Programs returns the programs of notifications central ships (a
// vaccination's seven messages, a licence's reminders), one file per
// program, rooted at the programs directory (for example "vaccination.toml").
func Programs() fs.FS {
	sub, err := fs.Sub(programs, "programs")
	if err != nil {
		panic("assets: programs: " + err.Error()) // "programs" is a valid path
	}
	return sub
}
