package programs

import (
	"fmt"
	"time"

	"allimi"
	"allimi/central/notify"
)

// times places a timed step from its anchor: due on the anchor's day (KST)
// plus s.Days at s.Minute, moved out of quiet hours; stale as s.Stale says
// (nil: never).
func (s *Step) times(anchor time.Time) (due time.Time, stale *time.Time) {
	k := anchor.In(allimi.KST)
	day := time.Date(k.Year(), k.Month(), k.Day(), 0, 0, 0, 0, allimi.KST)
	if s.Offset != 0 {
		due = anchor.Add(s.Offset)
	} else {
		due = day.AddDate(0, 0, s.Days).Add(time.Duration(s.Minute) * time.Minute)
	}
	if !s.Urgent && notify.QuietHours(due) {
		due = notify.QuietEnd(due)
	}
	switch s.Stale {
	case StaleAnchorDay:
		v := day.UTC()
		stale = &v
	case StaleAnchor:
		v := anchor.UTC()
		stale = &v
	}
	return due.UTC(), stale
}

// Schedule is the steps of an enrolment made at now with these anchors:
// the enrolment's own steps due now and urgent, the timed ones at their
// times (already stale if their time to help has passed), the event's
// waiting with no due time.
func (p *Program) Schedule(anchors map[string]time.Time, now time.Time) []allimi.EnrolmentStep {
	now = now.UTC()
	out := make([]allimi.EnrolmentStep, len(p.Steps))
	for i := range p.Steps {
		s := &p.Steps[i]
		st := allimi.EnrolmentStep{Step: s.ID, State: allimi.StepScheduled, Changed: now}
		switch {
		case s.On == OnEnrolment:
			st.Due, st.Urgent = &now, true
		case s.On != "":
			st.Urgent = true
		default:
			st.Urgent = s.Urgent
			place(s, &st, anchors, now)
		}
		out[i] = st
	}
	return out
}

// place sets a timed step's due and stale times from the anchors; without
// its anchor it waits (no due time).
func place(s *Step, st *allimi.EnrolmentStep, anchors map[string]time.Time, now time.Time) {
	a, ok := anchors[s.Anchor]
	if !ok {
		st.Due, st.Stale = nil, nil
		return
	}
	due, stale := s.times(a)
	st.Due, st.Stale = &due, stale
	if stale != nil && !now.Before(*stale) {
		st.State = allimi.StepStale
	}
}

// Reschedule places again, from e's anchors, the timed steps not sent:
// scheduled ones move, stale ones come back when their new time has not
// passed, and may go stale. Sent and cancelled steps stay as they are.
func (p *Program) Reschedule(e *allimi.Enrolment, now time.Time) {
	now = now.UTC()
	for i := range e.Steps {
		st := &e.Steps[i]
		s, ok := p.Step(st.Step)
		if !ok || !s.Timed() || (st.State != allimi.StepScheduled && st.State != allimi.StepStale) {
			continue
		}
		was := st.State
		st.State = allimi.StepScheduled
		place(s, st, e.Anchors, now)
		if st.State != was {
			st.Changed = now
		}
	}
}

// formatTime is an anchor as a message says it: "2027년 3월 10일(수)
// 14:30" in KST, without the time when it is midnight.
func formatTime(t time.Time) string {
	k := t.In(allimi.KST)
	s := fmt.Sprintf("%d년 %d월 %d일(%s)", k.Year(), int(k.Month()), k.Day(), weekdays[k.Weekday()])
	if k.Hour() != 0 || k.Minute() != 0 {
		s += fmt.Sprintf(" %02d:%02d", k.Hour(), k.Minute())
	}
	return s
}

var weekdays = [...]string{"일", "월", "화", "수", "목", "금", "토"}
