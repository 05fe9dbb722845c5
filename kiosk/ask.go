package kiosk

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"allimi"
	"allimi/assets"
	"allimi/consult"
	"allimi/sync/outbox"
	"allimi/voice"
)

// Adviser is the home screen's 말로 물어보기: the person types a question
// on the kiosk's keyboard or says it (ask_voice.go), picks a suggestion or
// searches, and reads (or hears) the official answer found in the
// consultation knowledge base. "Was this helpful?" stores one feedback
// record naming only the entry; the question never leaves the kiosk,
// unless the person hands it to an official (handover.go).
type Adviser struct {
	// Listener, when set, puts a 말하기 (speak) button on the question
	// screen; Transcriber turns what it heard into the question (nil: the
	// recording can only be handed to an official).
	Listener    Listener
	Transcriber Transcriber
	// Handover, when set, adds 사람과 상담 (talk to a person) and 답변 확인
	// (check my answer): questions the kiosk cannot answer go to an
	// official at central.
	Handover Handover

	mu sync.RWMutex
	ix *consult.Index
	// load, when set, builds the index on first use: the kiosk starts
	// without it (indexing costs about 13 MiB at its peak, and most
	// sessions never ask).
	load     func() (*consult.Index, error)
	loadOnce sync.Once
}

// NewLazyAdviser returns the feature with an index that load builds the
// first time a person asks (a failed load leaves it without one, which the
// screen says).
func NewLazyAdviser(load func() (*consult.Index, error)) *Adviser { return &Adviser{load: load} }

// NewAdviser returns the feature searching ix (nil: the screen says that
// there is no knowledge base yet).
func NewAdviser(ix *consult.Index) *Adviser { return &Adviser{ix: ix} }

// SetIndex replaces the index, when central publishes a new knowledge
// base; the next search uses it.
func (a *Adviser) SetIndex(ix *consult.Index) {
	a.mu.Lock()
	a.ix = ix
	a.mu.Unlock()
}

// Index is the index searched.
func (a *Adviser) Index() *consult.Index {
	if a.load != nil {
		a.loadOnce.Do(func() {
			ix, err := a.load()
			if err != nil {
				return
			}
			a.mu.Lock()
			if a.ix == nil { // a catalog installed meanwhile wins
				a.ix = ix
			}
			a.mu.Unlock()
		})
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.ix
}

// Start implements Feature. The screens are the kiosk's own (they use its
// keyboard and session): the navigator shows them over a's knowledge base.
func (a *Adviser) Start(nav Navigator) { nav.Ask(a) }

// Ask implements Navigator: it opens 말로 물어보기's question screen
// afresh, answering from a.
func (u *UI) Ask(a *Adviser) {
	u.adviser = a
	u.session.Ask = AskState{}
	u.push(askQuestionScreen)
}

// AskState is the consultation of the person at the kiosk: what is typed,
// the question searched and what was found. It is part of the Session and
// cleared with it.
type AskState struct {
	// Draft is the text in the question field.
	Draft string
	// Question is the question searched, Result what it found and Shown
	// the answer shown (an index into Result.Answers).
	Question string
	Result   consult.Result
	Shown    int
	// Rated is set once the person answered "was this helpful?": a
	// second tap stores nothing.
	Rated bool
	// Spoken is set when Question came from the microphone: its answer
	// is read aloud as it appears.
	Spoken bool
	// Audio is the last recording: the spoken question, or the one
	// recorded for an official. Nothing but the session holds it.
	Audio voice.WAV
	// Notice is a message (a translation key) for the next screen shown:
	// the microphone failed, nothing was heard. Offer is why a spoken
	// question could not be answered.
	Notice, Offer string
	// Handover is the question for an official and its receipt.
	Handover HandoverState
	// listen is the recording in progress, nil when none.
	listen *listenRun
}

// Empty reports whether nothing was typed or asked.
func (a AskState) Empty() bool {
	return a.Draft == "" && a.Question == "" && len(a.Result.Answers) == 0 && !a.Rated &&
		len(a.Audio.Data) == 0 && a.Notice == "" && a.Offer == "" && a.Handover == (HandoverState{}) && a.listen == nil
}

// askSuggestions is the number of suggestions shown under the field;
// askAnswers the number of answers searched for.
const (
	askSuggestions = 4
	askAnswers     = 3
)

// askIndex is the index of the adviser started, nil when there is none.
func (u *UI) askIndex() *consult.Index {
	if u.adviser == nil {
		return nil
	}
	return u.adviser.Index()
}

// askQuestionPage is the question field with its keyboard, the
// suggestions for what is typed and this person's recent questions.
func (u *UI) askQuestionPage() *page {
	p := u.newPage(u.T("home.ask"))
	ix := u.askIndex()
	if ix == nil {
		p.text(u.T("ask.no_kb"))
		return p
	}
	a := &u.session.Ask
	p.text(u.T("ask.intro"))
	if u.listener() != nil {
		p.text(u.T("ask.voice_intro"))
		speak := u.button(u.T("ask.speak"), theme.MediaRecordIcon(), widget.HighImportance, func() {
			u.startListening(listenAsk)
		})
		p.add(u.bigButton(speak))
		p.say(speak.Text)
	}
	if u.handover() != nil {
		talk := u.button(u.T("ask.talk"), theme.AccountIcon(), widget.MediumImportance, func() {
			u.startHandover(a.Draft, voice.WAV{}, false)
		})
		check := u.button(u.T("ask.check"), theme.MailReplyIcon(), widget.MediumImportance, u.startCheck)
		p.add(container.NewGridWithColumns(2, talk, check))
		p.say(talk.Text, check.Text)
	}
	if a.Notice != "" {
		p.fail(u.T(a.Notice))
		a.Notice = ""
	}
	entry := widget.NewEntry()
	entry.PlaceHolder = u.T("ask.hint")
	entry.SetText(a.Draft)
	suggestTitle := headingLabel(u.T("ask.suggestions"))
	suggestBox := vbox()
	showSuggestions := func(text string) {
		suggestBox.RemoveAll()
		ss := ix.Autocomplete(text, askSuggestions)
		for _, s := range ss {
			s := s
			b := u.button(s.Question, theme.SearchIcon(), widget.MediumImportance, func() {
				entry.SetText(s.Question)
			})
			b.Alignment = widget.ButtonAlignLeading
			suggestBox.Add(b)
		}
		suggestTitle.Hidden = len(ss) == 0
		suggestTitle.Refresh()
	}
	entry.OnChanged = func(text string) {
		a.Draft = text
		p.clearFail()
		showSuggestions(text)
	}
	entry.OnSubmitted = func(string) { u.askSearch(p, entry.Text) }
	showSuggestions(a.Draft)
	p.add(entry, u.newTextKeyboard(entry), suggestTitle, suggestBox)
	p.say(u.T("ask.hint"))
	if recent := u.asked.Recent(); len(recent) > 0 {
		p.heading(u.T("ask.recent"))
		for _, q := range recent {
			q := q
			b := u.button(q, theme.HistoryIcon(), widget.MediumImportance, func() { u.askSearch(p, q) })
			b.Alignment = widget.ButtonAlignLeading
			p.add(b)
			p.say(q)
		}
	}
	p.next = u.nextButton(u.T("ask.search"), func() { u.askSearch(p, entry.Text) })
	return p
}

// askSearch searches question and shows what was found (or that nothing
// was).
func (u *UI) askSearch(p *page, question string) {
	if u.cur != p {
		return // a second tap of a double tap: the answer is up
	}
	ix := u.askIndex()
	if ix == nil {
		return
	}
	err := u.askFind(question, false)
	if errors.Is(err, consult.ErrEmptyQuestion) {
		p.fail(u.T("ask.empty"))
		return
	}
	if err != nil {
		p.failErr(err, "ask.failed")
		return
	}
	u.push(askAnswerScreen)
}

// askFind searches question, typed or spoken, and keeps what it found in
// the session.
func (u *UI) askFind(question string, spoken bool) error {
	ix := u.askIndex()
	if ix == nil {
		return errors.New("no consultation index")
	}
	question = strings.Join(strings.Fields(question), " ")
	r, err := ix.Search(question, askAnswers)
	if err != nil {
		return err
	}
	u.asked.Add(question)
	a := &u.session.Ask
	a.Draft, a.Question, a.Result, a.Shown, a.Rated, a.Spoken = question, question, r, 0, false, spoken
	if !spoken {
		a.Audio = voice.WAV{} // a typed question: an earlier recording is not about it
	}
	return nil
}

// askAnswerPage shows the answer chosen in large text, the other answers
// to switch to, a read-aloud button for the answer and "was this
// helpful?".
func (u *UI) askAnswerPage() *page {
	a := &u.session.Ask
	p := u.newPage(u.T("ask.answer_title"))
	p.text(u.T("ask.you_asked", "question", a.Question))
	if len(a.Result.Answers) == 0 {
		l := p.text(u.T("ask.none"))
		l.TextStyle = fyne.TextStyle{Bold: true}
		u.askHandoverOffer(p)
		p.next = u.nextButton(u.T("ask.again"), u.Back)
		if a.Spoken {
			p.onShow = func() { u.speak(u.T("ask.none")) }
		}
		return p
	}
	if !a.Result.Confident {
		l := p.text(u.T("ask.unsure"))
		l.TextStyle = fyne.TextStyle{Bold: true}
		u.askHandoverOffer(p)
	}
	shown := a.Result.Answers[max(0, min(a.Shown, len(a.Result.Answers)-1))]
	q := p.heading(shown.Question)
	q.SizeName = theme.SizeNameSubHeadingText
	answer := strings.TrimSpace(shown.Answer)
	body := p.text(answer)
	body.SizeName = theme.SizeNameSubHeadingText
	listen := u.button(u.T("ask.read_answer"), theme.VolumeUpIcon(), widget.MediumImportance, func() {
		u.speak(shown.Question + "\n" + answer)
	})
	p.add(touchWide(listen))
	if a.Spoken {
		// Asked aloud, answered aloud: the person may not read well.
		p.onShow = func() { u.speak(shown.Question + "\n" + answer) }
	}
	if len(a.Result.Answers) > 1 {
		p.heading(u.T("ask.others"))
		for i, other := range a.Result.Answers {
			if i == a.Shown {
				continue
			}
			i := i
			b := u.button(other.Question, theme.NavigateNextIcon(), widget.MediumImportance, func() {
				if u.cur != p {
					return
				}
				a.Shown, a.Rated = i, false
				u.replace(askAnswerScreen)
			})
			b.Alignment = widget.ButtonAlignLeading
			p.add(b)
			p.say(other.Question)
		}
	}
	p.heading(u.T("ask.helpful"))
	rate := func(helpful bool) func() {
		return func() { u.askRate(p, shown.ID, helpful) }
	}
	yes := u.button(u.T("ask.yes"), theme.ConfirmIcon(), widget.HighImportance, rate(true))
	no := u.button(u.T("ask.no"), theme.CancelIcon(), widget.MediumImportance, rate(false))
	p.add(vbox(touchWide(yes), touchWide(no)))
	p.say(u.T("ask.yes"), u.T("ask.no"))
	return p
}

// askHandoverOffer adds "ask an official" to an answer page the kiosk is
// not sure of, when hand-over is set up: the question goes with the
// recording when it was spoken.
func (u *UI) askHandoverOffer(p *page) {
	if u.handover() == nil {
		return
	}
	a := &u.session.Ask
	b := u.button(u.T("ask.handover"), theme.AccountIcon(), widget.HighImportance, func() {
		audio := voice.WAV{}
		if a.Spoken {
			audio = a.Audio
		}
		u.startHandover(a.Question, audio, false)
	})
	p.add(u.bigButton(b))
	p.say(b.Text)
}

// askRate stores the person's feedback on entry, once, and thanks them.
func (u *UI) askRate(p *page, entry string, helpful bool) {
	a := &u.session.Ask
	if u.cur != p || a.Rated {
		return // a double tap: one record
	}
	a.Rated = true
	d := outbox.Draft{Kind: allimi.KindFeedback, Payload: &allimi.FeedbackPayload{Entry: entry, Helpful: helpful}}
	if u.opt.Recorder == nil {
		// An unregistered kiosk keeps nothing; the person is thanked all
		// the same: their answer changes nothing for them.
		u.log.Warn("feedback not stored: kiosk not registered")
	} else if _, err := u.opt.Recorder.Append(d); err != nil {
		u.log.Error("feedback not stored", "err", err)
	}
	u.replace(askThanksScreen)
}

// askThanksPage thanks the person for their feedback and offers to ask
// again or go home.
func (u *UI) askThanksPage() *page {
	p := u.newPage(u.T("ask.thanks_title"))
	p.noBack = true
	p.text(u.T("ask.thanks"))
	again := u.button(u.T("ask.another"), theme.SearchIcon(), widget.MediumImportance, func() {
		u.session.Ask = AskState{}
		u.backTo(askQuestionScreen)
	})
	p.extra = []fyne.CanvasObject{again}
	p.next = u.nextButton(u.T("done.finish"), u.Home)
	return p
}

// LoadConsultIndex indexes the knowledge base central published
// (installed under consult.CatalogName), or the one the kiosk ships with
// when there is none or it cannot be read; get is the catalog store's Get
// (nil: no store).
func LoadConsultIndex(get func(name string) ([]byte, error), log *slog.Logger) (*consult.Index, error) {
	if get != nil {
		body, err := get(consult.CatalogName)
		if err == nil {
			ix, err := ConsultIndex(body)
			if err == nil {
				return ix, nil
			}
			log.Error("installed consultation catalog unreadable; using the built-in one", "err", err)
		}
	}
	return builtinConsultIndex()
}

// ConsultIndex decodes a consultation catalog and indexes it with the
// default lexicon.
func ConsultIndex(catalog []byte) (*consult.Index, error) {
	kb, err := consult.DecodeCatalog(catalog)
	if err != nil {
		return nil, err
	}
	return consult.NewIndex(kb, consult.DefaultLexicon())
}

var builtinConsultIndex = sync.OnceValues(func() (*consult.Index, error) {
	ix, err := ConsultIndex(assets.ConsultKB())
	if err != nil {
		return nil, fmt.Errorf("built-in consultation catalog: %w", err)
	}
	return ix, nil
})
