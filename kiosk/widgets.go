package kiosk

import (
	"image/color"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// wrapLabel is body text that wraps at word boundaries (and, for Thai,
// Japanese and Chinese, which have no spaces, anywhere Fyne can).
func wrapLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// headingLabel is a bold, wrapping heading.
func headingLabel(s string) *widget.Label {
	l := wrapLabel(s)
	l.SizeName = theme.SizeNameSubHeadingText
	l.TextStyle = fyne.TextStyle{Bold: true}
	return l
}

// errorLabel shows a validation message, in the error colour.
func errorLabel() *widget.Label {
	l := wrapLabel("")
	l.Importance = widget.DangerImportance
	l.TextStyle = fyne.TextStyle{Bold: true}
	l.Hide()
	return l
}

func vbox(objs ...fyne.CanvasObject) *fyne.Container { return container.NewVBox(objs...) }

// spacer is an invisible object of a fixed minimum size.
func spacer(w, h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(w, h))
	return r
}

// card is a large tappable area holding any content, for options that
// need more than one line of text (a notification type with its
// explanation) and can be chosen or not. It draws its own background so
// that the text keeps the foreground colour in both states.
type card struct {
	widget.BaseWidget
	content  fyne.CanvasObject
	icon     *widget.Icon
	Selected bool
	// Toggle shows a check box icon that follows Selected.
	Toggle   bool
	OnTapped func()
}

func newCard(content fyne.CanvasObject, toggle bool, tapped func()) *card {
	c := &card{content: content, Toggle: toggle, OnTapped: tapped}
	if toggle {
		c.icon = widget.NewIcon(theme.CheckButtonIcon())
	}
	c.ExtendBaseWidget(c)
	return c
}

// Tapped implements fyne.Tappable.
func (c *card) Tapped(*fyne.PointEvent) {
	if c.OnTapped != nil {
		c.OnTapped()
	}
}

// SetSelected changes the chosen state and redraws.
func (c *card) SetSelected(b bool) {
	c.Selected = b
	c.Refresh()
}

func (c *card) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(color.Transparent)
	bg.CornerRadius = 12
	r := &cardRenderer{c: c, bg: bg}
	objs := []fyne.CanvasObject{bg, c.content}
	if c.icon != nil {
		objs = append(objs, c.icon)
	}
	r.objs = objs
	r.Refresh()
	return r
}

type cardRenderer struct {
	c    *card
	bg   *canvas.Rectangle
	objs []fyne.CanvasObject
}

const cardPad = 16

func (r *cardRenderer) iconSize() float32 {
	if r.c.icon == nil {
		return 0
	}
	return theme.Size(theme.SizeNameInlineIcon) * 1.4
}

func (r *cardRenderer) Layout(s fyne.Size) {
	r.bg.Resize(s)
	is := r.iconSize()
	x := float32(cardPad)
	if r.c.icon != nil {
		r.c.icon.Resize(fyne.NewSquareSize(is))
		r.c.icon.Move(fyne.NewPos(cardPad, (s.Height-is)/2))
		x += is + cardPad
	}
	r.c.content.Move(fyne.NewPos(x, cardPad))
	r.c.content.Resize(fyne.NewSize(s.Width-x-cardPad, s.Height-2*cardPad))
}

func (r *cardRenderer) MinSize() fyne.Size {
	m := r.c.content.MinSize()
	is := r.iconSize()
	w := m.Width + 2*cardPad
	if is > 0 {
		w += is + cardPad
	}
	h := fyne.Max(m.Height, is) + 2*cardPad
	return fyne.NewSize(fyne.Max(w, MinTouch), fyne.Max(h, MinTouch+8))
}

func (r *cardRenderer) Refresh() {
	th := r.c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	if r.c.Selected {
		r.bg.FillColor = th.Color(colorNameSelectedCard, v)
		r.bg.StrokeColor = th.Color(theme.ColorNamePrimary, v)
		r.bg.StrokeWidth = 5
		if r.c.icon != nil {
			r.c.icon.SetResource(theme.NewPrimaryThemedResource(theme.CheckButtonCheckedIcon()))
		}
	} else {
		r.bg.FillColor = th.Color(theme.ColorNameButton, v)
		r.bg.StrokeColor = th.Color(theme.ColorNameSeparator, v)
		r.bg.StrokeWidth = 2
		if r.c.icon != nil {
			r.c.icon.SetResource(theme.CheckButtonIcon())
		}
	}
	r.bg.Refresh()
	r.c.content.Refresh()
}

func (r *cardRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *cardRenderer) Destroy()                     {}

// spinner picks a number with large − and + buttons, for the date of
// birth: no typing, no tiny calendar. Zero means "not chosen yet"; the
// first tap starts at Start.
type spinner struct {
	Value      int
	Min, Max   int
	Start      int
	Steps      []int // e.g. {10, 1} gives −10 −1 … +1 +10
	OnChanged  func(int)
	unset      string
	label      *widget.Label
	container  *fyne.Container
	minusBtns  []*widget.Button
	plusBtns   []*widget.Button
	valueWidth float32
}

func newSpinner(v, lo, hi, start int, steps []int, unset string, changed func(int)) *spinner {
	s := &spinner{Value: v, Min: lo, Max: hi, Start: start, Steps: steps, OnChanged: changed, unset: unset}
	s.label = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	s.label.SizeName = theme.SizeNameSubHeadingText
	var objs []fyne.CanvasObject
	for _, st := range steps {
		st := st
		b := widget.NewButton("−"+strconv.Itoa(st), func() { s.add(-st) })
		if st == 1 {
			b.SetText("−")
		}
		s.minusBtns = append(s.minusBtns, b)
		objs = append(objs, touchWide(b))
	}
	// The value keeps the width of its widest text, so the buttons do not
	// jump as the number changes.
	objs = append(objs, container.NewStack(spacer(5*TextSize, 0), s.label))
	for i := len(steps) - 1; i >= 0; i-- {
		st := steps[i]
		b := widget.NewButton("+"+strconv.Itoa(st), func() { s.add(st) })
		if st == 1 {
			b.SetText("+")
		}
		s.plusBtns = append(s.plusBtns, b)
		objs = append(objs, touchWide(b))
	}
	s.container = container.NewHBox(objs...)
	s.show()
	return s
}

func (s *spinner) add(d int) {
	v := s.Value
	if v == 0 {
		v = s.Start
	} else {
		v += d
	}
	v = max(s.Min, min(s.Max, v))
	s.Value = v
	s.show()
	if s.OnChanged != nil {
		s.OnChanged(v)
	}
}

func (s *spinner) show() {
	if s.Value == 0 {
		s.label.SetText(s.unset)
	} else {
		s.label.SetText(strconv.Itoa(s.Value))
	}
}

// touchWide gives a button with a short label ("+") a finger's width.
func touchWide(b *widget.Button) fyne.CanvasObject {
	return container.NewStack(spacer(MinTouch+16, 0), b)
}

// pinPad is a 3×4 keypad of large digit keys.
func pinPad(digit func(string), clear func(), clearLabel string) fyne.CanvasObject {
	var keys []fyne.CanvasObject
	for _, d := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"} {
		d := d
		keys = append(keys, widget.NewButton(d, func() { digit(d) }))
	}
	keys = append(keys, widget.NewButton(clearLabel, clear))
	keys = append(keys, widget.NewButton("0", func() { digit("0") }))
	keys = append(keys, layout.NewSpacer())
	grid := container.NewGridWithColumns(3, keys...)
	return container.NewCenter(container.NewStack(spacer(420, 0), grid))
}
