package allimi

import (
	"errors"
	"slices"
	"time"
)

// A program is a series of notices to one person over time: the seven
// messages of a two-dose vaccination, the reminders of a licence to renew.
// An agency enrols a person in a program with the dates it hangs on (its
// anchors: each dose's appointment, a due date); every step of the program
// is then an EnrolmentStep kept by the store, scheduled at its due time or
// waiting for the agency's event (a dose given), until central hands it to
// the dispatcher as a notification of its own. The programs themselves
// (their steps, templates and timing) are central's (central/programs);
// the store keeps enrolments without knowing what they mean.

// StepState is where a step of an enrolment stands.
type StepState string

// A step's states. Scheduled, sent, cancelled and stale are what an agency
// reads; sending is the store's own: the step is taken for sending and its
// notification not yet recorded (a crash in between is finished at the
// next start, the notification made at most once by its idempotency key).
const (
	StepScheduled StepState = "scheduled" // waiting for its due time or its event
	StepSending   StepState = "sending"   // taken; its notification is being made
	StepSent      StepState = "sent"      // handed to the dispatcher as Notification
	StepCancelled StepState = "cancelled" // the enrolment was cancelled or ended first
	StepStale     StepState = "stale"     // due while it could no longer help (a reminder after the day)
)

// Public is the state as an agency reads it: a step being sent is sent.
func (s StepState) Public() StepState {
	if s == StepSending {
		return StepSent
	}
	return s
}

// Pending says whether the step may still be sent.
func (s StepState) Pending() bool { return s == StepScheduled || s == StepSending }

// Enrolment is one person enrolled in a program by an agency.
type Enrolment struct {
	ID      string `json:"id"`
	Program string `json:"program"`
	Agency  string `json:"agency"`
	// Citizen is the person's key (the keyed hash of mobile and date of
	// birth, as the registry keys them): no number is kept here.
	Citizen []byte               `json:"citizen"`
	Anchors map[string]time.Time `json:"anchors,omitempty"`
	Params  map[string]string    `json:"params,omitempty"`
	Created time.Time            `json:"created"`
	// Cancelled is when the agency cancelled it (nil: it runs).
	Cancelled *time.Time `json:"cancelled,omitempty"`
	// Events are the agency's events received, by name, with when.
	Events map[string]time.Time `json:"events,omitempty"`
	Steps  []EnrolmentStep      `json:"steps"`
}

// EnrolmentStep is one step of an enrolment.
type EnrolmentStep struct {
	Step string `json:"step"`
	// Due is when it is to be sent; nil while it waits for an event (or
	// for an anchor not given yet).
	Due   *time.Time `json:"due,omitempty"`
	State StepState  `json:"state"`
	// Stale is when the step stops being worth sending (nil: never).
	Stale *time.Time `json:"stale,omitempty"`
	// Urgent steps answer what just happened (the enrolment, an event)
	// and go at once, day or night.
	Urgent bool `json:"urgent,omitempty"`
	// Params are the ones its event brought.
	Params map[string]string `json:"params,omitempty"`
	// Notification is the notification it was sent as (0 until then).
	Notification uint64 `json:"notification,omitempty"`
	// Changed is when the state last changed.
	Changed time.Time `json:"changed"`
}

// Step returns the step named id, or nil.
func (e *Enrolment) Step(id string) *EnrolmentStep {
	for i := range e.Steps {
		if e.Steps[i].Step == id {
			return &e.Steps[i]
		}
	}
	return nil
}

// Waiting lists the steps to act on at now: scheduled and due, or taken
// for sending and not recorded as sent.
func (e *Enrolment) Waiting(now time.Time) []string {
	var out []string
	for _, s := range e.Steps {
		if s.State == StepSending || s.State == StepScheduled && s.Due != nil && !s.Due.After(now) {
			out = append(out, s.Step)
		}
	}
	return out
}

// DueAt is when the store should hand step s over: its due time while
// scheduled, at once (its Changed time) while being sent; false when
// nothing is to be done for it.
func (s *EnrolmentStep) DueAt() (time.Time, bool) {
	switch {
	case s.State == StepSending:
		return s.Changed, true
	case s.State == StepScheduled && s.Due != nil:
		return *s.Due, true
	}
	return time.Time{}, false
}

// Clone is a deep copy of e.
func (e Enrolment) Clone() Enrolment {
	c := e
	c.Citizen = slices.Clone(e.Citizen)
	c.Anchors = cloneMap(e.Anchors)
	c.Params = cloneMap(e.Params)
	c.Events = cloneMap(e.Events)
	c.Steps = slices.Clone(e.Steps)
	for i := range c.Steps {
		c.Steps[i].Params = cloneMap(c.Steps[i].Params)
	}
	return c
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// DueStep names a step to act on, as Enrolments.DueSteps lists them.
type DueStep struct {
	Enrolment string
	Step      string
	At        time.Time
}

// ErrEnrolmentExists is CreateEnrolment given an id already stored.
var ErrEnrolmentExists = errors.New("enrolment id already stored")

// Enrolments keeps people's enrolments in programs, and the index of their
// steps by due time that central's scheduler reads.
type Enrolments interface {
	// CreateEnrolment stores e as it is and returns it with false; with
	// the same agency and a non-empty idempotency key as an earlier call,
	// it stores nothing and returns the enrolment made then, and true.
	CreateEnrolment(e Enrolment, idemKey string) (Enrolment, bool, error)
	// GetEnrolment is one enrolment (ErrNotFound when unknown).
	GetEnrolment(id string) (Enrolment, error)
	// UpdateEnrolment reads enrolment id, lets fn change it and stores
	// the result, with no other update in between (ErrNotFound when
	// unknown). When fn fails, nothing is stored and its error returned.
	// fn may be called more than once (a transaction run again).
	UpdateEnrolment(id string, fn func(*Enrolment) error) (Enrolment, error)
	// DueSteps lists, earliest first and at most limit, the steps to act
	// on at now: scheduled with a due time at or before now, and those
	// being sent (EnrolmentStep.DueAt).
	DueSteps(now time.Time, limit int) ([]DueStep, error)
	// NextStepDue is the earliest due time of any step to act on; false
	// when there is none.
	NextStepDue() (time.Time, bool, error)
}
