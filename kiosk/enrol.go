package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"allimi"
	"allimi/internal/atomicfile"
	"allimi/sync/transport"
)

// First-run enrolment: a kiosk that has no credentials yet shows, instead
// of the home screen, a screen on which the official types central's
// address and the one-time code from `allimi central kiosk enrol`. The
// kiosk trades the code for its credentials (the same call as
// `allimi-kiosk --enrol`), writes them into its config file, readable by
// the kiosk's user only, and goes on to the home screen.

// FirstRun is what the enrolment screen needs besides the UI.
type FirstRun struct {
	// ConfigPath is the config file the credentials are written to.
	ConfigPath string
	// CentralURL is the address shown to start with (the --central flag).
	CentralURL string
	// Client makes the request; http.DefaultClient when nil.
	Client *http.Client
	// Ready is given the enrolled config and returns the kiosk's parts
	// for it (its outbox and sync started), with which the kiosk goes on
	// to the home screen. Nil: the same parts with the new config.
	Ready func(Config) (Options, error)
	// Restart, when Ready fails, ends the program for its service manager
	// to start it again, now enrolled.
	Restart func()

	address, code string
	codeField     bool // the keyboard types into the code (else the address)
	shown         bool // the screen was shown: address and code are what was typed
}

// rootScreen is the bottom of the navigation stack: the enrolment screen
// until the kiosk has an id, then the home screen.
func (u *UI) rootScreen() screenID {
	if u.opt.FirstRun != nil && u.cfg.ID == "" {
		return enrolScreen
	}
	return homeScreen
}

func (u *UI) enrolPage() *page {
	fr := u.opt.FirstRun
	if !fr.shown {
		// The address to start with; the code comes next.
		fr.shown, fr.address, fr.codeField = true, fr.CentralURL, fr.CentralURL != ""
	}
	p := u.newPage(u.T("enrol.title"))
	p.noBack, p.noHome = true, true
	p.text(u.T("enrol.intro"))

	address, code := newFieldEntry(), newFieldEntry()
	address.SetText(fr.address)
	address.SetPlaceHolder("http://central:8080")
	code.SetText(fr.code)
	code.SetPlaceHolder("XXXX-XXXX-XXXX")
	address.OnChanged = func(s string) { fr.address = s }
	code.OnChanged = func(s string) { fr.code = s }
	kb := u.newASCIIKeyboard(address)
	pick := func(codeField bool) {
		fr.codeField = codeField
		if codeField {
			kb.entry, kb.upper = &code.Entry, true
		} else {
			kb.entry, kb.upper = &address.Entry, false
		}
		kb.relabel()
	}
	address.onFocus = func() { pick(false) }
	code.onFocus = func() { pick(true) }
	pick(fr.codeField)
	// The field the keyboard types into shows its cursor.
	p.onShow = func() {
		e := address
		if fr.codeField {
			e = code
		}
		u.w.Canvas().Focus(e)
		e.CursorRow, e.CursorColumn = 0, utf8.RuneCountInString(e.Text)
		e.Refresh()
	}

	p.add(headingLabel(u.T("enrol.central")), address, headingLabel(u.T("enrol.code")), code, kb)
	p.say(u.T("enrol.central"), u.T("enrol.code"))
	status := wrapLabel("")
	status.Hide()
	p.add(status)

	p.next = u.button(u.T("enrol.submit"), theme.ConfirmIcon(), widget.HighImportance, nil)
	p.next.OnTapped = func() {
		u.Touch()
		p.clearFail()
		p.next.Disable()
		status.SetText(u.T("enrol.working"))
		status.Show()
		addr, typed := fr.address, fr.code
		u.opt.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg, err := Enrol(ctx, fr.Client, addr, typed, fr.ConfigPath)
			fyne.Do(func() {
				if u.cur != p {
					return
				}
				p.next.Enable()
				status.Hide()
				if err != nil {
					p.failErr(err, "enrol.err_general")
					return
				}
				u.log.Info("kiosk enrolled", "kiosk", cfg.ID, "config", fr.ConfigPath)
				u.enrolled(p, cfg)
			})
		})
	}
	return p
}

// enrolled goes on to the home screen with the kiosk's new parts, or, when
// they cannot be made, says that the kiosk restarts and ends it.
func (u *UI) enrolled(p *page, cfg Config) {
	fr := u.opt.FirstRun
	opt := u.opt
	opt.Config, opt.FirstRun = cfg, nil
	if fr.Ready != nil {
		next, err := fr.Ready(cfg)
		if err != nil {
			u.log.Error("enrolled, but the kiosk cannot start its sync; restarting", "err", err)
			p.fail(u.T("enrol.restarting"))
			if fr.Restart != nil {
				fr.Restart()
			}
			return
		}
		// What the program gave the first UI and Ready left out stays.
		if next.Clock == nil {
			next.Clock = opt.Clock
		}
		if next.Go == nil {
			next.Go = opt.Go
		}
		if next.Logger == nil {
			next.Logger = opt.Logger
		}
		if next.Speaker == nil {
			next.Speaker = opt.Speaker
		}
		next.Config, next.FirstRun = cfg, nil
		opt = next
	}
	if u.idleStop != nil {
		u.idleStop()
	}
	lang := u.prefs.Lang
	*u = *New(u.w, opt)
	u.prefs.Lang = lang
	u.Start()
}

// fieldEntry is a text field that tells the enrolment screen when it is
// touched, so that the keyboard types into it.
type fieldEntry struct {
	widget.Entry
	onFocus func()
}

func newFieldEntry() *fieldEntry {
	e := &fieldEntry{}
	e.ExtendBaseWidget(e)
	return e
}

func (e *fieldEntry) FocusGained() {
	e.Entry.FocusGained()
	if e.onFocus != nil {
		e.onFocus()
	}
}

// asciiKeyboard types an address or a code: digits, Latin letters and the
// few signs of a URL. Codes are typed in capitals, addresses in small
// letters.
type asciiKeyboard struct {
	widget.BaseWidget
	fieldSetter
	upper   bool
	keys    map[rune]*widget.Button
	back    *widget.Button
	clr     *widget.Button
	content fyne.CanvasObject
}

var asciiRows = []string{"1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM.:/"}

func (u *UI) newASCIIKeyboard(entry *fieldEntry) *asciiKeyboard {
	k := &asciiKeyboard{fieldSetter: fieldSetter{&entry.Entry, u.Touch}, keys: map[rune]*widget.Button{}}
	var rows []fyne.CanvasObject
	for _, row := range asciiRows {
		var keys []fyne.CanvasObject
		for _, r := range row {
			r := r
			b := widget.NewButton(string(r), func() { k.input(r) })
			k.keys[r] = b
			keys = append(keys, b)
		}
		rows = append(rows, container.NewGridWithColumns(10, keys...))
	}
	k.back = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), k.backspace)
	k.clr = widget.NewButton(u.T("keyboard.clear"), func() { k.set("") })
	rows = append(rows, container.NewGridWithColumns(2, k.clr, k.back))
	k.content = container.NewThemeOverride(vbox(rows...), keyCapTheme{u.theme()})
	k.ExtendBaseWidget(k)
	return k
}

func (k *asciiKeyboard) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(k.content)
}

// relabel shows the letters in the case they will be typed in.
func (k *asciiKeyboard) relabel() {
	for r, b := range k.keys {
		s := string(r)
		if !k.upper {
			s = strings.ToLower(s)
		}
		if b.Text != s {
			b.SetText(s)
		}
	}
}

func (k *asciiKeyboard) input(r rune) {
	if !k.upper {
		r = []rune(strings.ToLower(string(r)))[0]
	}
	k.set(k.entry.Text + string(r))
}

// enrolAnswer is central's answer to a code (central.EnrolResponse, or
// central.EnrolError when refused).
type enrolAnswer struct {
	ID         string     `json:"id"`
	Username   string     `json:"username"`
	Password   string     `json:"password"`
	CatalogKey string     `json:"catalogKey"`
	Broker     string     `json:"broker"`
	TLS        *TLSConfig `json:"tls,omitempty"`
	Error      string     `json:"error"`
	Reason     string     `json:"reason"`
}

// Enrol trades a one-time code for this kiosk's credentials at central
// (POST /api/v1/enrol) and writes them, with the TLS client certificate
// central gives when it runs TLS, into the config file at configPath
// (mode 0600; the settings already in it are kept). It returns the config
// as the kiosk now reads it. Its errors are *InputError: a sentence in the
// person's language, with the cause underneath.
func Enrol(ctx context.Context, client *http.Client, centralURL, code, configPath string) (Config, error) {
	if configPath == "" {
		return Config{}, inputErr("enrol.err_save", errors.New("no config file given (--config)"), "path", "")
	}
	base, err := url.Parse(strings.TrimSpace(centralURL))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return Config{}, inputErr("enrol.err_address", fmt.Errorf("central address %q: want http://host:port", centralURL), "address", centralURL)
	}
	if n := codeChars(code); n != 12 {
		return Config{}, inputErr("enrol.err_code", fmt.Errorf("code %q has %d of the 12 characters", code, n))
	}
	// The file must be readable before anything is spent: a code is good
	// for one try only.
	old, err := readConfigMap(configPath)
	if err != nil {
		return Config{}, inputErr("enrol.err_config", err, "path", configPath)
	}
	if client == nil {
		client = http.DefaultClient
	}
	body, _ := json.Marshal(map[string]string{"code": code})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base.String(), "/")+"/api/v1/enrol", bytes.NewReader(body))
	if err != nil {
		return Config{}, inputErr("enrol.err_address", err, "address", centralURL)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Config{}, inputErr("enrol.err_unreachable", err, "address", centralURL)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Config{}, inputErr("enrol.err_unreachable", err, "address", centralURL)
	}
	ans, err := decodeEnrolAnswer(resp.StatusCode, raw)
	if err != nil {
		return Config{}, err
	}
	for k, v := range map[string]any{"id": ans.ID, "username": ans.Username, "password": ans.Password,
		"catalogKey": ans.CatalogKey, "broker": ans.Broker} {
		if v != "" {
			old[k] = v
		}
	}
	if ans.TLS != nil {
		old["tls"] = ans.TLS
	}
	out, _ := json.MarshalIndent(old, "", "  ")
	if err := writePrivate(configPath, append(out, '\n')); err != nil {
		return Config{}, inputErr("enrol.err_save", err, "path", configPath)
	}
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return Config{}, inputErr("enrol.err_config", err, "path", configPath)
	}
	return cfg, nil
}

// decodeEnrolAnswer reads central's answer: credentials, or why the code
// was refused.
func decodeEnrolAnswer(status int, raw []byte) (enrolAnswer, error) {
	var a enrolAnswer
	jsonErr := json.Unmarshal(raw, &a)
	if status != http.StatusOK {
		cause := fmt.Errorf("central answered %d: %s", status, a.Error)
		if jsonErr != nil || a.Error == "" {
			cause = fmt.Errorf("central answered %d: %.200q", status, raw)
		}
		if key, ok := enrolRefusals[a.Reason]; ok {
			return a, inputErr(key, cause)
		}
		return a, inputErr("enrol.err_refused", cause, "error", a.Error)
	}
	if jsonErr != nil || a.ID == "" || a.Password == "" {
		return a, inputErr("enrol.err_refused", fmt.Errorf("not a kiosk's credentials: %.200q", raw), "error", "")
	}
	if err := allimi.ValidateKioskID(a.ID); err != nil {
		return a, inputErr("enrol.err_refused", err, "error", err.Error())
	}
	return a, nil
}

// enrolRefusals are the messages for the reasons central gives
// (central.EnrolReason*).
var enrolRefusals = map[string]string{
	"unknown":   "enrol.err_unknown",
	"used":      "enrol.err_used",
	"expired":   "enrol.err_expired",
	"throttled": "enrol.err_throttled",
}

// codeChars counts the characters of code that can be in a code: people
// type dashes, spaces and small letters too, and central ignores them.
func codeChars(code string) int {
	n := 0
	for _, r := range strings.ToUpper(code) {
		if strings.ContainsRune(allimi.CodeAlphabet, r) {
			n++
		} else if r != '-' && r != ' ' {
			return -1
		}
	}
	return n
}

func readConfigMap(path string) (map[string]any, error) {
	m := map[string]any{}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w (fix or remove it before enrolling)", path, err)
	}
	return m, nil
}

// writePrivate replaces path with data, mode 0600: through a new file and
// a rename when the directory lets the kiosk's user create one, else (the
// packaged kiosk in /etc/allimi, whose file the package made the kiosk
// user's) by rewriting the file in place.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	err := atomicfile.Write(path, data, 0o600)
	if errors.Is(err, fs.ErrPermission) {
		return rewrite(path, data)
	}
	return err
}

func rewrite(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// enrolShot shows the enrolment screen as a first run does, for the
// screenshots and the tests that check every screen; then runs then.
func enrolShot(then func(u *UI)) func(u *UI) {
	return func(u *UI) {
		u.opt.FirstRun = &FirstRun{ConfigPath: "/etc/allimi/kiosk.json", shown: true, codeField: true,
			address: "http://central.example.kr:8080", code: "ABCD-EFGH-JK"}
		u.cfg.ID = ""
		u.stack = []screen{u.screenOf(enrolScreen)}
		u.render()
		then(u)
	}
}

// Conn is how the kiosk reaches central's broker with this config: its
// credentials, and over TLS its CA and client certificate when it has them.
func (c Config) Conn() (transport.Conn, error) {
	conn := transport.Conn{Broker: c.Broker, Username: c.Username, Password: c.Password}
	if c.TLS != nil {
		t, err := transport.ClientTLSFrom(c.TLS.CA, c.TLS.Cert, c.TLS.Key)
		if err != nil {
			return conn, fmt.Errorf("config tls: %w", err)
		}
		conn.TLS = t
	}
	return conn, nil
}
