package programs

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"allimi"
)

// Notifier makes notifications: the dispatcher's Create.
type Notifier interface {
	Create(agency, idemKey string, req *allimi.NotificationRequest) (allimi.Notification, bool, error)
}

// Service enrols people in programs and sends their steps.
type Service struct {
	Programs *Set
	Store    allimi.Enrolments
	Notify   Notifier
	// CitizenKey is the registry's key of a person (keyring.CitizenKey).
	CitizenKey func(mobile, birthDate string) []byte
	Now        func() time.Time
	Log        *slog.Logger
	// Counted, when set, is told of every step's outcome: "sent",
	// "stale" or "failed".
	Counted func(program, step, outcome string)

	wake chan struct{}
}

// New is a Service with these settings, ready to Run.
func New(s Service) *Service {
	s.wake = make(chan struct{}, 1)
	return &s
}

// EnrolRequest is the body of POST /api/v1/programs/{program}/enrolments.
type EnrolRequest struct {
	Citizen struct {
		Mobile    string `json:"mobile"`
		BirthDate string `json:"birthDate"`
	} `json:"citizen"`
	Anchors map[string]string `json:"anchors"`
	Params  map[string]string `json:"params"`
}

// ChangeRequest is the body of PATCH /api/v1/programs/enrolments/{id}:
// anchors and params to change (the others stay).
type ChangeRequest struct {
	Anchors map[string]string `json:"anchors"`
	Params  map[string]string `json:"params"`
}

// EventRequest is the body of POST /api/v1/programs/enrolments/{id}/events.
type EventRequest struct {
	Event  string            `json:"event"`
	Params map[string]string `json:"params"`
}

// View is an enrolment as an agency reads it.
type View struct {
	ID        string               `json:"id"`
	Program   string               `json:"program"`
	Anchors   map[string]time.Time `json:"anchors"`
	Params    map[string]string    `json:"params,omitempty"`
	Created   time.Time            `json:"created"`
	Cancelled *time.Time           `json:"cancelled,omitempty"`
	Events    map[string]time.Time `json:"events,omitempty"`
	Steps     []StepView           `json:"steps"`
}

// StepView is one step as an agency reads it. Due is null for a step
// waiting for an event (or for an anchor not given yet).
type StepView struct {
	Step         string           `json:"step"`
	Due          *time.Time       `json:"due"`
	State        allimi.StepState `json:"state"`
	On           string           `json:"on,omitempty"`
	Notification uint64           `json:"notification,omitempty"`
}

// ViewOf is e as an agency reads it.
func (s *Service) ViewOf(e allimi.Enrolment) View {
	v := View{ID: e.ID, Program: e.Program, Anchors: e.Anchors, Params: e.Params, Created: e.Created, Cancelled: e.Cancelled,
		Events: e.Events, Steps: make([]StepView, len(e.Steps))}
	if v.Anchors == nil {
		v.Anchors = map[string]time.Time{}
	}
	p, _ := s.Programs.Get(e.Program)
	for i, st := range e.Steps {
		sv := StepView{Step: st.Step, Due: st.Due, State: st.State.Public(), Notification: st.Notification}
		if p != nil {
			if ps, ok := p.Step(st.Step); ok && ps.On != "" {
				sv.On = ps.On
				if ps.On != OnEnrolment {
					sv.Due = nil // an agency's event: when it comes
				}
			}
		}
		v.Steps[i] = sv
	}
	return v
}

// Errors an agency's request may meet besides a *allimi.FieldError.
var (
	ErrUnknownProgram = errors.New("no such program")
	ErrCancelled      = errors.New("the enrolment was cancelled")
)

// fieldErr is a 400 naming the field.
func fieldErr(field, format string, args ...any) error {
	return allimi.FieldErr(field, format, args...)
}

// Enrol enrols the person of req in program, for agency; with an
// idempotency key already used by the agency, it returns that enrolment
// and true. The steps due at once (the enrolment's own) are sent before
// it returns.
func (s *Service) Enrol(agency, program, idemKey string, req *EnrolRequest) (View, bool, error) {
	p, ok := s.Programs.Get(program)
	if !ok {
		return View{}, false, fmt.Errorf("program %q (known: %s): %w", program, s.Programs.IDs(), ErrUnknownProgram)
	}
	now := s.now()
	mobile, err := allimi.NormalizeMobile(req.Citizen.Mobile)
	if err != nil {
		return View{}, false, fieldErr("citizen.mobile", "must be a mobile number 010-NNNN-NNNN")
	}
	if _, err := allimi.ParseBirthDate(req.Citizen.BirthDate, now); err != nil {
		return View{}, false, fieldErr("citizen.birthDate", "must be a real date of birth YYYY-MM-DD")
	}
	anchors, err := p.anchors(req.Anchors, true)
	if err != nil {
		return View{}, false, err
	}
	params, err := p.params("params", req.Params)
	if err != nil {
		return View{}, false, err
	}
	for _, pa := range p.Params {
		if _, ok := params[pa.ID]; pa.Required && !ok {
			return View{}, false, fieldErr("params."+pa.ID, "required for %s (%s)", p.ID, pa.Label)
		}
	}
	e := allimi.Enrolment{ID: newID(), Program: p.ID, Agency: agency, Citizen: s.CitizenKey(mobile, req.Citizen.BirthDate),
		Anchors: anchors, Params: params, Created: now.UTC(), Steps: p.Schedule(anchors, now)}
	got, repeat, err := s.Store.CreateEnrolment(e, idemKey)
	if err != nil {
		return View{}, false, err
	}
	if repeat {
		return s.ViewOf(got), true, nil
	}
	for _, st := range got.Steps {
		if st.State == allimi.StepStale {
			s.count(p.ID, st.Step, "stale")
		}
	}
	return s.afterChange(got), false, nil
}

// Type is the notification type of a program's steps.
func (s *Service) Type(program string) (allimi.NotificationType, bool) {
	p, ok := s.Programs.Get(program)
	if !ok {
		return "", false
	}
	return p.Type, true
}

// Get is an enrolment of agency's (ErrNotFound for another's).
func (s *Service) Get(agency, id string) (View, error) {
	e, err := s.own(agency, id)
	if err != nil {
		return View{}, err
	}
	return s.ViewOf(e), nil
}

func (s *Service) own(agency, id string) (allimi.Enrolment, error) {
	e, err := s.Store.GetEnrolment(id)
	if err == nil && e.Agency != agency {
		err = allimi.ErrNotFound
	}
	if errors.Is(err, allimi.ErrNotFound) {
		return e, fmt.Errorf("enrolment %q: %w", id, allimi.ErrNotFound)
	}
	return e, err
}

// update changes an enrolment of agency's that is not cancelled.
func (s *Service) update(agency, id string, fn func(p *Program, e *allimi.Enrolment) error) (View, error) {
	if _, err := s.own(agency, id); err != nil {
		return View{}, err
	}
	e, err := s.Store.UpdateEnrolment(id, func(e *allimi.Enrolment) error {
		if e.Cancelled != nil {
			return fmt.Errorf("enrolment %s: %w", id, ErrCancelled)
		}
		p, ok := s.Programs.Get(e.Program)
		if !ok {
			return fmt.Errorf("program %q: %w", e.Program, ErrUnknownProgram)
		}
		return fn(p, e)
	})
	if err != nil {
		return View{}, err
	}
	return s.afterChange(e), nil
}

// Change gives an enrolment new anchors or params; the timed steps not
// sent are scheduled again from the anchors.
func (s *Service) Change(agency, id string, req *ChangeRequest) (View, error) {
	if len(req.Anchors) == 0 && len(req.Params) == 0 {
		return View{}, fieldErr("anchors", "give the anchors (or params) to change")
	}
	return s.update(agency, id, func(p *Program, e *allimi.Enrolment) error {
		anchors, err := p.anchors(req.Anchors, false)
		if err != nil {
			return err
		}
		params, err := p.params("params", req.Params)
		if err != nil {
			return err
		}
		if e.Anchors == nil {
			e.Anchors = map[string]time.Time{}
		}
		maps.Copy(e.Anchors, anchors)
		if len(params) > 0 {
			if e.Params == nil {
				e.Params = map[string]string{}
			}
			maps.Copy(e.Params, params)
		}
		p.Reschedule(e, s.now())
		return nil
	})
}

// Cancel cancels an enrolment: its steps not sent are dropped. Cancelling
// one already cancelled changes nothing.
func (s *Service) Cancel(agency, id string) (View, error) {
	if _, err := s.own(agency, id); err != nil {
		return View{}, err
	}
	e, err := s.Store.UpdateEnrolment(id, func(e *allimi.Enrolment) error {
		if e.Cancelled == nil {
			now := s.now().UTC()
			e.Cancelled = &now
			cancelPending(e, now)
		}
		return nil
	})
	if err != nil {
		return View{}, err
	}
	return s.ViewOf(e), nil
}

func cancelPending(e *allimi.Enrolment, now time.Time) {
	for i := range e.Steps {
		if e.Steps[i].State == allimi.StepScheduled {
			e.Steps[i].State, e.Steps[i].Changed = allimi.StepCancelled, now
		}
	}
}

// Event records an agency's event: the steps it sends are due at once
// (with the event's params), or, for an event that ends the program, the
// steps not sent are cancelled. An event already received changes nothing
// (its steps are sent once).
func (s *Service) Event(agency, id string, req *EventRequest) (View, error) {
	return s.update(agency, id, func(p *Program, e *allimi.Enrolment) error {
		events := p.Events()
		if !slices.Contains(events, req.Event) {
			if len(events) == 0 {
				return fieldErr("event", "program %s takes no events", p.ID)
			}
			return fieldErr("event", "%q is not an event of %s (known: %s)", req.Event, p.ID, strings.Join(events, ", "))
		}
		params, err := p.params("params", req.Params)
		if err != nil {
			return err
		}
		if _, seen := e.Events[req.Event]; seen {
			return nil
		}
		now := s.now().UTC()
		if e.Events == nil {
			e.Events = map[string]time.Time{}
		}
		e.Events[req.Event] = now
		if slices.Contains(p.Ends, req.Event) {
			cancelPending(e, now)
			return nil
		}
		for i := range e.Steps {
			st := &e.Steps[i]
			ps, ok := p.Step(st.Step)
			if !ok || ps.On != req.Event || st.State != allimi.StepScheduled {
				continue
			}
			st.Due, st.Urgent, st.Params, st.Changed = &now, true, params, now
		}
		return nil
	})
}

// afterChange sends what e has due now and returns e as it then stands.
func (s *Service) afterChange(e allimi.Enrolment) View {
	now := s.now()
	for _, step := range e.Waiting(now) {
		if err := s.fire(allimi.DueStep{Enrolment: e.ID, Step: step}); err != nil {
			s.log().Warn("program step not sent yet: the scheduler tries again", "enrolment", e.ID, "step", step, "err", err)
		}
	}
	if again, err := s.Store.GetEnrolment(e.ID); err == nil {
		e = again
	}
	s.poke()
	return s.ViewOf(e)
}

// anchors parses RFC 3339 anchors; all must be the program's, and with
// complete set every anchor not optional must be there.
func (p *Program) anchors(in map[string]string, complete bool) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(in))
	for k, v := range in {
		if !slices.ContainsFunc(p.Anchors, func(a Anchor) bool { return a.ID == k }) {
			return nil, fieldErr("anchors."+k, "not an anchor of %s (%s)", p.ID, p.anchorIDs())
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fieldErr("anchors."+k, "must be a date and time in RFC 3339 (2027-03-10T14:30:00+09:00)")
		}
		out[k] = t.UTC()
	}
	if complete {
		for _, a := range p.Anchors {
			if _, ok := out[a.ID]; !ok && !a.Optional {
				return nil, fieldErr("anchors."+a.ID, "required for %s (%s)", p.ID, a.Label)
			}
		}
	}
	return out, nil
}

func (p *Program) anchorIDs() string {
	ids := make([]string, len(p.Anchors))
	for i, a := range p.Anchors {
		ids[i] = a.ID
	}
	return strings.Join(ids, ", ")
}

// maxParamLen bounds a param's value, as a notification's are.
const maxParamLen = 200

// params checks an agency's params against the program's.
func (p *Program) params(field string, in map[string]string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		if !slices.ContainsFunc(p.Params, func(pa Param) bool { return pa.ID == k }) {
			ids := make([]string, len(p.Params))
			for i, pa := range p.Params {
				ids[i] = pa.ID
			}
			return nil, fieldErr(field+"."+k, "not a parameter of %s (allowed: %s)", p.ID, strings.Join(ids, ", "))
		}
		v = strings.TrimSpace(v)
		if v == "" || utf8.RuneCountInString(v) > maxParamLen {
			return nil, fieldErr(field+"."+k, "must be 1-%d characters", maxParamLen)
		}
		out[k] = v
	}
	return out, nil
}

// newID is an enrolment's id: 20 random base32 letters and digits.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) count(program, step, outcome string) {
	if s.Counted != nil {
		s.Counted(program, step, outcome)
	}
}

// poke wakes Run: a step may be due sooner than it thought.
func (s *Service) poke() {
	if s.wake == nil {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
