package kiosk

import (
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The kiosk's own on-screen keyboards. The kiosk session has no OS
// keyboard and the touch screen no physical one, so the fields a person
// fills in carry a keyboard under them: a numeric keypad for the mobile
// number and the SMS code, a Hangul (두벌식) and Latin keyboard for the
// name. The fields still take a physical keyboard (a technician's, the
// tests'); the keyboards always edit at the end of the field's text.

// Key rows of the 두벌식 layout (unshifted, shifted) and of QWERTY: the
// same 10, 9 and 7 keys, so one set of buttons serves both layers.
var (
	hangulRows = [3][2]string{
		{"ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ", "ㅃㅉㄸㄲㅆㅛㅕㅑㅒㅖ"},
		{"ㅁㄴㅇㄹㅎㅗㅓㅏㅣ", "ㅁㄴㅇㄹㅎㅗㅓㅏㅣ"},
		{"ㅋㅌㅊㅍㅠㅜㅡ", "ㅋㅌㅊㅍㅠㅜㅡ"},
	}
	latinRows = [3]string{"QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"}
	// extraKeys follow the third row's letters in both layers: names
	// such as Jean-Pierre and O'Neil.
	extraKeys = []rune{'-', '\''}
)

// textKeyboard types into a name field: Hangul composed into syllables,
// or Latin letters (for names written in Latin letters: English, and
// Vietnamese typed without diacritics).
type textKeyboard struct {
	widget.BaseWidget
	entry *widget.Entry
	comp  HangulComposer
	latin bool
	shift bool
	touch func()

	letters                   [3][]*widget.Button
	shift0, layer, space, clr *widget.Button
	back                      *widget.Button
	shiftLabel, layerLabel    [2]string // [Hangul layer, Latin layer]
	content                   fyne.CanvasObject
}

// newTextKeyboard builds the keyboard for entry in the UI's language.
func (u *UI) newTextKeyboard(entry *widget.Entry) *textKeyboard {
	k := &textKeyboard{entry: entry, touch: u.Touch,
		shiftLabel: [2]string{u.T("keyboard.shift_hangul"), u.T("keyboard.shift_latin")},
		// The layer key names the other layer by its letters, as the
		// letter keys show theirs, in every language.
		layerLabel: [2]string{"ABC", "한글"},
	}
	// The letter keys are drawn in the Korean font whatever the screen's
	// language: the Thai and Vietnamese fonts have no jamo.
	th := u.theme()
	th.Lang = LangKo
	ko := keyCapTheme{th}
	var rows []fyne.CanvasObject
	for row := range latinRows {
		var keys []fyne.CanvasObject
		for i := range []rune(latinRows[row]) {
			row, i := row, i
			b := widget.NewButton("", func() { k.letter(row, i) })
			k.letters[row] = append(k.letters[row], b)
			keys = append(keys, container.NewThemeOverride(b, ko))
		}
		switch row {
		case 1:
			k.back = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), k.backspace)
			keys = append(keys, container.NewThemeOverride(k.back, ko))
		case 2:
			for _, r := range extraKeys {
				r := r
				keys = append(keys, widget.NewButton(string(r), func() { k.input(r) }))
			}
		}
		rows = append(rows, container.NewGridWithColumns(10, keys...))
	}
	k.shift0 = widget.NewButton("", k.toggleShift)
	k.layer = widget.NewButton("", k.toggleLayer)
	k.space = widget.NewButton(u.T("keyboard.space"), func() { k.input(' ') })
	k.clr = widget.NewButton(u.T("keyboard.clear"), k.clear)
	left := container.NewHBox(touchWide(k.shift0), container.NewThemeOverride(touchWide(k.layer), th))
	rows = append(rows, container.NewBorder(nil, nil, left, touchWide(k.clr), k.space))
	k.content = vbox(rows...)
	k.relabel()
	k.ExtendBaseWidget(k)
	return k
}

func (k *textKeyboard) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(k.content)
}

// key is the character of letter key i of row in the current layer.
func (k *textKeyboard) key(row, i int) rune {
	if k.latin {
		r := rune(latinRows[row][i])
		if !k.shift {
			r += 'a' - 'A'
		}
		return r
	}
	s := 0
	if k.shift {
		s = 1
	}
	return []rune(hangulRows[row][s])[i]
}

func (k *textKeyboard) relabel() {
	for row, keys := range k.letters {
		for i, b := range keys {
			b.SetText(string(k.key(row, i)))
		}
	}
	l := 0
	if k.latin {
		l = 1
	}
	k.shift0.SetText(k.shiftLabel[l])
	k.layer.SetText(k.layerLabel[l])
	if k.shift {
		k.shift0.Importance = widget.HighImportance
	} else {
		k.shift0.Importance = widget.MediumImportance
	}
	k.shift0.Refresh()
}

// sync starts again from the field's text when something else changed it
// (a physical keyboard, the session): the keyboard never undoes that.
func (k *textKeyboard) sync() {
	if k.entry.Text != k.comp.String() {
		k.comp.Reset(k.entry.Text)
	}
}

// show puts the composed text in the field, the cursor at its end.
func (k *textKeyboard) show() {
	k.touch()
	text := k.comp.String()
	if text != k.entry.Text {
		k.entry.SetText(text)
	}
	k.entry.CursorRow, k.entry.CursorColumn = 0, utf8.RuneCountInString(text)
	k.entry.Refresh()
	// Shift holds for one letter, as on a phone; in the Latin layer it
	// comes back at the start of each word, so Latin names come out as
	// "Nguyen Van An" without a shift tap per word.
	shift := k.latin && atWordStart(text)
	if shift != k.shift {
		k.shift = shift
		k.relabel()
	}
}

func atWordStart(text string) bool {
	return text == "" || strings.HasSuffix(text, " ") || strings.HasSuffix(text, "-")
}

func (k *textKeyboard) letter(row, i int) { k.input(k.key(row, i)) }

func (k *textKeyboard) input(r rune) {
	k.sync()
	k.comp.Input(r)
	k.show()
}

func (k *textKeyboard) backspace() {
	k.sync()
	k.comp.Backspace()
	k.show()
}

func (k *textKeyboard) clear() {
	k.comp.Reset("")
	k.show()
}

func (k *textKeyboard) toggleShift() {
	k.touch()
	k.shift = !k.shift
	k.relabel()
}

func (k *textKeyboard) toggleLayer() {
	k.touch()
	k.latin = !k.latin
	k.shift = k.latin && atWordStart(k.entry.Text)
	k.relabel()
}

// numPad is a large telephone keypad that types digits into a field (the
// mobile number, the SMS code).
type numPad struct {
	widget.BaseWidget
	fieldSetter
	digits  map[rune]*widget.Button
	back    *widget.Button
	clr     *widget.Button
	content fyne.CanvasObject
}

// numPadWidth keeps the keypad a telephone's shape on a wide screen: three
// keys of about 150 units (26 mm at 96 dpi).
const numPadWidth = 480

func (u *UI) newNumPad(entry *widget.Entry) *numPad {
	n := &numPad{fieldSetter: fieldSetter{entry, u.Touch}, digits: map[rune]*widget.Button{}}
	var keys []fyne.CanvasObject
	for _, d := range "123456789" {
		keys = append(keys, n.digit(d))
	}
	n.clr = widget.NewButton(u.T("keyboard.clear"), func() { n.set("") })
	n.back = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), n.backspace)
	keys = append(keys, n.clr, n.digit('0'), n.back)
	grid := container.NewThemeOverride(container.NewGridWithColumns(3, keys...), keyCapTheme{u.theme()})
	n.content = container.NewCenter(container.NewStack(spacer(numPadWidth, 0), grid))
	n.ExtendBaseWidget(n)
	return n
}

func (n *numPad) digit(d rune) *widget.Button {
	b := widget.NewButton(string(d), func() { n.set(n.entry.Text + string(d)) })
	n.digits[d] = b
	return b
}

// fieldSetter is what the on-screen keypads share: they set their field's
// text whole, cursor at its end, and a key tapped tells the idle timer
// someone is there.
type fieldSetter struct {
	entry *widget.Entry
	touch func()
}

func (f fieldSetter) set(text string) {
	f.touch()
	if text != f.entry.Text {
		f.entry.SetText(text)
	}
	f.entry.CursorRow, f.entry.CursorColumn = 0, utf8.RuneCountInString(text)
	f.entry.Refresh()
}

// backspace drops the last character.
func (f fieldSetter) backspace() {
	r := []rune(f.entry.Text)
	if len(r) > 0 {
		r = r[:len(r)-1]
	}
	f.set(string(r))
}

func (n *numPad) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(n.content)
}

// keyCapTheme draws key labels at heading size: at body size a jamo such
// as ㅡ or ㅣ is a small mark on a large key, hard to find for old eyes.
type keyCapTheme struct{ Theme }

// Size is the kiosk theme's, with text at heading size and icons (the
// backspace arrow) as large.
func (t keyCapTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText, theme.SizeNameInlineIcon:
		return t.Theme.Size(theme.SizeNameHeadingText)
	}
	return t.Theme.Size(n)
}
