package assets

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
)

// TrueType fonts start with the sfnt version 0x00010000.
var ttfMagic = []byte{0x00, 0x01, 0x00, 0x00}

func TestFontsEmbedded(t *testing.T) {
	for name, data := range map[string][]byte{
		FontRegularName: FontRegular(),
		FontBoldName:    FontBold(),
	} {
		if len(data) < 1<<20 {
			t.Errorf("%s: embedded font is %d bytes, want > 1 MiB", name, len(data))
			continue
		}
		if !bytes.HasPrefix(data, ttfMagic) {
			t.Errorf("%s: not a TrueType font (starts % x)", name, data[:4])
		}
		fromFS, err := fs.ReadFile(FS(), "fonts/"+name)
		if err != nil {
			t.Errorf("%s: not in FS: %v", name, err)
		} else if !bytes.Equal(fromFS, data) {
			t.Errorf("%s: FS copy differs from the embedded bytes", name)
		}
	}
}

func TestFontLicenseEmbedded(t *testing.T) {
	if !strings.Contains(FontLicense(), "SIL Open Font License") {
		t.Fatalf("licence text does not name the SIL Open Font License")
	}
}
