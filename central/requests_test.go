package central_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/assets"
	"allimi/central"
	"allimi/central/channel"
	"allimi/central/keyring"
	"allimi/consult"
	"allimi/internal/centraltest"
	"allimi/internal/loadgen"
	"allimi/internal/testaddr"
	"allimi/sync/catalog"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
	"allimi/sync/wire"
)

// kioskFixture is a real central with fake providers, and one kiosk with
// its outbox and sender connected to central's broker.
type kioskFixture struct {
	fake     *channel.Fake
	data     string
	central  *centraltest.Central
	cfg      central.Config
	srv      *central.Server
	outbox   *outbox.Outbox
	sender   *uplink.Sender
	api      *uplink.Central
	catalogs *catalog.Store
	admin    string // central's admin token
}

func newKioskFixture(t *testing.T, opts ...func(*central.Config)) *kioskFixture {
	t.Helper()
	f := &kioskFixture{fake: channel.NewFake(channel.FakeOptions{Seed: 1}), data: t.TempDir()}
	hs := httptest.NewServer(f.fake.Handler())
	t.Cleanup(func() { hs.Close(); f.fake.Close() })
	cred := addKiosk(t, f.data, "sejong-01")

	f.central = centraltest.New(t, append([]func(*central.Config){func(cfg *central.Config) {
		cfg.Data, cfg.ProviderURL = f.data, hs.URL
		if testing.Verbose() {
			cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
		}
	}}, opts...)...)
	f.cfg = f.central.Config
	f.start(t)

	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	f.outbox, err = outbox.Open(db, cred.ID)
	require.NoError(t, err)
	pub, err := catalog.DecodePublicKey(cred.CatalogKey)
	require.NoError(t, err)
	f.catalogs, err = catalog.NewStore(db, pub)
	require.NoError(t, err)
	keys, err := keyring.Load(f.data)
	require.NoError(t, err)
	f.admin = keys.AdminToken
	f.sender = uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: "tcp://" + f.cfg.MQTT, Username: cred.Username,
		Password: cred.Password}, ResendAfter: time.Second, Logger: f.cfg.Logger, Catalogs: f.catalogs}, f.outbox)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.sender.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool { return f.sender.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	f.api = uplink.NewCentral(f.sender)
	return f
}

// start starts central with f.cfg, which a test may change between a
// stop and a start.
func (f *kioskFixture) start(t *testing.T) {
	t.Helper()
	f.central.Config = f.cfg
	f.central.Start()
	f.srv = f.central.Server
}

// smsTo lists the text messages the fake gateway accepted for mobile.
func (f *kioskFixture) smsTo(mobile string) []channel.FakeMessage {
	var out []channel.FakeMessage
	for _, m := range f.fake.Messages(allimi.ChannelSMS) {
		if m.Recipient == mobile && m.Status == "accepted" {
			out = append(out, m)
		}
	}
	return out
}

var sixDigits = regexp.MustCompile(`\d{6}`)

func TestRequests_VerificationCodeBySMSThenChecked(t *testing.T) {
	f := newKioskFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const mobile = "010-2345-6789"

	require.NoError(t, f.api.RequestCode(ctx, "01023456789"))
	msgs := f.smsTo(mobile)
	require.Len(t, msgs, 1)
	code := sixDigits.FindString(msgs[0].Text)
	require.NotEmpty(t, code, msgs[0].Text)

	var re *uplink.ReplyError
	err := f.api.RequestCode(ctx, mobile)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "too-soon", re.Code, "no second code within 30 s")

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	ok, err := f.api.CheckCode(ctx, mobile, wrong)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = f.api.CheckCode(ctx, mobile, code)
	require.NoError(t, err)
	assert.True(t, ok)

	_, err = f.api.CheckCode(ctx, mobile, code)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "not-found", re.Code, "a code is used once")

	err = f.api.RequestCode(ctx, "011-234-5678")
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid", re.Code)
}

func TestRequests_FiveWrongCodesUseTheCodeUp(t *testing.T) {
	f := newKioskFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const mobile = "010-3456-7890"
	require.NoError(t, f.api.RequestCode(ctx, mobile))
	code := sixDigits.FindString(f.smsTo(mobile)[0].Text)
	wrong := "999999"
	if code == wrong {
		wrong = "888888"
	}
	for range 4 {
		ok, err := f.api.CheckCode(ctx, mobile, wrong)
		require.NoError(t, err)
		require.False(t, ok)
	}
	var re *uplink.ReplyError
	_, err := f.api.CheckCode(ctx, mobile, wrong)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "too-many-tries", re.Code)
	_, err = f.api.CheckCode(ctx, mobile, code)
	require.ErrorAs(t, err, &re, "even the right code is refused now")
	assert.Equal(t, "too-many-tries", re.Code)
}

func TestRequests_OfflineKioskIsToldAtOnce(t *testing.T) {
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	defer db.Close()
	ob, err := outbox.Open(db, "k1")
	require.NoError(t, err)
	s := uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: "tcp://" + testaddr.Free(t)}}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	start := time.Now()
	err = uplink.NewCentral(s).RequestCode(context.Background(), "010-1111-2222")
	assert.ErrorIs(t, err, uplink.ErrOffline)
	assert.Less(t, time.Since(start), 5*time.Second, "no waiting on a dead network")
}

func TestConfirmation_UnverifiedSignupIsConfirmedBySMSOnceEvenAcrossARestart(t *testing.T) {
	f := newKioskFixture(t)
	at := time.Now()
	unverified := loadgen.Signup("sejong-01", 1, []allimi.Channel{allimi.ChannelKakao}, at)
	verified := loadgen.Signup("sejong-01", 2, []allimi.Channel{allimi.ChannelKakao}, at)
	verified.Payload.(*allimi.ConsentPayload).Verified = true
	_, err := f.outbox.Append(unverified, verified)
	require.NoError(t, err)

	mobile := unverified.Citizen.Mobile
	require.Eventually(t, func() bool { return len(f.smsTo(mobile)) == 1 }, 20*time.Second, 20*time.Millisecond)
	text := f.smsTo(mobile)[0].Text
	assert.Contains(t, text, unverified.Citizen.Name+"님")
	assert.Contains(t, text, "110", "says whom to call if it was not them")

	// Central restarts; a later sign-up's confirmation goes out in the same
	// pass as any left over would: the first is not sent again.
	require.NoError(t, f.srv.Close())
	f.start(t)
	later := loadgen.Signup("sejong-01", 3, []allimi.Channel{allimi.ChannelKakao}, at)
	_, err = f.outbox.Append(later)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(f.smsTo(later.Citizen.Mobile)) == 1 }, 30*time.Second, 20*time.Millisecond)
	assert.Len(t, f.smsTo(mobile), 1)
	assert.Empty(t, f.smsTo(verified.Citizen.Mobile), "a verified number needs no confirmation")
	assert.Zero(t, f.fake.Stats().Duplicates[allimi.ChannelSMS])
}

// The confirmation waits while the SMS gateway is down, and goes out once
// it is back.
func TestConfirmation_WaitsOutAGatewayOutage(t *testing.T) {
	f := newKioskFixture(t)
	require.NoError(t, f.fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultOutage, Rate: 1}))
	d := loadgen.Signup("sejong-01", 1, []allimi.Channel{allimi.ChannelSMS}, time.Now())
	_, err := f.outbox.Append(d)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))
	assert.Empty(t, f.smsTo(d.Citizen.Mobile))
	require.NoError(t, f.fake.SetFault(channel.Fault{Channel: allimi.ChannelSMS, Kind: channel.FaultOutage, Rate: 0}))
	require.Eventually(t, func() bool { return len(f.smsTo(d.Citizen.Mobile)) == 1 }, 30*time.Second, 50*time.Millisecond)
	assert.True(t, strings.HasPrefix(f.smsTo(d.Citizen.Mobile)[0].Text, "[알리미]"))
}

func TestRequests_MalformedRequestIsAnsweredOrIgnoredAndCentralCarriesOn(t *testing.T) {
	f := newKioskFixture(t)
	rk := connectRaw(t, "tcp://"+f.cfg.MQTT, addKioskWhileRunning(t, f))
	replies := make(chan wire.Reply, 4)
	tok := rk.client.Subscribe(wire.ReplyTopic("sejong-02"), 1, func(_ paho.Client, m paho.Message) {
		if r, err := wire.DecodeReply(m.Payload()); err == nil {
			replies <- r
		}
	})
	require.True(t, tok.WaitTimeout(10*time.Second))
	rk.publish(t, wire.RequestTopic("sejong-02"), []byte(`{"v":1,"id":"x1","op":"drop.tables"}`))
	rk.publish(t, wire.RequestTopic("sejong-02"), []byte(`not json at all`))
	select {
	case r := <-replies:
		assert.Equal(t, "x1", r.ID)
		assert.False(t, r.OK)
		assert.Equal(t, "invalid", r.Code)
		assert.Contains(t, r.Error, "drop.tables")
	case <-time.After(10 * time.Second):
		t.Fatal("no reply")
	}
	// The well-formed kiosk is still served.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, f.api.RequestCode(ctx, "010-4444-5555"))
}

// addKioskWhileRunning registers a second kiosk: central holds the file, so
// it is stopped and started again around the change.
func addKioskWhileRunning(t *testing.T, f *kioskFixture) allimi.KioskCredentials {
	t.Helper()
	require.NoError(t, f.srv.Close())
	require.Eventually(t, func() bool { return !f.sender.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	cred := addKiosk(t, f.data, "sejong-02")
	f.start(t)
	require.Eventually(t, func() bool { return f.sender.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	return cred
}

func TestFeedback_KiosksAnswersAreCountedPerEntry(t *testing.T) {
	f := newKioskFixture(t)
	fb := func(entry string, helpful bool) outbox.Draft {
		return outbox.Draft{Kind: allimi.KindFeedback, Payload: &allimi.FeedbackPayload{Entry: entry, Helpful: helpful}}
	}
	_, err := f.outbox.Append(fb("entry-a", true), fb("entry-a", false), fb("entry-b", false), fb("entry-a", true))
	require.NoError(t, err)
	_, err = f.outbox.Append(outbox.Draft{Kind: allimi.KindFeedback, Citizen: allimi.Citizen{Name: "김순자"},
		Payload: &allimi.FeedbackPayload{Entry: "x", Helpful: true}})
	require.ErrorIs(t, err, allimi.ErrInvalid, "the kiosk refuses a feedback naming a person")
	require.NoError(t, f.sender.WaitDrained(context.Background()))

	resp := getAs(t, "http://"+f.srv.HTTPAddr()+"/api/v1/consult/feedback", f.admin)
	defer resp.Body.Close()
	var got struct{ Feedback []allimi.FeedbackCount }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, []allimi.FeedbackCount{
		{Entry: "entry-b", Helpful: 0, NotHelpful: 1}, // least helpful first
		{Entry: "entry-a", Helpful: 2, NotHelpful: 1},
	}, got.Feedback)
}

func TestConsultKB_OfficialsAddAndRetireEntriesAndKiosksGetThem(t *testing.T) {
	f := newKioskFixture(t)
	api := "http://" + f.srv.HTTPAddr() + "/api/v1/consult/kb"
	shipped, err := consult.DecodeCatalog(assets.ConsultKB())
	require.NoError(t, err)
	retired := shipped.Entries[0].ID

	add := `{"add":[{"id":"sejong-2026-001","question":"동절기 난방비 지원은 어디서 신청하나요?",
	  "answer":"가까운 행정복지센터에서 신청합니다.\n정책 변경에 따라 수정될 수 있습니다.","keywords":["난방비","에너지바우처"]}],
	  "retire":["` + retired + `"]}`
	code, body := postJSON(t, api, "", add)
	assert.Equal(t, http.StatusUnauthorized, code, "officials only: %s", body)
	code, body = postJSON(t, api, f.admin, `{"retire":["no-such-entry"]}`)
	assert.Equal(t, http.StatusBadRequest, code, body)
	code, body = postJSON(t, api, f.admin, `{"add":[{"id":"x"}]}`)
	assert.Equal(t, http.StatusBadRequest, code, body)
	code, body = postJSON(t, api, f.admin, `{"remove":["x"]}`)
	assert.Equal(t, http.StatusBadRequest, code, body)

	code, body = postJSON(t, api, f.admin, add)
	require.Equal(t, http.StatusOK, code, body)
	var got struct{ Version, Entries, Active int }
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, 1, got.Version)
	assert.Equal(t, len(shipped.Entries)+1, got.Entries, "the retired entry stays, marked")
	assert.Equal(t, len(shipped.Entries), got.Active)

	// The kiosk receives the signed catalog and answers from it.
	var kb consult.KB
	require.Eventually(t, func() bool {
		_, b, err := f.catalogs.Get(consult.CatalogName)
		if err != nil {
			return false
		}
		kb, err = consult.DecodeCatalog(b)
		return err == nil
	}, 20*time.Second, 20*time.Millisecond)
	ix, err := consult.NewIndex(kb, consult.DefaultLexicon())
	require.NoError(t, err)
	res, err := ix.Search("난방비 어디서 신청해요", 3)
	require.NoError(t, err)
	require.NotEmpty(t, res.Answers)
	assert.Equal(t, "sejong-2026-001", res.Answers[0].ID)
	for _, a := range res.Answers {
		assert.NotEqual(t, retired, a.ID, "a retired entry is never an answer")
	}

	code, body = postJSON(t, api, f.admin, add)
	assert.Equal(t, http.StatusBadRequest, code, "an id is never reused: %s", body)
}
