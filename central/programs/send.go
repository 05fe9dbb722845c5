package programs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"allimi"
)

// maxWait is the longest Run sleeps between looks at the steps due: a
// step made due elsewhere (another central's API) is seen within it.
const maxWait = time.Second

// Run sends the steps that come due until ctx ends: every step due, or
// taken for sending and not recorded as sent (central stopped in
// between), is sent once, or dropped as stale.
func (s *Service) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := s.SendDue(); err != nil {
			s.log().Warn("sending the programs' steps due", "err", err)
		}
		wait := maxWait
		if at, ok, err := s.Store.NextStepDue(); err == nil && ok {
			wait = min(wait, max(time.Until(at), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// SendDue sends every step due now, and returns the first error among
// them (the others are tried regardless; what failed is tried again at
// the next call).
func (s *Service) SendDue() error {
	var first error
	for {
		now := s.now()
		due, err := s.Store.DueSteps(now, 256)
		if err != nil {
			return err
		}
		failed := 0
		for _, d := range due {
			if err := s.fire(d); err != nil {
				failed++
				if first == nil {
					first = err
				}
			}
		}
		if len(due) < 256 || failed == len(due) {
			return first
		}
	}
}

// errNothingToDo ends an update that finds the step already dealt with.
var errNothingToDo = errors.New("nothing to do")

// fire sends one step: it takes it (scheduled → sending) or drops it as
// stale, makes its notification — with a key of its own, so that doing
// it again after a crash finds the first one rather than making another —
// and records it sent.
func (s *Service) fire(d allimi.DueStep) error {
	now := s.now().UTC()
	stale := false
	e, err := s.Store.UpdateEnrolment(d.Enrolment, func(e *allimi.Enrolment) error {
		st := e.Step(d.Step)
		switch {
		case st == nil:
			return errNothingToDo
		case st.State == allimi.StepSending:
			return nil // taken before a restart: finish it
		case st.State != allimi.StepScheduled || st.Due == nil || st.Due.After(now):
			return errNothingToDo
		case st.Stale != nil && !now.Before(*st.Stale):
			st.State, st.Changed, stale = allimi.StepStale, now, true
			return nil
		}
		st.State, st.Changed = allimi.StepSending, now
		return nil
	})
	switch {
	case errors.Is(err, errNothingToDo):
		return nil
	case err != nil:
		return err
	case stale:
		s.count(e.Program, d.Step, "stale")
		s.log().Info("program step stale: not sent", "enrolment", e.ID, "program", e.Program, "step", d.Step)
		return nil
	}
	p, ok := s.Programs.Get(e.Program)
	if !ok {
		return fmt.Errorf("enrolment %s: program %q: %w", e.ID, e.Program, ErrUnknownProgram)
	}
	ps, ok := p.Step(d.Step)
	if !ok {
		return fmt.Errorf("enrolment %s: program %s has no step %q", e.ID, p.ID, d.Step)
	}
	req := p.request(&e, e.Step(d.Step), ps, now)
	n, _, err := s.Notify.Create(e.Agency, stepKey(e.ID, d.Step), req)
	if n.ID == 0 {
		var fe *allimi.FieldError
		if !errors.As(err, &fe) {
			return err // the store: tried again later, still taken
		}
		// It can never be sent as it stands (a program file's mistake):
		// say so loudly, and do not try for ever.
		s.log().Error("program step cannot be made a notification", "enrolment", e.ID, "program", p.ID, "step", d.Step, "err", err)
		s.count(p.ID, d.Step, "failed")
		_, uerr := s.Store.UpdateEnrolment(e.ID, func(e *allimi.Enrolment) error {
			if st := e.Step(d.Step); st != nil && st.State == allimi.StepSending {
				st.State, st.Changed = allimi.StepCancelled, now
			}
			return nil
		})
		return uerr
	}
	_, err = s.Store.UpdateEnrolment(e.ID, func(e *allimi.Enrolment) error {
		st := e.Step(d.Step)
		if st == nil || st.State != allimi.StepSending {
			return errNothingToDo
		}
		st.State, st.Notification, st.Changed = allimi.StepSent, n.ID, now
		return nil
	})
	if err != nil && !errors.Is(err, errNothingToDo) {
		return err
	}
	s.count(p.ID, d.Step, "sent")
	return nil
}

// stepKey is the idempotency key of a step's notification. It starts with
// a control character, which no HTTP header carries, so that it is never
// an agency's own key.
func stepKey(enrolment, step string) string { return "\x1fprogram/" + enrolment + "/" + step }

// request is the notification of one step of e: to its person (by key),
// with the step's templates, every variable they take, and the type's
// parameters set as the step says.
func (p *Program) request(e *allimi.Enrolment, st *allimi.EnrolmentStep, ps *Step, now time.Time) *allimi.NotificationRequest {
	vars := p.vars(e, st)
	info, _ := p.Type.Info()
	params := map[string]string{}
	var extra []string
	for k, v := range vars {
		if !slices.Contains(info.Params, k) {
			extra = append(extra, k)
		}
		params[k] = v
	}
	for k, v := range ps.Set {
		params[k] = expand(v, vars)
	}
	slices.Sort(extra)
	req := &allimi.NotificationRequest{Type: p.Type, Urgent: st.Urgent, Params: params, Title: ps.Title,
		Template: ps.Template, ExtraParams: extra, Fields: p.fields(e, vars)}
	req.Audience.Citizens = []allimi.RecipientRequest{{Key: e.Citizen}}
	if st.Stale != nil && st.Stale.After(now) {
		exp := *st.Stale
		req.ExpiresAt = &exp
	}
	return req
}

// vars are a step's template variables: the params (the program's
// defaults, the enrolment's, the event's), each anchor as a date and its
// year; an anchor not given yet reads "미정" (to be decided).
func (p *Program) vars(e *allimi.Enrolment, st *allimi.EnrolmentStep) map[string]string {
	vars := map[string]string{}
	for _, pa := range p.Params {
		vars[pa.ID] = pa.Default
	}
	maps.Copy(vars, e.Params)
	maps.Copy(vars, st.Params)
	for _, a := range p.Anchors {
		t, ok := e.Anchors[a.ID]
		if !ok {
			vars[a.ID], vars[a.ID+"Year"] = "미정", "미정"
			continue
		}
		vars[a.ID], vars[a.ID+"Year"] = formatTime(t), fmt.Sprint(t.In(allimi.KST).Year())
	}
	return vars
}

// fields are the detail page's lines: the program, its anchors and params.
func (p *Program) fields(e *allimi.Enrolment, vars map[string]string) []allimi.DetailField {
	out := []allimi.DetailField{{Label: "안내", Value: p.Name}}
	for _, a := range p.Anchors {
		out = append(out, allimi.DetailField{Label: a.Label, Value: vars[a.ID]})
	}
	for _, pa := range p.Params {
		out = append(out, allimi.DetailField{Label: pa.Label, Value: vars[pa.ID]})
	}
	return out
}

// expand fills {{x}} in v from vars.
func expand(v string, vars map[string]string) string {
	return varPattern.ReplaceAllStringFunc(v, func(m string) string {
		return vars[varPattern.FindStringSubmatch(m)[1]]
	})
}
