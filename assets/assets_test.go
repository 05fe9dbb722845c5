package assets

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
)

// Every font the kiosk draws with is embedded, is an OpenType/TrueType
// file, and is covered by the embedded licence.
func TestFontsEmbeddedWithTheirLicence(t *testing.T) {
	fonts, err := fs.Glob(FS(), "fonts/*.[ot]tf")
	if err != nil || len(fonts) < 8 {
		t.Fatalf("embedded fonts: %v (%v)", fonts, err)
	}
	for _, name := range fonts {
		data, _ := fs.ReadFile(FS(), name)
		if !bytes.HasPrefix(data, []byte{0x00, 0x01, 0x00, 0x00}) && !bytes.HasPrefix(data, []byte("OTTO")) {
			t.Errorf("%s: neither TrueType nor OpenType (starts % x)", name, data[:4])
		}
	}
	lic, err := fs.ReadFile(FS(), "fonts/LICENSE-Noto.txt")
	if err != nil || !strings.Contains(string(lic), "SIL Open Font License") {
		t.Fatalf("licence: %v", err)
	}
}
