package screenshot

import (
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/kiosk"
	_ "allimi/kiosk/localefix" // before Fyne reads the locale
)

// TestRenderAll_RendersEveryScreen renders the screenshots of one
// language (make screenshots renders all six) and checks each is a
// picture, not a blank page.
func TestRenderAll_RendersEveryScreen(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, RenderAll(dir, []kiosk.Lang{kiosk.LangTh}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	for _, shot := range kiosk.Shots() {
		path := filepath.Join(dir, "th", shot.Name+".png")
		f, err := os.Open(path)
		require.NoError(t, err)
		img, _, err := image.Decode(f)
		f.Close()
		require.NoError(t, err, path)
		assert.GreaterOrEqual(t, img.Bounds().Dx(), int(kiosk.ScreenshotSize.Width), path)
		assert.GreaterOrEqual(t, img.Bounds().Dy(), int(kiosk.ScreenshotSize.Height), path)
		assert.GreaterOrEqual(t, colours(img, 16), 8, "%s looks blank", path)
	}
}

// colours counts the distinct colours in img, up to max.
func colours(img image.Image, max int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= max {
				return len(seen)
			}
		}
	}
	return len(seen)
}
