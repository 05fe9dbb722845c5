package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// EnrolmentBackend is a store of enrolments under test.
type EnrolmentBackend[B any] interface {
	allimi.Enrolments
	// Reopen closes the store and opens it again on the same data.
	Reopen(t *testing.T) B
}

// Enrolments checks allimi.Enrolments: enrolments stored as given, once
// per idempotency key; updates all or nothing and never lost to one
// another; the index of steps by due time following every change of a
// step (rescheduled, taken, sent, cancelled); all of it across a restart,
// including a step taken for sending and not recorded as sent (a crash
// between its due time and its sending). The clock is the test's: no test
// waits for a due time.
func Enrolments[B EnrolmentBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"CreateAndGet", enrolmentsCreateAndGet[B]},
		{"IdempotencyKey", enrolmentsIdempotency[B]},
		{"DueStepsFollowTheSteps", enrolmentsDueSteps[B]},
		{"FailedUpdateStoresNothing", enrolmentsFailedUpdate[B]},
		{"ConcurrentUpdatesAllKept", enrolmentsConcurrent[B]},
		{"CrashBetweenDueAndSent", enrolmentsCrash[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// t0 of the enrolment tests: a Monday morning in Seoul.
var enrolT0 = time.Date(2027, 3, 8, 9, 0, 0, 0, allimi.KST)

func at(d time.Duration) *time.Time {
	v := enrolT0.Add(d).UTC()
	return &v
}

// vaccinationEnrolment is an enrolment as central makes one: an urgent
// step sent at once, two timed ones, two waiting for an event.
func vaccinationEnrolment(id, agency string) allimi.Enrolment {
	return allimi.Enrolment{
		ID: id, Program: "vaccination", Agency: agency, Citizen: []byte("ck-" + id),
		Anchors: map[string]time.Time{"dose1": enrolT0.Add(48 * time.Hour).UTC(), "dose2": enrolT0.Add(30 * 24 * time.Hour).UTC()},
		Params:  map[string]string{"place": "보건소"},
		Created: enrolT0.UTC(),
		Steps: []allimi.EnrolmentStep{
			{Step: "appointment", Due: at(0), State: allimi.StepScheduled, Urgent: true, Changed: enrolT0.UTC()},
			{Step: "dose1.reminder", Due: at(25 * time.Hour), Stale: at(39 * time.Hour), State: allimi.StepScheduled, Changed: enrolT0.UTC()},
			{Step: "dose1.result", State: allimi.StepScheduled, Changed: enrolT0.UTC()},
			{Step: "dose2.reminder", Due: at(29*24*time.Hour + time.Hour), State: allimi.StepScheduled, Changed: enrolT0.UTC()},
			{Step: "dose2.result", State: allimi.StepScheduled, Changed: enrolT0.UTC()},
		},
	}
}

func enrolmentsCreateAndGet[B EnrolmentBackend[B]](t *testing.T, b B) {
	e := vaccinationEnrolment("e1", "kdca")
	got, repeat, err := b.CreateEnrolment(e, "")
	require.NoError(t, err)
	assert.False(t, repeat)
	assertSameEnrolment(t, e, got)

	got, err = b.GetEnrolment("e1")
	require.NoError(t, err)
	assertSameEnrolment(t, e, got)

	_, err = b.GetEnrolment("nobody")
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	_, err = b.UpdateEnrolment("nobody", func(*allimi.Enrolment) error { return nil })
	assert.ErrorIs(t, err, allimi.ErrNotFound)

	_, _, err = b.CreateEnrolment(vaccinationEnrolment("e1", "other"), "")
	assert.ErrorIs(t, err, allimi.ErrEnrolmentExists, "an id is never stored twice")
	got, err = b.GetEnrolment("e1")
	require.NoError(t, err)
	assert.Equal(t, "kdca", got.Agency, "the first one is intact")
}

func enrolmentsIdempotency[B EnrolmentBackend[B]](t *testing.T, b B) {
	first, repeat, err := b.CreateEnrolment(vaccinationEnrolment("e1", "kdca"), "key-1")
	require.NoError(t, err)
	require.False(t, repeat)

	again, repeat, err := b.CreateEnrolment(vaccinationEnrolment("e2", "kdca"), "key-1")
	require.NoError(t, err)
	assert.True(t, repeat)
	assert.Equal(t, first.ID, again.ID, "the same key of the same agency is the same enrolment")
	_, err = b.GetEnrolment("e2")
	assert.ErrorIs(t, err, allimi.ErrNotFound, "nothing stored for a repeat")

	other, repeat, err := b.CreateEnrolment(vaccinationEnrolment("e3", "police"), "key-1")
	require.NoError(t, err)
	assert.False(t, repeat, "another agency's key is its own")
	assert.Equal(t, "e3", other.ID)

	for _, id := range []string{"e4", "e5"} {
		_, repeat, err := b.CreateEnrolment(vaccinationEnrolment(id, "kdca"), "")
		require.NoError(t, err)
		assert.False(t, repeat, "no key, no repeat")
	}
	b = b.Reopen(t)
	again, repeat, err = b.CreateEnrolment(vaccinationEnrolment("e6", "kdca"), "key-1")
	require.NoError(t, err)
	assert.True(t, repeat, "keys survive a restart")
	assert.Equal(t, "e1", again.ID)
}

func dueList(t *testing.T, b allimi.Enrolments, now time.Time, limit int) []string {
	t.Helper()
	ds, err := b.DueSteps(now, limit)
	require.NoError(t, err)
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Enrolment + "/" + d.Step
	}
	return out
}

func nextDue(t *testing.T, b allimi.Enrolments) *time.Time {
	t.Helper()
	at, ok, err := b.NextStepDue()
	require.NoError(t, err)
	if !ok {
		return nil
	}
	return &at
}

func enrolmentsDueSteps[B EnrolmentBackend[B]](t *testing.T, b B) {
	assert.Empty(t, dueList(t, b, enrolT0.Add(1000*time.Hour), 10))
	assert.Nil(t, nextDue(t, b))

	for _, id := range []string{"a", "b"} {
		_, _, err := b.CreateEnrolment(vaccinationEnrolment(id, "kdca"), "")
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"a/appointment", "b/appointment"}, dueList(t, b, enrolT0, 10))
	assert.Equal(t, []string{"a/appointment"}, dueList(t, b, enrolT0, 1), "at most limit")
	assert.Empty(t, dueList(t, b, enrolT0.Add(-time.Second), 10), "nothing before its time")
	if n := nextDue(t, b); assert.NotNil(t, n) {
		assert.True(t, n.Equal(enrolT0), "%v", n)
	}

	// a's appointment is taken for sending, then sent; b's is sent at
	// once; a's first reminder is moved a day on; b is cancelled.
	taken := enrolT0.Add(time.Minute)
	_, err := b.UpdateEnrolment("a", func(e *allimi.Enrolment) error {
		s := e.Step("appointment")
		s.State, s.Changed = allimi.StepSending, taken.UTC()
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"b/appointment", "a/appointment"}, dueList(t, b, enrolT0.Add(time.Hour), 10),
		"a step being sent is listed from when it was taken")
	_, err = b.UpdateEnrolment("a", func(e *allimi.Enrolment) error {
		s := e.Step("appointment")
		s.State, s.Notification, s.Changed = allimi.StepSent, 7, taken.UTC()
		s2 := e.Step("dose1.reminder")
		s2.Due = at(49 * time.Hour)
		return nil
	})
	require.NoError(t, err)
	_, err = b.UpdateEnrolment("b", func(e *allimi.Enrolment) error {
		now := enrolT0.Add(2 * time.Hour).UTC()
		e.Cancelled = &now
		for i := range e.Steps {
			if e.Steps[i].State.Pending() {
				e.Steps[i].State, e.Steps[i].Changed = allimi.StepCancelled, now
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, dueList(t, b, enrolT0.Add(26*time.Hour), 10), "sent, moved on or cancelled: nothing due")
	assert.Equal(t, []string{"a/dose1.reminder"}, dueList(t, b, enrolT0.Add(49*time.Hour), 10))
	if n := nextDue(t, b); assert.NotNil(t, n) {
		assert.True(t, n.Equal(enrolT0.Add(49*time.Hour)), "%v", n)
	}

	// An event gives a step a due time.
	_, err = b.UpdateEnrolment("a", func(e *allimi.Enrolment) error {
		s := e.Step("dose1.result")
		s.Due, s.Urgent, s.Params = at(50*time.Hour), true, map[string]string{"vaccine": "화이자"}
		e.Events = map[string]time.Time{"dose1.administered": enrolT0.Add(50 * time.Hour).UTC()}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a/dose1.reminder", "a/dose1.result"}, dueList(t, b, enrolT0.Add(60*time.Hour), 10))
	got, err := b.GetEnrolment("a")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"vaccine": "화이자"}, got.Step("dose1.result").Params)
	assert.EqualValues(t, 7, got.Step("appointment").Notification)

	b = b.Reopen(t)
	assert.Equal(t, []string{"a/dose1.reminder", "a/dose1.result"}, dueList(t, b, enrolT0.Add(60*time.Hour), 10), "the index is durable")
}

func enrolmentsFailedUpdate[B EnrolmentBackend[B]](t *testing.T, b B) {
	e := vaccinationEnrolment("a", "kdca")
	_, _, err := b.CreateEnrolment(e, "")
	require.NoError(t, err)
	boom := errors.New("refused")
	_, err = b.UpdateEnrolment("a", func(e *allimi.Enrolment) error {
		e.Steps[0].State = allimi.StepCancelled
		e.Steps[1].Due = nil
		e.Params["place"] = "elsewhere"
		return boom
	})
	assert.ErrorIs(t, err, boom)
	got, err := b.GetEnrolment("a")
	require.NoError(t, err)
	assertSameEnrolment(t, e, got)
	assert.Equal(t, []string{"a/appointment", "a/dose1.reminder"}, dueList(t, b, enrolT0.Add(26*time.Hour), 10))
}

func enrolmentsConcurrent[B EnrolmentBackend[B]](t *testing.T, b B) {
	_, _, err := b.CreateEnrolment(vaccinationEnrolment("a", "kdca"), "")
	require.NoError(t, err)
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := b.UpdateEnrolment("a", func(e *allimi.Enrolment) error {
					if e.Events == nil {
						e.Events = map[string]time.Time{}
					}
					e.Events[fmt.Sprintf("w%d.%d", w, i)] = enrolT0.UTC()
					return nil
				})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	got, err := b.GetEnrolment("a")
	require.NoError(t, err)
	assert.Len(t, got.Events, writers*each, "no update lost to another")
}

// A step taken for sending when central stopped (its notification made
// or not) is still listed after the restart, so the scheduler finishes
// it; once recorded sent, it is not.
func enrolmentsCrash[B EnrolmentBackend[B]](t *testing.T, b B) {
	_, _, err := b.CreateEnrolment(vaccinationEnrolment("a", "kdca"), "")
	require.NoError(t, err)
	due := enrolT0.Add(25 * time.Hour)
	_, err = b.UpdateEnrolment("a", func(e *allimi.Enrolment) error {
		e.Steps[0].State = allimi.StepSent
		s := e.Step("dose1.reminder")
		s.State, s.Changed = allimi.StepSending, due.UTC()
		return nil
	})
	require.NoError(t, err)
	b = b.Reopen(t) // central stops here
	assert.Equal(t, []string{"a/dose1.reminder"}, dueList(t, b, due.Add(time.Hour), 10))
	got, err := b.GetEnrolment("a")
	require.NoError(t, err)
	assert.Equal(t, allimi.StepSending, got.Step("dose1.reminder").State)
	assert.Equal(t, allimi.StepSent, got.Step("dose1.reminder").State.Public(), "an agency reads it as sent")

	_, err = b.UpdateEnrolment("a", func(e *allimi.Enrolment) error {
		s := e.Step("dose1.reminder")
		s.State, s.Notification = allimi.StepSent, 9
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, dueList(t, b, due.Add(time.Hour), 10))
}

// assertSameEnrolment compares enrolments as stored: times by instant.
func assertSameEnrolment(t *testing.T, want, got allimi.Enrolment) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.Program, got.Program)
	assert.Equal(t, want.Agency, got.Agency)
	assert.Equal(t, want.Citizen, got.Citizen)
	assert.Equal(t, want.Params, got.Params)
	assert.True(t, want.Created.Equal(got.Created))
	require.Len(t, got.Anchors, len(want.Anchors))
	for k, v := range want.Anchors {
		assert.True(t, v.Equal(got.Anchors[k]), "anchor %s", k)
	}
	require.Len(t, got.Steps, len(want.Steps))
	for i, w := range want.Steps {
		g := got.Steps[i]
		assert.Equal(t, w.Step, g.Step)
		assert.Equal(t, w.State, g.State, w.Step)
		assert.Equal(t, w.Urgent, g.Urgent, w.Step)
		assert.Equal(t, w.Notification, g.Notification, w.Step)
		assert.Equal(t, w.Due == nil, g.Due == nil, w.Step)
		if w.Due != nil && g.Due != nil {
			assert.True(t, w.Due.Equal(*g.Due), w.Step)
		}
		assert.Equal(t, w.Stale == nil, g.Stale == nil, w.Step)
	}
}
