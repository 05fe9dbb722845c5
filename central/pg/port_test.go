package pg

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/detail"
	"allimi/central/keyring"
	"allimi/internal/pgtest"
)

// portFixture is a bbolt central with something of every kind in it, as
// central's public APIs write it.
type portFixture struct {
	dir      string
	keys     *keyring.Keys
	kiosk    allimi.KioskCredentials
	agency   allimi.AgencyCredentials
	official allimi.OfficialCredentials
	enrol    string
	conflict []allimi.Conflict
	receipt  string
	stats    allimi.RegistryStats
	audit    allimi.AuditReport
	catalog  string
	notified allimi.Notification
	// link is the page of the accepted delivery's recipient, token its
	// number; one wrong date of birth was tried on it.
	link  string
	token uint64
	// people are the people per channel; daily the dated delivery counts.
	people map[allimi.Channel]int64
	daily  []allimi.DeliveryCount
}

var (
	portKim  = allimi.Citizen{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}
	portLee  = allimi.Citizen{Name: "이영희", Mobile: "010-9876-5432", BirthDate: "1948-11-30"}
	portPark = allimi.Citizen{Name: "박민수", Mobile: "010-5555-1212", BirthDate: "1955-05-05"}
)

func portEvent(t *testing.T, kiosk string, seq uint64, kind string, c allimi.Citizen, payload any, at time.Time) allimi.Event {
	t.Helper()
	b, err := json.Marshal(payload)
	require.NoError(t, err)
	e := allimi.Event{V: allimi.EventVersion, Kiosk: kiosk, Seq: seq, HLC: allimi.NextHLC(0, at), Kind: kind, Citizen: c, Payload: b}
	require.NoError(t, e.Validate(time.Now()))
	return e
}

func portGrants(action allimi.ConsentAction, at time.Time, typ allimi.NotificationType, chs ...allimi.Channel) []allimi.Consent {
	out := make([]allimi.Consent, len(chs))
	for i, ch := range chs {
		out[i] = allimi.Consent{Type: typ, Channel: ch, Action: action, By: allimi.Actor{Kind: allimi.ActorSelf}, At: at}
	}
	return out
}

func portCommit(t *testing.T, s allimi.Registry, in ...allimi.Incoming) {
	t.Helper()
	_, err := s.Commit(in)
	require.NoError(t, err)
}

func newPortFixture(t *testing.T) *portFixture {
	t.Helper()
	f := &portFixture{dir: t.TempDir()}
	var err error
	f.keys, err = keyring.Load(f.dir)
	require.NoError(t, err)
	s, err := bolt.OpenStore(filepath.Join(f.dir, bolt.DBFile), f.keys, bolt.StoreOptions{LinkBase: "https://allimi.example/d/"})
	require.NoError(t, err)
	defer s.Close()

	f.kiosk, err = s.AddKiosk("kiosk-a")
	require.NoError(t, err)
	require.NoError(t, s.SetKioskRegion("kiosk-a", "서울/종로구")) // its sign-ups are counted there
	_, err = s.AddKiosk("kiosk-b")
	require.NoError(t, err)
	f.agency, err = s.AddAgency("health-centre")
	require.NoError(t, err)
	_, err = s.PutTypeDef(allimi.TypeDef{ID: "parking-fine", File: []byte("[type]\nid = \"parking-fine\"\n")})
	require.NoError(t, err)
	due := time.Date(2027, 5, 1, 10, 0, 0, 0, allimi.KST).UTC()
	_, _, err = s.CreateEnrolment(allimi.Enrolment{ID: "enr-1", Program: "health-checkup", Agency: "health-centre",
		Citizen: []byte("ck"), Created: due.AddDate(0, -1, 0), Steps: []allimi.EnrolmentStep{
			{Step: "notice", State: allimi.StepSent, Notification: 1},
			{Step: "remind30", State: allimi.StepScheduled, Due: &due}}}, "enrol-1")
	require.NoError(t, err)
	require.NoError(t, s.SetAgencyPolicy("health-centre", allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeHealthCheckup}}))
	_, err = s.AddAgency("city-hall")
	require.NoError(t, err)
	f.official, err = s.AddOfficial("officer-kim", false)
	require.NoError(t, err)
	f.enrol, _, err = s.AddEnrolment("kiosk-c", time.Hour)
	require.NoError(t, err)

	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	f.receipt, err = allimi.NewReceiptCode()
	require.NoError(t, err)
	signup := portEvent(t, "kiosk-a", 1, allimi.KindSignup, portKim, allimi.ConsentPayload{
		Consents: append(portGrants(allimi.ActionGrant, t0, allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS),
			portGrants(allimi.ActionGrant, t0, allimi.TypeVaccination, allimi.ChannelSMS)...),
		Verified: true, Receipt: f.receipt}, t0)
	// An unverified sign-up: a confirmation to send.
	unverified := portEvent(t, "kiosk-a", 2, allimi.KindSignup, portLee, allimi.ConsentPayload{
		Consents: portGrants(allimi.ActionGrant, t0, allimi.TypeHealthCheckup, allimi.ChannelSMS)}, t0)
	park := portEvent(t, "kiosk-a", 3, allimi.KindSignup, portPark, allimi.ConsentPayload{
		Consents: portGrants(allimi.ActionGrant, t0, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, t0)
	portCommit(t, s, allimi.Incoming{Kiosk: "kiosk-a", Event: &signup}, allimi.Incoming{Kiosk: "kiosk-a", Event: &unverified},
		allimi.Incoming{Kiosk: "kiosk-a", Event: &park})
	// A withdrawal from another kiosk ten seconds later: a conflict.
	t1 := t0.Add(10 * time.Second)
	withdrawal := portEvent(t, "kiosk-b", 1, allimi.KindConsent, portKim, allimi.ConsentPayload{
		Consents: portGrants(allimi.ActionWithdraw, t1, allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, t1)
	portCommit(t, s, allimi.Incoming{Kiosk: "kiosk-b", Event: &withdrawal})
	cs, err := s.Conflicts(false)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.NoError(t, s.ResolveConflict(cs[0].ID, allimi.ActionGrant, "officer-kim"))
	// Feedback, a question, a refusal, a duplicate.
	fb := portEvent(t, "kiosk-b", 2, allimi.KindFeedback, allimi.Citizen{}, allimi.FeedbackPayload{Entry: "health-checkup-where", Helpful: true}, t1)
	code, err := allimi.NewQuestionCode()
	require.NoError(t, err)
	q := portEvent(t, "kiosk-b", 3, allimi.KindQuestion, allimi.Citizen{Name: "최지우", Mobile: "010-2222-3333"},
		allimi.QuestionPayload{Code: code, Lang: "ko", Text: "검진은 어디서 받나요?", Reply: string(allimi.ChannelKakao)}, t1)
	portCommit(t, s, allimi.Incoming{Kiosk: "kiosk-b", Event: &fb}, allimi.Incoming{Kiosk: "kiosk-b", Event: &q},
		allimi.Incoming{Kiosk: "kiosk-b", Reject: errors.New("payload: not JSON")}, allimi.Incoming{Kiosk: "kiosk-a", Event: &signup})
	qs, err := s.Questions(false)
	require.NoError(t, err)
	require.Len(t, qs, 1)
	_, err = s.AnswerQuestion(qs[0].ID, "officer-kim", "3층 민원실입니다.", false)
	require.NoError(t, err)
	// A receipt viewed: an audit entry of its own.
	_, err = s.Receipt(f.receipt, portKim.BirthDate)
	require.NoError(t, err)

	m, err := s.PutCatalog("consult-kb", 0, []byte(`{"entries":[]}`))
	require.NoError(t, err)
	mj, _ := json.Marshal(m)
	f.catalog = string(mj)

	// A notification to listed people, one delivery sent, one failed.
	n, _, err := s.CreateNotification("health-centre", "idem-1", portRequest())
	require.NoError(t, err)
	require.EqualValues(t, 2, n.Recipients)
	now := time.Now()
	require.NoError(t, s.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		r1 := allimi.DeliveryRef{Notification: n.ID, Seq: 1, Channel: allimi.ChannelSMS}
		r2 := allimi.DeliveryRef{Notification: n.ID, Seq: 2, Channel: allimi.ChannelSMS}
		if err := tx.PutDelivery(r1, allimi.DeliveryRecord{State: allimi.DeliveryAccepted, Attempts: 1, First: now.UnixMilli(), Updated: now.UnixMilli()}); err != nil {
			return err
		}
		if err := tx.PutDelivery(r2, allimi.DeliveryRecord{State: allimi.DeliveryRetrying, Attempts: 1, First: now.UnixMilli(), Updated: now.UnixMilli(), Reason: "timeout"}); err != nil {
			return err
		}
		if err := tx.PutDue(allimi.DueEntry{Ref: r2, At: now.Add(time.Minute)}); err != nil {
			return err
		}
		if err := tx.PutSendIntent(allimi.SendIntent{Ref: r1, At: now.UnixMilli(), Group: 1 << 63, Flags: 1, Fresh: true}); err != nil {
			return err
		}
		if err := tx.CountDailyDeliveries(allimi.DeliveryCell{Day: "2026-12-07", Region: "서울특별시/종로구", Type: allimi.TypeHealthCheckup,
			Channel: allimi.ChannelSMS, Outcome: "sent"}, 1); err != nil {
			return err
		}
		return tx.CountDeliveries(allimi.TypeHealthCheckup, allimi.ChannelSMS, "accepted", 1)
	}))
	f.people, err = s.ChannelSubscribers()
	require.NoError(t, err)
	require.EqualValues(t, 3, f.people[allimi.ChannelSMS])
	f.daily, err = s.DailyDeliveries("2026-12-01", "2026-12-31")
	require.NoError(t, err)
	require.NoError(t, s.PutQueueIntents(allimi.ChannelKakao, []string{"a1-1-kakao"}, allimi.QueueIntent{At: now.UnixMilli(), Group: 7}))
	require.NoError(t, s.ReadDeliveries(func(r allimi.DeliveryReader) error {
		o, err := r.Outgoing(&n, allimi.DeliveryRef{Notification: n.ID, Seq: 1, Channel: allimi.ChannelSMS})
		f.link, f.token = s.DetailLink(o.Ref, o.Token), o.Token
		return err
	}))
	_, err = s.Details.Check(f.link[strings.LastIndex(f.link, "/")+1:], "1950-01-03")
	require.ErrorIs(t, err, detail.ErrWrongBirthDate)
	f.notified, err = s.GetNotification(n.ID)
	require.NoError(t, err)

	f.conflict, err = s.Conflicts(true)
	require.NoError(t, err)
	f.stats, err = s.Stats()
	require.NoError(t, err)
	f.audit, err = s.VerifyAudit()
	require.NoError(t, err)
	require.NotZero(t, f.stats.Conflicts+1)
	return f
}

// portRequest is the fixture's notification: to listed people, one with
// parameters of their own.
func portRequest() *allimi.NotificationRequest {
	req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Params: map[string]string{"year": "2026"},
		Title: "국가건강검진 안내"}
	req.Audience.Citizens = []allimi.RecipientRequest{{Mobile: portKim.Mobile, BirthDate: portKim.BirthDate, Params: map[string]string{"year": "2027"}},
		{Mobile: portPark.Mobile, BirthDate: portPark.BirthDate}}
	return req
}

func migratedURL(t *testing.T) string {
	t.Helper()
	url := pgtest.URL(t)
	_, err := Migrate(context.Background(), url)
	require.NoError(t, err)
	return url
}

func openPort(t *testing.T, url string, keys *keyring.Keys) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, WithKeys(keys))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func port(t *testing.T, f *portFixture, s *Store) (PortReport, error) {
	t.Helper()
	r, err := bolt.OpenReader(filepath.Join(f.dir, bolt.DBFile))
	require.NoError(t, err)
	defer r.Close()
	return s.Port(r)
}

func countOf(rep PortReport, kind string) int64 {
	for _, c := range rep.Counts {
		if c.Kind == kind {
			return c.Copied
		}
	}
	return -1
}

func TestPort_CopiesEveryPart(t *testing.T) {
	f := newPortFixture(t)
	s := openPort(t, migratedURL(t), f.keys)
	rep, err := port(t, f, s)
	require.NoError(t, err)

	for kind, n := range map[string]int64{"kiosks": 2, "agencies": 2, "officials": 1, "events": 6, "people": 3,
		"consents": 5, "consent-log entries": 4, "conflicts": 1, "receipts": 3, "confirmations": 1, "rejections": 1,
		"feedback": 1, "questions": 1, "catalogs": 1, "notifications": 1, "recipients": 2, "deliveries": 2,
		"due deliveries": 1, "send-intents": 1, "queue-intents": 1, "delivery counts": 1, "answers to send": 1,
		"dated delivery counts": 1, "people's regions": 3,
		"shared details": 1, "detail page tries": 1, "enrolments in programs": 1, "program steps to act on": 1, "types put": 1,
		"audit entries": int64(f.audit.Entries)} {
		assert.Equal(t, n, countOf(rep, kind), kind)
	}
	for _, c := range rep.Counts {
		assert.Equal(t, c.Copied, c.Read, c.Kind)
	}
	var left []string
	for _, l := range rep.NotCopied {
		left = append(left, l.Bucket)
	}
	assert.Contains(t, left, "detail-tokens")
	assert.Contains(t, left, "subs")

	st, err := s.Stats()
	require.NoError(t, err)
	assert.Equal(t, f.stats, st)
	ar, err := s.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, f.audit.Entries, ar.Entries)
	assert.Equal(t, f.audit.Head, ar.Head)

	v, err := s.Receipt(f.receipt, portKim.BirthDate)
	require.NoError(t, err)
	assert.Equal(t, portKim.MaskedName(), v.Name)
	_, err = s.Receipt(f.receipt, "1950-01-03")
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	for _, c := range []struct {
		who  allimi.Citizen
		typ  allimi.NotificationType
		ch   allimi.Channel
		want allimi.ConsentAction
	}{
		{portKim, allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ActionGrant}, // the conflict's resolution
		{portKim, allimi.TypeVaccination, allimi.ChannelSMS, allimi.ActionGrant},
		{portLee, allimi.TypeHealthCheckup, allimi.ChannelSMS, allimi.ActionGrant},
	} {
		a, ok, err := s.ConsentOf(c.who.Mobile, c.who.BirthDate, c.typ, c.ch)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, c.want, a)
	}
	// The statistics: kiosks' and people's regions, people per channel,
	// the dated counts.
	region, err := s.KioskRegion("kiosk-a")
	require.NoError(t, err)
	assert.Equal(t, "서울특별시/종로구", region)
	people, err := s.ChannelSubscribers()
	require.NoError(t, err)
	assert.Equal(t, f.people, people)
	daily, err := s.DailyDeliveries("2026-12-01", "2026-12-31")
	require.NoError(t, err)
	assert.Equal(t, f.daily, daily)
	require.NoError(t, s.ReadDeliveries(func(r allimi.DeliveryReader) error {
		o, err := r.Outgoing(&f.notified, allimi.DeliveryRef{Notification: f.notified.ID, Seq: 1, Channel: allimi.ChannelSMS})
		assert.Equal(t, "서울특별시/종로구", o.Region, "kim signed up at kiosk-a")
		return err
	}))

	id, ok := s.CheckKiosk(f.kiosk.Username, f.kiosk.Password)
	assert.True(t, ok)
	assert.Equal(t, "kiosk-a", id)
	who, ok := s.AgencyByToken(f.agency.Token)
	assert.True(t, ok)
	assert.Equal(t, "health-centre", who)
	pol, err := s.AgencyPolicyOf("health-centre")
	require.NoError(t, err)
	assert.Equal(t, []allimi.NotificationType{allimi.TypeHealthCheckup}, pol.Types)
	off, err := s.OfficialByToken(f.official.Token)
	require.NoError(t, err)
	assert.Equal(t, "officer-kim", off)
	kc, err := s.RedeemEnrolment(f.enrol)
	require.NoError(t, err)
	assert.Equal(t, "kiosk-c", kc.ID)
	conflicts, err := s.Conflicts(true)
	require.NoError(t, err)
	assert.Equal(t, f.conflict, conflicts)

	c, ok, err := s.Catalog("consult-kb")
	require.NoError(t, err)
	require.True(t, ok)
	mj, _ := json.Marshal(c.Manifest)
	assert.JSONEq(t, f.catalog, string(mj))
	n, err := s.GetNotification(f.notified.ID)
	require.NoError(t, err)
	assert.Equal(t, f.notified.Recipients, n.Recipients)
	pend, err := s.PendingConfirmations(10)
	require.NoError(t, err)
	assert.Len(t, pend, 1)

	// The link sent from bbolt opens on PostgreSQL, its wrong try counted.
	d, err := s.OpenDetails("https://allimi.example/d/", nil)
	require.NoError(t, err)
	r1 := allimi.DeliveryRef{Notification: f.notified.ID, Seq: 1, Channel: allimi.ChannelSMS}
	assert.Equal(t, f.link, s.DetailLink(r1, f.token), "the same link")
	token := f.link[strings.LastIndex(f.link, "/")+1:]
	_, err = d.Check(token, "1950-01-04")
	var wrong *detail.WrongBirthDateError
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, 3, wrong.TriesLeft, "the wrong try on bbolt came along")
	page, err := d.Check(token, portKim.BirthDate)
	require.NoError(t, err)
	assert.Equal(t, "국가건강검진 안내", page.Title)
	assert.Contains(t, page.Fields, detail.Field{Label: "대상 연도", Value: "2027"}, "the recipient's own parameter")

	// New ids go on after the copied ones.
	m, err := s.PutCatalog("consult-kb", 0, []byte("{}"))
	require.NoError(t, err)
	assert.EqualValues(t, 2, m.Version)
	n2, _, err := s.CreateNotification("health-centre", "idem-2", portRequest())
	require.NoError(t, err)
	assert.Greater(t, n2.ID, f.notified.ID)
	assert.EqualValues(t, 2, n2.Recipients, "both people are still subscribed on PostgreSQL")
	rep2, repeat, err := s.CreateNotification("health-centre", "idem-1", portRequest())
	require.NoError(t, err)
	assert.True(t, repeat, "the Idempotency-Key came along")
	assert.Equal(t, f.notified.ID, rep2.ID)

	// The types put, and their next version.
	td, err := s.PutTypeDef(allimi.TypeDef{ID: "parking-fine", File: []byte("v2")})
	require.NoError(t, err)
	assert.EqualValues(t, 2, td.Version)

	// Enrolments in programs, their keys and their steps' index too.
	due := time.Date(2027, 5, 1, 10, 0, 0, 0, allimi.KST)
	ds, err := s.DueSteps(due, 10)
	require.NoError(t, err)
	assert.Equal(t, []allimi.DueStep{{Enrolment: "enr-1", Step: "remind30", At: due.UTC()}}, ds)
	e, repeat, err := s.CreateEnrolment(allimi.Enrolment{ID: "enr-2", Agency: "health-centre"}, "enrol-1")
	require.NoError(t, err)
	assert.True(t, repeat)
	assert.Equal(t, "enr-1", e.ID)
}

func TestPort_RefusesANonEmptyDatabase(t *testing.T) {
	f := newPortFixture(t)
	s := openPort(t, migratedURL(t), f.keys)
	_, err := s.AddKiosk("kiosk-z")
	require.NoError(t, err)
	before, err := s.Stats()
	require.NoError(t, err)

	_, err = port(t, f, s)
	require.ErrorIs(t, err, ErrNotEmpty)
	assert.Contains(t, err.Error(), "kiosks")
	after, err := s.Stats()
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing changed")
	var kiosks int
	require.NoError(t, s.pool.QueryRow(context.Background(), `SELECT count(*) FROM kiosks`).Scan(&kiosks))
	assert.Equal(t, 1, kiosks)
	ar, err := s.VerifyAudit()
	require.NoError(t, err)
	assert.Zero(t, ar.Entries)

	// A second port into a database already ported is refused too.
	s2 := openPort(t, migratedURL(t), f.keys)
	_, err = port(t, f, s2)
	require.NoError(t, err)
	_, err = port(t, f, s2)
	assert.ErrorIs(t, err, ErrNotEmpty)
}

func TestPort_RefusesAFileInUse(t *testing.T) {
	f := newPortFixture(t)
	s, err := bolt.OpenStore(filepath.Join(f.dir, bolt.DBFile), f.keys, bolt.StoreOptions{})
	require.NoError(t, err)
	defer s.Close()
	_, err = bolt.OpenReader(filepath.Join(f.dir, bolt.DBFile))
	assert.ErrorIs(t, err, bolt.ErrInUse)
}
