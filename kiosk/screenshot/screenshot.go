// Package screenshot renders every screen of the kiosk, in every language,
// to PNG files with Fyne's software renderer (no display needed): the
// pictures in docs/screenshots (make screenshots, allimi-kiosk
// --screenshots DIR). The screens and their states are the kiosk's own
// (kiosk.Shots on a kiosk.NewDemoUI); this package lays them out, captures
// them and writes them.
package screenshot

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"allimi/kiosk"
)

// RenderAll renders every shot in every language to dir/{lang}/{shot}.png.
func RenderAll(dir string, langs []kiosk.Lang, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	// Fyne's test driver runs UI calls inline only off the main goroutine;
	// on it (a command's main) it defers them to other goroutines, which
	// would race the rendering.
	done := make(chan error, 1)
	go func() { done <- renderAll(dir, langs, log) }()
	return <-done
}

func renderAll(dir string, langs []kiosk.Lang, log *slog.Logger) error {
	test.NewApp()
	for _, l := range langs {
		if err := os.MkdirAll(filepath.Join(dir, string(l)), 0o755); err != nil {
			return fmt.Errorf("screenshots: %w", err)
		}
		for _, shot := range kiosk.Shots() {
			img := Render(shot, l)
			path := filepath.Join(dir, string(l), shot.Name+".png")
			if err := writePNG(path, img); err != nil {
				return fmt.Errorf("screenshots: %w", err)
			}
			log.Info("screenshot", "path", path, "size", img.Bounds().Size())
		}
	}
	return nil
}

// Render renders one shot in language l on a fresh test window of the
// current (test) app. A screen whose content is taller than the panel
// (kiosk.ScreenshotSize) is rendered at its full height, so that the
// picture shows every text the person can scroll to.
func Render(shot kiosk.Shot, l kiosk.Lang) image.Image {
	w := test.NewWindow(nil)
	defer w.Close()
	u, _ := kiosk.NewDemoUI(w)
	w.Resize(kiosk.ScreenshotSize)
	u.Start()
	u.SetPrefs(kiosk.Prefs{Lang: l})
	shot.Setup(u)
	return captureFull(u, w)
}

// captureFull captures w, first growing it to the height its content
// needs when that is more than the panel's, so that the picture shows
// what the person would scroll to.
func captureFull(u *kiosk.UI, w fyne.Window) image.Image {
	// Wrapped text is measured at the width it was last laid out at, so
	// growing the window can change what it needs: grow until it fits.
	for i := 0; i < 5; i++ {
		over := u.Overflow()
		if over <= 0 {
			break
		}
		w.Resize(fyne.NewSize(kiosk.ScreenshotSize.Width, w.Canvas().Size().Height+over+2))
	}
	// A message shown after the screen was laid out (an input error)
	// changes a box's height; lay everything out again, as a real
	// window does on its next frame.
	w.Content().Refresh()
	return w.Canvas().Capture()
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, paletted(img)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// paletted reduces a screenshot to its 256 most frequent colours, mapping
// the rest (anti-aliased edges) to the nearest: a flat UI loses nothing
// visible, and the PNGs in docs/ shrink to about a third.
func paletted(img image.Image) image.Image {
	b := img.Bounds()
	count := map[color.NRGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
		}
	}
	cs := make([]color.NRGBA, 0, len(count))
	for c := range count {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if count[cs[i]] != count[cs[j]] {
			return count[cs[i]] > count[cs[j]]
		}
		a, b := cs[i], cs[j]
		return uint32(a.R)<<24|uint32(a.G)<<16|uint32(a.B)<<8|uint32(a.A) < uint32(b.R)<<24|uint32(b.G)<<16|uint32(b.B)<<8|uint32(b.A)
	})
	if len(cs) > 256 {
		cs = cs[:256]
	}
	pal := make(color.Palette, len(cs))
	for i, c := range cs {
		pal[i] = c
	}
	out := image.NewPaletted(b, pal)
	index := map[color.NRGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}
