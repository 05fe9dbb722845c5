package programs

import (
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/internal/testclock"
)

// fixture is the service on a real bbolt store, whose notifications are
// what it made (the store's CreateNotification is the dispatcher's first
// step), on a test clock: no test waits for a due time.
type fixture struct {
	svc     *Service
	store   *bolt.Store
	path    string
	keys    *keyring.Keys
	clock   *testclock.Clock
	counted map[string]int
}

// t0 is tomorrow 09:00 KST: the stores check notifications' lifetimes
// against the real clock, so the test's days start from today's.
func t0() time.Time {
	k := time.Now().In(allimi.KST).AddDate(0, 0, 1)
	return time.Date(k.Year(), k.Month(), k.Day(), 9, 0, 0, 0, allimi.KST)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	keys, err := keyring.Load(dir)
	require.NoError(t, err)
	f := &fixture{path: filepath.Join(dir, bolt.DBFile), keys: keys, clock: testclock.New(t0()), counted: map[string]int{}}
	f.open(t)
	t.Cleanup(func() { _ = f.store.Close() })
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	st, err := bolt.OpenStore(f.path, f.keys, bolt.StoreOptions{LinkBase: "https://allimi.example/d/"})
	require.NoError(t, err)
	f.store = st
	set, err := Default()
	require.NoError(t, err)
	f.svc = New(Service{Programs: set, Store: st, Notify: stored{st}, CitizenKey: f.keys.CitizenKey, Now: f.clock.Now,
		Log: slog.New(slog.DiscardHandler), Counted: func(program, step, outcome string) { f.counted[program+"/"+step+" "+outcome]++ }})
}

// restart stops central (the store closed) and starts it again.
func (f *fixture) restart(t *testing.T) {
	t.Helper()
	require.NoError(t, f.store.Close())
	f.open(t)
}

// stored makes notifications as the dispatcher's Create does first:
// stored, with their recipients resolved.
type stored struct{ *bolt.Store }

func (s stored) Create(agency, idemKey string, req *allimi.NotificationRequest) (allimi.Notification, bool, error) {
	return s.CreateNotification(agency, idemKey, req)
}

func kimRequest(anchors map[string]string) *EnrolRequest {
	r := &EnrolRequest{Anchors: anchors}
	r.Citizen.Mobile, r.Citizen.BirthDate = "010-1234-5678", "1948-05-17"
	return r
}

func rfc(t time.Time) string { return t.Format(time.RFC3339) }

func stepOf(t *testing.T, v View, id string) StepView {
	t.Helper()
	for _, s := range v.Steps {
		if s.Step == id {
			return s
		}
	}
	t.Fatalf("no step %s in %+v", id, v.Steps)
	return StepView{}
}

// notifications are those the store holds, from id 1 up.
func (f *fixture) notifications(t *testing.T) []allimi.Notification {
	t.Helper()
	var out []allimi.Notification
	for id := uint64(1); ; id++ {
		n, err := f.store.GetNotification(id)
		if errors.Is(err, allimi.ErrNotFound) {
			return out
		}
		require.NoError(t, err)
		out = append(out, n)
	}
}

func TestEnrol_VaccinationSendsTheResultAtOnceAndSchedulesTheRest(t *testing.T) {
	f := newFixture(t)
	dose1 := t0().Add(48*time.Hour + 5*time.Hour + 30*time.Minute) // in two days, 14:30
	dose2 := dose1.AddDate(0, 0, 28)
	v, repeat, err := f.svc.Enrol("kdca", "vaccination", "k1", kimRequest(map[string]string{"dose1": rfc(dose1), "dose2": rfc(dose2)}))
	require.NoError(t, err)
	assert.False(t, repeat)
	require.Len(t, v.Steps, 7, "the seven messages of two doses")

	app := stepOf(t, v, "appointment")
	assert.Equal(t, allimi.StepSent, app.State, "the appointment's result goes at once")
	require.NotZero(t, app.Notification)
	ns := f.notifications(t)
	require.Len(t, ns, 1)
	n := ns[0]
	assert.Equal(t, "vaccination/appointment", n.Template)
	assert.True(t, n.Urgent, "an answer to what just happened goes day or night")
	assert.Equal(t, "1", n.Params["dose"])
	assert.Equal(t, formatTime(dose1), n.Params["date"])
	assert.Equal(t, "예약하신 접종 기관", n.Params["place"], "a param left out reads its default")
	assert.EqualValues(t, 1, n.NotSubscribed, "kim has not signed up here: the notice says so")

	rem := stepOf(t, v, "dose1.reminder")
	assert.Equal(t, allimi.StepScheduled, rem.State)
	want := time.Date(dose1.Year(), dose1.Month(), dose1.Day()-1, 10, 0, 0, 0, allimi.KST)
	require.NotNil(t, rem.Due)
	assert.True(t, want.Equal(*rem.Due), "the day before at 10:00 KST: %v", rem.Due)
	for _, id := range []string{"dose1.result", "dose1.adverse-effects", "dose2.result", "dose2.adverse-effects"} {
		s := stepOf(t, v, id)
		assert.Nil(t, s.Due, "%s waits for its event", id)
		assert.Equal(t, allimi.StepScheduled, s.State, id)
	}

	again, repeat, err := f.svc.Enrol("kdca", "vaccination", "k1", kimRequest(map[string]string{"dose1": rfc(dose1), "dose2": rfc(dose2)}))
	require.NoError(t, err)
	assert.True(t, repeat)
	assert.Equal(t, v.ID, again.ID)
	assert.Len(t, f.notifications(t), 1, "a repeat sends nothing again")

	// The day before at 10:00 the reminder goes, once.
	f.clock.Advance(want.Sub(f.clock.Now()) - time.Minute)
	require.NoError(t, f.svc.SendDue())
	assert.Len(t, f.notifications(t), 1, "not before its time")
	f.clock.Advance(time.Minute)
	require.NoError(t, f.svc.SendDue())
	require.NoError(t, f.svc.SendDue())
	ns = f.notifications(t)
	require.Len(t, ns, 2)
	assert.Equal(t, "vaccination/dose1.reminder", ns[1].Template)
	assert.False(t, ns[1].Urgent, "a timed step keeps quiet hours")
	assert.True(t, ns[1].ExpiresAt.Equal(time.Date(dose1.Year(), dose1.Month(), dose1.Day(), 0, 0, 0, 0, allimi.KST)),
		"not delivered once the day has come: %v", ns[1].ExpiresAt)

	// The dose given: its result and the adverse-effects guidance at once,
	// with the event's params; the event again sends nothing more.
	f.clock.Advance(28 * time.Hour)
	ev := &EventRequest{Event: "dose1.administered", Params: map[string]string{"vaccine": "화이자"}}
	v, err = f.svc.Event("kdca", v.ID, ev)
	require.NoError(t, err)
	assert.Equal(t, allimi.StepSent, stepOf(t, v, "dose1.result").State)
	assert.Equal(t, allimi.StepSent, stepOf(t, v, "dose1.adverse-effects").State)
	assert.Equal(t, allimi.StepScheduled, stepOf(t, v, "dose2.result").State)
	ns = f.notifications(t)
	require.Len(t, ns, 4)
	assert.Equal(t, "화이자", ns[2].Params["vaccine"])
	assert.True(t, ns[2].Urgent)
	_, err = f.svc.Event("kdca", v.ID, ev)
	require.NoError(t, err)
	assert.Len(t, f.notifications(t), 4, "an event is taken once")
	assert.Equal(t, 1, f.counted["vaccination/dose1.result sent"])

	got, err := f.svc.Get("kdca", v.ID)
	require.NoError(t, err)
	assert.Equal(t, v, got)
	_, err = f.svc.Get("police", v.ID)
	assert.ErrorIs(t, err, allimi.ErrNotFound, "another agency's enrolment is not found")
}

// A "day before" reminder due while central was down is dropped when it
// comes back after the day has begun, and counted; a step due while it
// was down and still useful is sent when it comes back.
func TestSendDue_StaleStepsDroppedAndCounted(t *testing.T) {
	f := newFixture(t)
	dose1 := t0().Add(48 * time.Hour)
	v, _, err := f.svc.Enrol("kdca", "vaccination", "", kimRequest(map[string]string{"dose1": rfc(dose1)}))
	require.NoError(t, err)
	assert.Equal(t, allimi.StepScheduled, stepOf(t, v, "dose2.reminder").State, "dose2 not given yet")
	assert.Nil(t, stepOf(t, v, "dose2.reminder").Due, "it waits for its anchor")

	f.restart(t)
	f.clock.Advance(48 * time.Hour) // down from before the reminder until the dose's day
	f.restart(t)
	require.NoError(t, f.svc.SendDue())
	got, err := f.svc.Get("kdca", v.ID)
	require.NoError(t, err)
	assert.Equal(t, allimi.StepStale, stepOf(t, got, "dose1.reminder").State)
	assert.Len(t, f.notifications(t), 1, "only the appointment")
	assert.Equal(t, 1, f.counted["vaccination/dose1.reminder stale"])

	// A licence reminder due while down is still worth sending the
	// morning after.
	due := t0().AddDate(0, 0, 40)
	lv, _, err := f.svc.Enrol("police", "licence-renewal", "", kimRequest(map[string]string{"due": rfc(due)}))
	require.NoError(t, err)
	remind30 := *stepOf(t, lv, "remind30").Due
	f.clock.Advance(remind30.Sub(f.clock.Now()) + 20*time.Hour)
	require.NoError(t, f.svc.SendDue())
	lv, err = f.svc.Get("police", lv.ID)
	require.NoError(t, err)
	assert.Equal(t, allimi.StepSent, stepOf(t, lv, "remind30").State)
}

// A crash between a step's due time and its recorded sending: taken and
// not made a notification, or made one and not recorded. Either way the
// next start sends it once.
func TestSendDue_CrashBetweenDueAndSentSendsOnce(t *testing.T) {
	for _, made := range []bool{false, true} {
		name := "BeforeTheNotification"
		if made {
			name = "AfterTheNotification"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			due := t0().AddDate(0, 0, 10)
			v, _, err := f.svc.Enrol("police", "traffic-penalty", "",
				&EnrolRequest{Anchors: map[string]string{"due": rfc(due)}, Params: map[string]string{"amount": "40,000"},
					Citizen: kimRequest(nil).Citizen})
			require.NoError(t, err)
			remind := *stepOf(t, v, "remind3").Due
			f.clock.Advance(remind.Sub(f.clock.Now()))

			// What fire does, up to the crash.
			e, err := f.store.UpdateEnrolment(v.ID, func(e *allimi.Enrolment) error {
				st := e.Step("remind3")
				st.State, st.Changed = allimi.StepSending, f.clock.Now().UTC()
				return nil
			})
			require.NoError(t, err)
			if made {
				p, _ := f.svc.Programs.Get("traffic-penalty")
				ps, _ := p.Step("remind3")
				_, _, err := f.store.CreateNotification("police", stepKey(v.ID, "remind3"), p.request(&e, e.Step("remind3"), ps, f.clock.Now()))
				require.NoError(t, err)
			}
			f.restart(t)
			require.NoError(t, f.svc.SendDue())
			require.NoError(t, f.svc.SendDue())
			ns := f.notifications(t)
			require.Len(t, ns, 1, "one notification for the step")
			assert.Equal(t, "traffic-penalty/remind3", ns[0].Template)
			assert.Equal(t, "40,000", ns[0].Params["amount"])
			got, err := f.svc.Get("police", v.ID)
			require.NoError(t, err)
			assert.Equal(t, allimi.StepSent, stepOf(t, got, "remind3").State)
			assert.Equal(t, ns[0].ID, stepOf(t, got, "remind3").Notification)
		})
	}
}

func TestChange_ReschedulesWhatIsNotSent(t *testing.T) {
	f := newFixture(t)
	dose1 := t0().Add(30 * time.Hour) // the day after at 15:00: the reminder is at 10:00 today
	v, _, err := f.svc.Enrol("kdca", "vaccination", "", kimRequest(map[string]string{"dose1": rfc(dose1)}))
	require.NoError(t, err)
	f.clock.Advance(2 * time.Hour)
	require.NoError(t, f.svc.SendDue())
	v, err = f.svc.Get("kdca", v.ID)
	require.NoError(t, err)
	assert.Equal(t, allimi.StepSent, stepOf(t, v, "dose1.reminder").State)

	// The appointment moves a week on, and dose 2 is booked: the sent
	// reminder stays sent, dose 2's is placed.
	dose2 := dose1.AddDate(0, 0, 35)
	v, err = f.svc.Change("kdca", v.ID, &ChangeRequest{Anchors: map[string]string{"dose1": rfc(dose1.AddDate(0, 0, 7)), "dose2": rfc(dose2)}})
	require.NoError(t, err)
	assert.Equal(t, allimi.StepSent, stepOf(t, v, "dose1.reminder").State)
	r2 := stepOf(t, v, "dose2.reminder")
	require.NotNil(t, r2.Due)
	assert.True(t, time.Date(dose2.Year(), dose2.Month(), dose2.Day()-1, 10, 0, 0, 0, allimi.KST).Equal(*r2.Due))

	// A stale reminder comes back when its anchor moves on.
	pv, _, err := f.svc.Enrol("kdca", "vaccination", "", kimRequest(map[string]string{"dose1": rfc(f.clock.Now().Add(time.Hour))}))
	require.NoError(t, err)
	assert.Equal(t, allimi.StepStale, stepOf(t, pv, "dose1.reminder").State, "the day before has passed at enrolment")
	pv, err = f.svc.Change("kdca", pv.ID, &ChangeRequest{Anchors: map[string]string{"dose1": rfc(f.clock.Now().AddDate(0, 0, 3))}})
	require.NoError(t, err)
	assert.Equal(t, allimi.StepScheduled, stepOf(t, pv, "dose1.reminder").State)

	_, err = f.svc.Change("kdca", pv.ID, &ChangeRequest{Anchors: map[string]string{"dose3": rfc(dose2)}})
	var fe *allimi.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "anchors.dose3", fe.Field)
}

func TestCancelAndEndingEvents_DropWhatIsNotSent(t *testing.T) {
	f := newFixture(t)
	due := t0().AddDate(0, 0, 10)
	req := &EnrolRequest{Anchors: map[string]string{"due": rfc(due)}, Params: map[string]string{"amount": "40,000"}, Citizen: kimRequest(nil).Citizen}
	paid, _, err := f.svc.Enrol("police", "penalty", "", req)
	require.NoError(t, err)
	assert.Equal(t, "traffic-penalty", paid.Program, "an alias names the program")
	paid, err = f.svc.Event("police", paid.ID, &EventRequest{Event: "paid"})
	require.NoError(t, err)
	assert.Equal(t, allimi.StepCancelled, stepOf(t, paid, "remind3").State, "paid: no reminder")

	cancelled, _, err := f.svc.Enrol("police", "traffic-penalty", "", req)
	require.NoError(t, err)
	cancelled, err = f.svc.Cancel("police", cancelled.ID)
	require.NoError(t, err)
	require.NotNil(t, cancelled.Cancelled)
	assert.Equal(t, allimi.StepCancelled, stepOf(t, cancelled, "remind3").State)
	_, err = f.svc.Change("police", cancelled.ID, &ChangeRequest{Anchors: map[string]string{"due": rfc(due.AddDate(0, 0, 1))}})
	assert.ErrorIs(t, err, ErrCancelled)
	_, err = f.svc.Event("police", cancelled.ID, &EventRequest{Event: "paid"})
	assert.ErrorIs(t, err, ErrCancelled)
	again, err := f.svc.Cancel("police", cancelled.ID)
	require.NoError(t, err)
	assert.Equal(t, cancelled.Cancelled, again.Cancelled, "cancelling twice changes nothing")

	f.clock.Advance(10 * 24 * time.Hour)
	require.NoError(t, f.svc.SendDue())
	assert.Empty(t, f.notifications(t), "nothing sent for either")

	_, err = f.svc.Event("police", paid.ID, &EventRequest{Event: "dose1.administered"})
	var fe *allimi.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Reason, "known: paid")
}

func TestEnrol_RefusesBadRequestsNamingTheField(t *testing.T) {
	f := newFixture(t)
	dose1 := rfc(t0().AddDate(0, 0, 2))
	for _, c := range []struct {
		name, program, field string
		req                  *EnrolRequest
	}{
		{"bad mobile", "vaccination", "citizen.mobile", func() *EnrolRequest {
			r := kimRequest(map[string]string{"dose1": dose1})
			r.Citizen.Mobile = "02-123-4567"
			return r
		}()},
		{"bad birth date", "vaccination", "citizen.birthDate", func() *EnrolRequest {
			r := kimRequest(map[string]string{"dose1": dose1})
			r.Citizen.BirthDate = "1948-02-30"
			return r
		}()},
		{"missing anchor", "vaccination", "anchors.dose1", kimRequest(nil)},
		{"unknown anchor", "vaccination", "anchors.dose3", kimRequest(map[string]string{"dose1": dose1, "dose3": dose1})},
		{"not RFC 3339", "vaccination", "anchors.dose1", kimRequest(map[string]string{"dose1": "2027-03-10"})},
		{"unknown param", "vaccination", "params.clinic", func() *EnrolRequest {
			r := kimRequest(map[string]string{"dose1": dose1})
			r.Params = map[string]string{"clinic": "x"}
			return r
		}()},
		{"required param missing", "traffic-penalty", "params.amount", kimRequest(map[string]string{"due": dose1})},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := f.svc.Enrol("kdca", c.program, "", c.req)
			var fe *allimi.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, c.field, fe.Field)
		})
	}
	_, _, err := f.svc.Enrol("kdca", "hair-cut", "", kimRequest(nil))
	assert.ErrorIs(t, err, ErrUnknownProgram)
	assert.ErrorContains(t, err, "vaccination")
	assert.Empty(t, f.notifications(t))
	ds, err := f.store.DueSteps(t0().AddDate(1, 0, 0), 10)
	require.NoError(t, err)
	assert.Empty(t, ds, "nothing stored")
}
