package kiosk

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"allimi/assets"
	_ "allimi/kiosk/localefix" // before Fyne reads the locale
)

// newTestHome renders the home screen in a 1280x800 test window with the
// kiosk theme.
func newTestHome(t *testing.T, cfg Config) fyne.Window {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme())
	w := test.NewTempWindow(t, nil)
	w.SetContent(NewHome(w, cfg))
	w.Resize(fyne.NewSize(1280, 800))
	return w
}

func buttons(o fyne.CanvasObject) []*widget.Button {
	var bs []*widget.Button
	for _, obj := range test.LaidOutObjects(o) {
		if b, ok := obj.(*widget.Button); ok {
			bs = append(bs, b)
		}
	}
	return bs
}

func texts(o fyne.CanvasObject) []string {
	var ts []string
	for _, obj := range test.LaidOutObjects(o) {
		if tx, ok := obj.(*canvas.Text); ok && tx.Visible() {
			ts = append(ts, tx.Text)
		}
	}
	return ts
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestHomeButtons(t *testing.T) {
	w := newTestHome(t, Config{ID: "demo-kiosk", Path: "kiosk.json"})

	bs := buttons(w.Content())
	want := []string{LabelNotify, LabelSubsidy, LabelAsk}
	if len(bs) != len(want) {
		t.Fatalf("home has %d buttons, want %d", len(bs), len(want))
	}
	for i, b := range bs {
		if b.Text != want[i] {
			t.Errorf("button %d is %q, want %q", i, b.Text, want[i])
		}
		if b.OnTapped == nil {
			t.Errorf("button %q does nothing when tapped", b.Text)
		}
		if h := b.Size().Height; h < buttonMinHeight {
			t.Errorf("button %q is %.0f high, want at least %.0f", b.Text, h, buttonMinHeight)
		}
	}

	shown := texts(w.Content())
	for _, s := range append([]string{Title, Subtitle}, want...) {
		if !contains(shown, s) {
			t.Errorf("home screen does not show %q (shows %q)", s, shown)
		}
	}
}

func TestHomeButtonsSayComingSoon(t *testing.T) {
	for _, label := range []string{LabelNotify, LabelSubsidy, LabelAsk} {
		t.Run(label, func(t *testing.T) {
			w := newTestHome(t, Config{})
			var target *widget.Button
			for _, b := range buttons(w.Content()) {
				if b.Text == label {
					target = b
				}
			}
			if target == nil {
				t.Fatalf("no button %q", label)
			}
			test.Tap(target)
			top := w.Canvas().Overlays().Top()
			if top == nil {
				t.Fatalf("tapping %q showed no dialog", label)
			}
			shown := texts(top)
			if !contains(shown, ComingSoon) || !contains(shown, label) {
				t.Errorf("dialog after tapping %q shows %q, want %q and %q", label, shown, label, ComingSoon)
			}
		})
	}
}

func TestHomeStatusLine(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want []string
	}{
		{Config{ID: "demo-kiosk", Path: ".demo/kiosk.json"}, []string{"demo-kiosk", "설정 불러옴", ".demo/kiosk.json"}},
		{Config{}, []string{"(미등록)", "설정 파일 없음"}},
	} {
		w := newTestHome(t, tc.cfg)
		status := StatusText(tc.cfg)
		for _, s := range tc.want {
			if !strings.Contains(status, s) {
				t.Errorf("status %q lacks %q", status, s)
			}
		}
		if !contains(texts(w.Content()), status) {
			t.Errorf("home screen does not show the status line %q", status)
		}
	}
}

func TestThemeFontAndSizes(t *testing.T) {
	if len(assets.FontRegular()) == 0 || len(assets.FontBold()) == 0 {
		t.Fatal("assets embeds no font")
	}
	th := NewTheme()
	if got := th.Font(fyne.TextStyle{}).Content(); len(got) != len(assets.FontRegular()) {
		t.Errorf("regular font is %d bytes, want the embedded NanumGothic (%d)", len(got), len(assets.FontRegular()))
	}
	if got := th.Font(fyne.TextStyle{Bold: true}).Content(); len(got) != len(assets.FontBold()) {
		t.Errorf("bold font is %d bytes, want the embedded NanumGothicBold (%d)", len(got), len(assets.FontBold()))
	}
	if s := th.Size("text"); s < 24 {
		t.Errorf("body text is %.0f pt, want >= 24", s)
	}
}

// TestHomeRenders renders the screen with the software painter, checks the
// image is not blank, and writes it to $ALLIMI_SCREENSHOT_DIR when set.
func TestHomeRenders(t *testing.T) {
	w := newTestHome(t, Config{ID: "demo-kiosk", Path: ".demo/kiosk.json"})
	img := w.Canvas().Capture()
	if img.Bounds().Dx() < 1280 || img.Bounds().Dy() < 800 {
		t.Fatalf("capture is %v, want at least 1280x800", img.Bounds())
	}
	if n := colours(img, 64); n < 3 {
		t.Errorf("capture has %d colours; the screen looks blank", n)
	}
	if dir := os.Getenv("ALLIMI_SCREENSHOT_DIR"); dir != "" {
		if err := writePNG(filepath.Join(dir, "kiosk-home-test.png"), img); err != nil {
			t.Fatal(err)
		}
	}
}

// colours counts distinct colours in img, stopping at max.
func colours(img image.Image, max int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= max {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
