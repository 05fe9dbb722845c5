package central_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/channel"
	"allimi/central/keyring"
	"allimi/central/notify"
	"allimi/central/pg"
	"allimi/central/programs"
	"allimi/central/template"
	"allimi/internal/centraltest"
	"allimi/internal/loadgen"
	"allimi/internal/pgtest"
	"allimi/internal/testaddr"
)

// fanout is a central with fake providers and a populated registry.
type fanout struct {
	tc      *testCentral
	fake    *channel.Fake
	fakeURL string
	token   string // agency token
	keys    *keyring.Keys
	people  []allimi.Citizen
	store   string // the PostgreSQL database's URL; empty on bbolt
}

type fanoutOptions struct {
	people        int
	channels      []allimi.Channel
	faults        []channel.Fault
	now           func() time.Time
	horizon       time.Duration
	receipts      bool
	undeliverable float64
	// breakerFailures overrides the dispatcher's default (5) when set.
	breakerFailures int
	// noDedupe makes the fake take a resent key as a new message, as NHN
	// Cloud and Naver SENS do.
	noDedupe bool
	// postgres runs central on a PostgreSQL database of the test's own
	// (internal/pgtest) instead of its bbolt file.
	postgres bool
	// langs[i], when set, is the language person i+1 signed up in: a
	// sign-up at a kiosk in it, after the seeding.
	langs []string
	// setup writes more into the store before central starts (people
	// signed up at kiosks, the kiosks' regions).
	setup func(st fanoutSetup)
}

// fanoutSetup is what newFanout writes into either store before central
// starts.
type fanoutSetup interface {
	loadgen.Importer
	allimi.Registry
	allimi.Kiosks
	allimi.KioskRegions
	AddAgency(id string) (allimi.AgencyCredentials, error)
	SetAgencyPolicy(id string, p allimi.AgencyPolicy) error
	SetAgencyName(id, name string) error
	Commit(batch []allimi.Incoming) (allimi.CommitOutcome, error)
}

func newFanout(t *testing.T, o fanoutOptions) *fanout {
	t.Helper()
	// The fake's listener first: a port picked for central next cannot be it.
	var fakeHandler http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fakeHandler.ServeHTTP(w, r) }))
	// HTTP on a port known before the start: links and receipts name it.
	c := centraltest.New(t, func(cfg *central.Config) {
		cfg.HTTP = testaddr.Free(t) // the links follow it (no LinkBase given)
		cfg.Dispatch.BaseBackoff = 10 * time.Millisecond
		cfg.Dispatch.MaxBackoff = 50 * time.Millisecond
		cfg.Dispatch.BreakerCooldown = 200 * time.Millisecond
		if o.horizon > 0 {
			cfg.Dispatch.Horizon = o.horizon
		}
		if o.breakerFailures > 0 {
			cfg.Dispatch.BreakerFailures = o.breakerFailures
		}
		if o.now != nil {
			cfg.Dispatch.Now = o.now
		}
	})
	if o.channels == nil {
		o.channels = []allimi.Channel{allimi.ChannelKakao}
	}
	f := &fanout{}
	setup := func(st fanoutSetup, keys *keyring.Keys) {
		types := []allimi.NotificationType{allimi.TypeHealthCheckup, allimi.TypeTrafficFine}
		require.NoError(t, loadgen.Seed(st, o.people, types, o.channels))
		signUpIn(t, st, o.langs, types, o.channels)
		ag, err := st.AddAgency("nhis")
		require.NoError(t, err)
		require.NoError(t, st.SetAgencyPolicy("nhis", allimi.AgencyPolicy{
			Types:        []allimi.NotificationType{allimi.TypeHealthCheckup, allimi.TypeTrafficFine, allimi.TypeTrafficPenalty, allimi.TypeVaccination},
			PaymentHosts: []string{"www.efine.go.kr"}}))
		require.NoError(t, st.SetAgencyName("nhis", "국민건강보험공단"))
		f.token, f.keys = ag.Token, keys
		if o.setup != nil {
			o.setup(st)
		}
	}
	if o.postgres {
		c.Config.Store = pgtest.URL(t)
		_, err := pg.Migrate(context.Background(), c.Config.Store)
		require.NoError(t, err)
		keys, err := keyring.Load(c.Config.Data)
		require.NoError(t, err)
		st, err := pg.Open(context.Background(), c.Config.Store, pg.WithKeys(keys))
		require.NoError(t, err)
		setup(st, keys)
		require.NoError(t, st.Close())
		f.store = c.Config.Store
	} else {
		c.Store(func(st *bolt.Store, keys *keyring.Keys) { setup(st, keys) })
	}
	for i := 1; i <= o.people; i++ {
		f.people = append(f.people, loadgen.Signup("seed", uint64(i), nil, time.Now()).Citizen)
	}
	fo := channel.FakeOptions{Faults: o.faults, Seed: 1, Undeliverable: o.undeliverable, NoDedupe: o.noDedupe,
		Templates: registeredTemplates(t)}
	if o.receipts {
		fo.ReceiptsURL = "http://" + c.Config.HTTP + "/api/v1/receipts?token=" + f.keys.ReceiptToken
		fo.ReceiptInterval = 10 * time.Millisecond
	}
	f.fake = channel.NewFake(fo)
	fakeHandler = f.fake.Handler()
	srv.Start()
	t.Cleanup(func() { srv.Close(); f.fake.Close() })
	f.fakeURL = srv.URL
	c.Config.ProviderURL = srv.URL
	c.Start()
	f.tc = seen(c)
	return f
}

// signUpIn records, for each seeded person i+1 with a langs[i], a sign-up
// in that language at a kiosk, as central's ingest would.
func signUpIn(t *testing.T, st fanoutSetup, langs []string, types []allimi.NotificationType, channels []allimi.Channel) {
	t.Helper()
	var batch []allimi.Incoming
	now := time.Now()
	for i, lang := range langs {
		if lang == "" {
			continue
		}
		d := loadgen.SignupOf(loadgen.Person(loadgen.SeedKiosk, uint64(i+1)), types, channels, lang, now)
		d.Payload.(*allimi.ConsentPayload).Verified = true // no confirmation SMS
		p, err := json.Marshal(d.Payload)
		require.NoError(t, err)
		seq := uint64(len(batch) + 1)
		batch = append(batch, allimi.Incoming{Kiosk: "lang-kiosk", Event: &allimi.Event{V: 1, Kiosk: "lang-kiosk", Seq: seq,
			HLC: allimi.NextHLC(0, now) + seq, Kind: d.Kind, Citizen: d.Citizen, Payload: p}})
	}
	if len(batch) == 0 {
		return
	}
	out, err := st.Commit(batch)
	require.NoError(t, err)
	require.Equal(t, len(batch), out.Stored, "%+v", out)
}

// registeredTemplates are central's AlimTalk templates, the types' and the
// programs' steps', as registered with Kakao: the fake renders with them.
func registeredTemplates(t *testing.T) map[string]string {
	t.Helper()
	set, err := template.Default()
	require.NoError(t, err)
	progs, err := programs.Default()
	require.NoError(t, err)
	set, err = progs.Templates(set)
	require.NoError(t, err)
	return set.ProviderTemplates(allimi.ChannelKakao)
}

func (f *fanout) post(t *testing.T, body, idem string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.tc.http+"/api/v1/notifications", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// metric reads one figure of the delivery table.
func (f *fanout) metric(t *testing.T, typ allimi.NotificationType, ch allimi.Channel, m string) int64 {
	t.Helper()
	var st struct {
		Delivery map[string]map[string]map[string]int64 `json:"delivery"`
	}
	getJSONAs(t, f.tc.http+"/api/v1/stats", f.keys.AdminToken, &st)
	return st.Delivery[string(typ)][string(ch)][m]
}

// waitMetric polls until the figure reaches want.
func (f *fanout) waitMetric(t *testing.T, typ allimi.NotificationType, ch allimi.Channel, m string, want int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if f.metric(t, typ, ch, m) >= want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s/%s %s did not reach %d (is %d)", typ, ch, m, want, f.metric(t, typ, ch, m))
}

func (f *fanout) fakeStats(t *testing.T) channel.FakeStats {
	t.Helper()
	return f.fake.Stats()
}

func listed(people ...allimi.Citizen) string {
	var cs []string
	for _, p := range people {
		cs = append(cs, fmt.Sprintf(`{"mobile":%q,"birthDate":%q}`, p.Mobile, p.BirthDate))
	}
	return strings.Join(cs, ",")
}

func TestNotify_ListedCitizensGetItOnTheirChannelAndTheRestAreCounted(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 3})
	stranger := allimi.Citizen{Mobile: "010-9999-0000", BirthDate: "1944-04-04"}
	body := `{"type":"traffic-fine","params":{"amount":"40,000","dueDate":"2026-12-31","violation":"신호위반"},
	  "audience":{"citizens":[` + listed(f.people[0], f.people[1], stranger) + `]}, "urgent":true,
	  "paymentUrl":"https://www.efine.go.kr/pay"}`
	code, resp := f.post(t, body, "")
	require.Equal(t, http.StatusAccepted, code, resp)
	assert.EqualValues(t, 2, resp["recipients"])
	assert.EqualValues(t, 1, resp["notSubscribed"])
	f.waitMetric(t, allimi.TypeTrafficFine, allimi.ChannelKakao, notify.MetricSent, 2)

	msgs := f.fake.Messages(allimi.ChannelKakao)
	require.Len(t, msgs, 2)
	got := map[string]channel.FakeMessage{}
	for _, m := range msgs {
		got[m.Recipient] = m
	}
	for _, p := range f.people[:2] {
		m, ok := got[p.Mobile]
		require.True(t, ok, "%s got nothing", p.Mobile)
		assert.Equal(t, "accepted", m.Status)
		assert.Contains(t, m.Text, p.Name)
		assert.Contains(t, m.Text, "40,000")
		assert.Contains(t, m.Text, "http://"+f.tc.cfg.HTTP+"/n/")
	}
	assert.NotContains(t, got, f.people[2].Mobile, "not listed")
}

func TestNotify_IdempotencyKeyRepeatReturnsTheFirstResult(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 2})
	body := `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`
	code, first := f.post(t, body, "nhis-2026-checkup")
	require.Equal(t, http.StatusAccepted, code, first)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 2)
	code, again := f.post(t, body, "nhis-2026-checkup")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, first["id"], again["id"])
	assert.Equal(t, true, again["repeat"])
	assert.Len(t, f.fake.Messages(allimi.ChannelKakao), 2, "nothing sent twice")
}

func TestNotify_InvalidBodiesAre400WithTheFieldAndReason(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 1})
	p := f.people[0]
	cases := []struct{ name, body, field, reason string }{
		{"unknown type", `{"type":"parking","audience":{"all":true}}`, "type", "unknown notification type"},
		{"no audience", `{"type":"health-checkup","params":{"year":"2026"}}`, "audience", "either"},
		{"both audiences", `{"type":"health-checkup","params":{"year":"2026"},"audience":{"all":true,"citizens":[` + listed(p) + `]}}`, "audience", "either"},
		{"missing parameter", `{"type":"health-checkup","audience":{"all":true}}`, "params.year", "required"},
		{"unknown parameter", `{"type":"health-checkup","audience":{"all":true},"params":{"year":"2026","colour":"red"}}`, "params.colour", "not a parameter"},
		{"bad mobile", `{"type":"health-checkup","params":{"year":"2026"},"audience":{"citizens":[{"mobile":"011-1234-5678","birthDate":"1950-01-02"}]}}`, "audience.citizens[0].mobile", "010"},
		{"impossible birth date", `{"type":"health-checkup","params":{"year":"2026"},"audience":{"citizens":[{"mobile":"010-1234-5678","birthDate":"1950-02-30"}]}}`, "audience.citizens[0].birthDate", "real date"},
		{"unknown field", `{"type":"health-checkup","audience":{"all":true},"params":{"year":"2026"},"colour":"red"}`, "body", "unknown field"},
		{"wrong type", `{"type":"health-checkup","audience":{"all":"yes"}}`, "audience.all", "bool"},
		{"payment on a check-up", `{"type":"health-checkup","audience":{"all":true},"params":{"year":"2026"},"paymentUrl":"https://x.kr"}`, "paymentUrl", "nothing to pay"},
		{"http payment link", `{"type":"traffic-penalty","audience":{"all":true},"params":{"amount":"1","dueDate":"d","violation":"v"},"paymentUrl":"http://x.kr"}`, "paymentUrl", "https"},
		{"not JSON", `{"type":`, "body", "unexpected EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, resp := f.post(t, c.body, "")
			assert.Equal(t, http.StatusBadRequest, code)
			assert.Equal(t, c.field, resp["field"])
			assert.Contains(t, resp["reason"], c.reason)
		})
	}
	// Wrong token.
	req, _ := http.NewRequest(http.MethodPost, f.tc.http+"/api/v1/notifications", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer nope")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Empty(t, f.fake.Messages(""), "nothing was sent")
}

func TestNotify_CampaignReachesEverySubscriberOnce(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 2500, channels: []allimi.Channel{allimi.ChannelKakao, allimi.ChannelNaver}})
	code, resp := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code, resp)
	assert.EqualValues(t, 2500, resp["recipients"])
	assert.EqualValues(t, 5000, resp["deliveries"])
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 2500)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelNaver, notify.MetricSent, 2500)
	st := f.fakeStats(t)
	assert.EqualValues(t, 2500, st.Accepted[allimi.ChannelKakao])
	assert.EqualValues(t, 2500, st.Accepted[allimi.ChannelNaver])
}

func TestNotify_NotAKakaoUserFallsBackToSMS(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 20, faults: []channel.Fault{{Channel: allimi.ChannelKakao, Kind: channel.FaultNotUser, Rate: 1}}})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricSent, 20)
	assert.EqualValues(t, 20, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricFellBack))
	assert.Len(t, f.fake.Messages(allimi.ChannelSMS), 20)
}

// Someone who is not a KakaoTalk user but also consented to SMS gets the
// notice by their own SMS: the refusal counts as a fallback, no second SMS
// goes, and nothing is dead-lettered (dead letters are for what could not
// reach the person at all).
func TestNotify_NotAKakaoUserWithSMSFallsBackToTheirSMSNotToTheDeadLetters(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 10, channels: []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS},
		faults: []channel.Fault{{Channel: allimi.ChannelKakao, Kind: channel.FaultNotUser, Rate: 1}}})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricFellBack, 10)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricSent, 10)
	assert.Zero(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricDeadLetter))
	assert.Zero(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricFailed))
	var dl struct{ Total int }
	getJSONAs(t, f.tc.http+"/api/v1/deadletters", f.keys.AdminToken, &dl)
	assert.Zero(t, dl.Total)
	// Nothing more is coming: no SMS was queued besides their own.
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, f.fake.Messages(allimi.ChannelSMS), 10, "one SMS each")
	assert.EqualValues(t, 10, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricSent))
}

func TestNotify_ProviderOutageTripsTheBreakerAndFallsBack(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 30, faults: []channel.Fault{{Channel: allimi.ChannelKakao, Kind: channel.FaultOutage, Rate: 1}}})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricSent, 30)
	assert.EqualValues(t, 30, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricFellBack))
	assert.Zero(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent))
}

// NHN Cloud down: KakaoTalk goes through Naver Cloud SENS, each message
// once, and nothing falls back to SMS.
func TestNotify_KakaoFailsOverToSENSWhileNHNIsDown(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 300, noDedupe: true,
		faults: []channel.Fault{{Channel: channel.FakeNHN, Kind: channel.FaultOutage, Rate: 1}}})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 300)
	st := f.fakeStats(t)
	assert.EqualValues(t, 300, st.Accepted[allimi.ChannelKakao])
	assert.EqualValues(t, 300, st.Providers["kakao.sens"].Accepted, "all through SENS")
	assert.Zero(t, st.Repeats[allimi.ChannelKakao], "no message was sent twice")
	assert.Zero(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricFellBack))
	for _, m := range f.fake.Messages(allimi.ChannelKakao) {
		assert.Contains(t, m.Text, "2026", "SENS carries the full text")
	}
}

func TestNotify_TransientErrorsAreRetriedAndNothingIsAcceptedTwice(t *testing.T) {
	// At one request in two failing, five failures in a row come often
	// enough (1 run in 40 before send-intents, 3 in 40 with them) to
	// trip the breaker and send the rest by SMS: that is the breaker's
	// test (TestNotify_ProviderOutageTripsTheBreakerAndFallsBack), not this one.
	f := newFanout(t, fanoutOptions{people: 200, breakerFailures: 1000,
		faults: []channel.Fault{{Channel: allimi.ChannelKakao, Kind: channel.FaultError, Rate: 0.5}}})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 200)
	st := f.fakeStats(t)
	assert.EqualValues(t, 200, st.Accepted[allimi.ChannelKakao], "each accepted once")
	assert.Positive(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricRetried))
}

// A request the provider took but whose answer was lost looks like one
// that never arrived; central asks the provider before it sends again.
func TestNotify_LostAnswersAreLookedUpNotResent(t *testing.T) {
	for _, ch := range []allimi.Channel{allimi.ChannelKakao, allimi.ChannelNaver, allimi.ChannelToss, allimi.ChannelSMS} {
		t.Run(string(ch), func(t *testing.T) {
			f := newFanout(t, fanoutOptions{people: 120, channels: []allimi.Channel{ch}, breakerFailures: 1000, noDedupe: true,
				faults: []channel.Fault{{Channel: ch, Kind: channel.FaultLostAnswer, Rate: 0.5}}})
			code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
			require.Equal(t, http.StatusAccepted, code)
			f.waitMetric(t, allimi.TypeHealthCheckup, ch, notify.MetricSent, 120)
			st := f.fakeStats(t)
			require.Positive(t, st.Faults[ch], "answers were lost")
			assert.Zero(t, st.Repeats[ch], "no message was sent twice")
			assert.EqualValues(t, 120, st.Accepted[ch])
		})
	}
}

func TestNotify_SMSThatKeepsFailingIsDeadLetteredAndReplayed(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 5, channels: []allimi.Channel{allimi.ChannelSMS}, horizon: 100 * time.Millisecond,
		faults: []channel.Fault{{Channel: allimi.ChannelSMS, Kind: channel.FaultError, Rate: 1}}})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricDeadLetter, 5)

	var dl struct {
		Total       int
		Deadletters []allimi.DeadLetter
	}
	req, _ := http.NewRequest(http.MethodGet, f.tc.http+"/api/v1/deadletters", nil)
	req.Header.Set("Authorization", "Bearer "+f.keys.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&dl))
	resp.Body.Close()
	require.Equal(t, 5, dl.Total)
	assert.Equal(t, allimi.ChannelSMS, dl.Deadletters[0].Channel)
	assert.NotEmpty(t, dl.Deadletters[0].Reason)

	// The gateway recovers; the operator replays one, then the rest.
	require.NoError(t, f.fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultError, Rate: 0}))
	code2, body := postJSON(t, f.tc.http+"/api/v1/deadletters/"+dl.Deadletters[0].ID+"/replay", f.keys.AdminToken, "")
	require.Equal(t, http.StatusOK, code2, body)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricSent, 1)
	code2, body = postJSON(t, f.tc.http+"/api/v1/deadletters/replay", f.keys.AdminToken, "")
	require.Equal(t, http.StatusOK, code2, body)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricSent, 5)
	assert.Len(t, f.fake.Messages(allimi.ChannelSMS), 5)
}

func TestNotify_ReceiptsMarkDeliveredAndFailedOnesFallBack(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 10, receipts: true})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricDelivered, 10)
}

func TestNotify_QuietHoursHoldNonUrgentNotices(t *testing.T) {
	night := time.Date(2026, 11, 23, 22, 30, 0, 0, time.FixedZone("KST", 9*3600))
	f := newFanout(t, fanoutOptions{people: 3, now: func() time.Time { return night }})
	code, held := f.post(t, `{"type":"health-checkup","audience":{"all":true},"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	code, _ = f.post(t, `{"type":"traffic-fine","audience":{"all":true},"urgent":true,"params":{"amount":"1","dueDate":"d","violation":"v"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	// The urgent one goes at once; once it is through, the other is surely held.
	f.waitMetric(t, allimi.TypeTrafficFine, allimi.ChannelKakao, notify.MetricSent, 3)
	assert.Zero(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent))
	var n map[string]any
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/notifications/%v", f.tc.http, held["id"]), nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&n))
	resp.Body.Close()
	assert.Equal(t, "sending", n["status"])
}

// On PostgreSQL the providers' token buckets are the database's, shared by
// every central on it (pg.Store.TakeTokens): sending takes from kakao's.
func TestNotify_OnPostgresTheProvidersRateIsSharedThroughTheDatabase(t *testing.T) {
	start := time.Now()
	f := newFanout(t, fanoutOptions{people: 20, postgres: true})
	code, resp := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code, resp)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 20)

	conn, err := pgx.Connect(context.Background(), f.store)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var at time.Time
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT at FROM rate_buckets WHERE channel = 'kakao'`).Scan(&at))
	assert.True(t, at.After(start), "kakao's bucket was taken from (at %s)", at)
}

func TestNotify_DetailPageAsksTheBirthDateThenShowsTheFineAndPaymentLink(t *testing.T) {
	for _, store := range []string{"bolt", "postgres"} {
		t.Run(store, func(t *testing.T) { testDetailPage(t, store == "postgres") })
	}
}

func testDetailPage(t *testing.T, postgres bool) {
	f := newFanout(t, fanoutOptions{people: 1, postgres: postgres})
	p := f.people[0]
	body := `{"type":"traffic-fine","params":{"amount":"40,000","dueDate":"2026-12-31","violation":"신호위반"},
	  "audience":{"citizens":[` + listed(p) + `]}, "urgent":true, "title":"교통 범칙금 안내",
	  "fields":[{"label":"단속 장소","value":"세종로 사거리"}], "paymentUrl":"https://www.efine.go.kr/pay"}`
	code, resp := f.post(t, body, "")
	require.Equal(t, http.StatusAccepted, code, resp)
	f.waitMetric(t, allimi.TypeTrafficFine, allimi.ChannelKakao, notify.MetricSent, 1)
	msgs := f.fake.Messages(allimi.ChannelKakao)
	require.Len(t, msgs, 1)
	i := strings.Index(msgs[0].Text, "http://"+f.tc.cfg.HTTP+"/n/")
	require.GreaterOrEqual(t, i, 0, msgs[0].Text)
	link := strings.Fields(msgs[0].Text[i:])[0]
	assert.NotContains(t, link, p.Mobile)
	assert.NotContains(t, link, strings.ReplaceAll(p.BirthDate, "-", ""))

	resp1, err := http.Get(link)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp1.Body)
	resp1.Body.Close()
	assert.Equal(t, http.StatusOK, resp1.StatusCode)
	assert.NotContains(t, string(page), "40,000", "nothing before the check")

	post := func(birth string) (int, string) {
		r, err := http.PostForm(link, map[string][]string{"birthDate": {birth}})
		require.NoError(t, err)
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	code, html := post("1930-01-01")
	assert.Equal(t, http.StatusForbidden, code)
	assert.NotContains(t, html, "40,000")
	auditEntries := func() int {
		req, _ := http.NewRequest(http.MethodGet, f.tc.http+"/api/v1/audit/verify", nil)
		req.Header.Set("Authorization", "Bearer "+f.keys.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var r allimi.AuditReport
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		return r.Entries
	}
	before := auditEntries()
	code, html = post(p.BirthDate)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, before+1, auditEntries(), "the view is in the audit log")
	assert.Contains(t, html, "40,000")
	assert.Contains(t, html, "신호위반")
	assert.Contains(t, html, "세종로 사거리")
	assert.Contains(t, html, "국민건강보험공단", "the agency by its name")
	assert.Contains(t, html, "https://www.efine.go.kr/pay")
}

func TestNotify_StatsTableAsJSONAndHTML(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 4})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 4)
	assert.EqualValues(t, 4, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, "subscribers"))

	resp, err := http.Get(f.tc.http + "/stats")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(b), "국가건강검진")
	assert.Regexp(t, `<td class="l">kakao</td><td>4</td><td>4</td>`, string(b))

	// The counters move just after the commit the stats above read: wait
	// for the lane's last one, the commit time it observes on return.
	require.Eventually(t, func() bool {
		resp, err := http.Get(f.tc.http + "/metrics")
		if err != nil {
			return false
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(b), `allimi_dispatch_commit_seconds_bucket{channel="kakao"`) &&
			strings.Contains(string(b), `allimi_deliveries_total{channel="kakao",result="sent"}`)
	}, 10*time.Second, 20*time.Millisecond, "the kakao lane's commit is observed")
	assert.Contains(t, string(b), `allimi_deliveries_total{channel="kakao",result="sent"} 4`)
	assert.Contains(t, string(b), `allimi_provider_request_seconds_bucket{channel="kakao"`)
	assert.Regexp(t, `allimi_dispatch_commit_batches_sum\{channel="kakao"\} [1-9]`, string(b), "batches recorded")
	assert.Contains(t, string(b), `allimi_dispatch_commit_seconds_bucket{channel="kakao"`)
}

func TestNotify_NDJSONListsLargeAudiences(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 300})
	var b strings.Builder
	b.WriteString(`{"type":"vaccination","params":{"date":"2026-12-01"},"urgent":true}` + "\n")
	for i, p := range f.people {
		fmt.Fprintf(&b, `{"mobile":%q,"birthDate":%q,"params":{"dose":"%d"}}`+"\n", p.Mobile, p.BirthDate, 1+i%3)
	}
	req, err := http.NewRequest(http.MethodPost, f.tc.http+"/api/v1/notifications", strings.NewReader(b.String()))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode, out)
	assert.EqualValues(t, 0, out["recipients"], "seeded people consent to check-ups and fines, not vaccination")
	assert.EqualValues(t, 300, out["notSubscribed"])

	// A bad line is refused with its number, and nothing is stored.
	req, _ = http.NewRequest(http.MethodPost, f.tc.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","params":{"year":"2026"}}`+"\n"+`{"mobile":"010-1234-5678","birthDate":"1950-01-02"}`+"\n"+`{"mobile":`+"\n"))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "line 3", out["field"])

	// The same people as subscribers of check-ups, by NDJSON.
	b.Reset()
	b.WriteString(`{"type":"health-checkup","params":{"year":"2026"},"urgent":true}` + "\n")
	for _, p := range f.people {
		fmt.Fprintf(&b, `{"mobile":%q,"birthDate":%q}`+"\n", p.Mobile, p.BirthDate)
	}
	req, _ = http.NewRequest(http.MethodPost, f.tc.http+"/api/v1/notifications", strings.NewReader(b.String()))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode, out)
	assert.EqualValues(t, 300, out["recipients"])
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 300)
}

func TestNotify_RateLimitedProviderIsRetriedAfterRetryAfter(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 10, faults: []channel.Fault{{Channel: allimi.ChannelKakao, Kind: channel.FaultRateLimit, Rate: 1}}})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	// Wait until the provider has refused at least once, then lift the limit.
	deadline := time.Now().Add(10 * time.Second)
	for f.fake.Stats().Faults[allimi.ChannelKakao] == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.NotZero(t, f.fake.Stats().Faults[allimi.ChannelKakao])
	require.NoError(t, f.fake.SetFault(channel.Fault{Channel: allimi.ChannelKakao, Kind: channel.FaultRateLimit, Rate: 0}))
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent, 10)
	assert.Zero(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricFellBack), "a rate limit is no reason to fall back")
	assert.EqualValues(t, 10, f.fake.Stats().Accepted[allimi.ChannelKakao])
}

// linkIn finds the detail link in a message's text.
func linkIn(t *testing.T, f *fanout, text string) string {
	t.Helper()
	i := strings.Index(text, "http://"+f.tc.cfg.HTTP+"/n/")
	require.GreaterOrEqual(t, i, 0, text)
	return strings.Fields(text[i:])[0]
}

func TestNotify_DetailPageExistsOnlyOnceAProviderAcceptedTheMessage(t *testing.T) {
	// KakaoTalk says "not a user", and the SMS fallback keeps failing until
	// it is dead-lettered: no provider accepted anything, so the link the
	// KakaoTalk request carried leads nowhere.
	f := newFanout(t, fanoutOptions{people: 1, horizon: 100 * time.Millisecond, faults: []channel.Fault{
		{Channel: allimi.ChannelKakao, Kind: channel.FaultNotUser, Rate: 1},
		{Channel: allimi.ChannelSMS, Kind: channel.FaultError, Rate: 1}}})
	p := f.people[0]
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricDeadLetter, 1)
	kakao := f.fake.Messages(allimi.ChannelKakao)
	require.Len(t, kakao, 1)
	require.Equal(t, "rejected", kakao[0].Status)
	link := linkIn(t, f, kakao[0].Text)

	postDOB := func(link string) int {
		r, err := http.PostForm(link, map[string][]string{"birthDate": {p.BirthDate}})
		require.NoError(t, err)
		r.Body.Close()
		return r.StatusCode
	}
	assert.Equal(t, http.StatusNotFound, postDOB(link))

	// The gateway recovers and the operator replays: the SMS carries the
	// same link, which now opens.
	require.NoError(t, f.fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultError, Rate: 0}))
	code2, body := postJSON(t, f.tc.http+"/api/v1/deadletters/replay", f.keys.AdminToken, "")
	require.Equal(t, http.StatusOK, code2, body)
	f.waitMetric(t, allimi.TypeHealthCheckup, allimi.ChannelSMS, notify.MetricSent, 1)
	sms := f.fake.Messages(allimi.ChannelSMS)
	require.NotEmpty(t, sms)
	assert.Equal(t, link, linkIn(t, f, sms[len(sms)-1].Text))
	assert.Equal(t, http.StatusOK, postDOB(link))

	// A link whose secret part is changed is not found, and not counted.
	tok := link[strings.LastIndex(link, "/")+1:]
	forged := []byte(tok)
	if forged[10] == 'x' {
		forged[10] = 'y'
	} else {
		forged[10] = 'x'
	}
	assert.Equal(t, http.StatusNotFound, postDOB(link[:len(link)-len(tok)]+string(forged)))
}

// A delivery retried from the due queue is read once per attempt: the
// reader's snapshot may be older than the commit that recorded the last
// attempt, and must not take that attempt's due entry again.
func TestNotify_RetriesAreSentOncePerAttempt(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 400, faults: []channel.Fault{{Channel: allimi.ChannelKakao, Kind: channel.FaultError, Rate: 0.5}}})
	code, _ := f.post(t, `{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`, "")
	require.Equal(t, http.StatusAccepted, code)
	// Each person ends once on KakaoTalk: accepted, or fallen back to SMS
	// when the breaker opened.
	ended := func() int64 {
		return f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent) +
			f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricFellBack)
	}
	deadline := time.Now().Add(30 * time.Second)
	for ended() < 400 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // anything sent twice would be counted by now
	assert.EqualValues(t, 400, ended(), "sent + fell back")
	st := f.fakeStats(t)
	assert.EqualValues(t, f.metric(t, allimi.TypeHealthCheckup, allimi.ChannelKakao, notify.MetricSent), st.Accepted[allimi.ChannelKakao])
	assert.Zero(t, st.Duplicates[allimi.ChannelKakao], "no delivery sent again after it was accepted")
}
