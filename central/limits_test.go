package central_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/api"
	"allimi/internal/loadgen"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
)

// testClock is the limits' clock, moved by the test instead of sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func withLimitsClock(c *testClock) func(*central.Config) {
	return func(cfg *central.Config) { cfg.Limits.Now = c.Now }
}

// fromAddr is an HTTP client whose connections come from local, another
// address of the loopback network (Linux routes all of 127/8 to lo), so a
// test has two clients with addresses of their own.
func fromAddr(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func postFrom(t *testing.T, c *http.Client, u, contentType, body string) (int, string) {
	t.Helper()
	resp, err := c.Post(u, contentType, strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mqttConnect connects as a kiosk from local with password, and says
// whether the broker let it in.
func mqttConnect(t *testing.T, broker, local string, cred allimi.KioskCredentials, password string) error {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(broker).SetClientID("allimi-kiosk-" + cred.ID).
		SetUsername(cred.Username).SetPassword(password).SetProtocolVersion(4).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectRetry(false).
		SetDialer(&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second})
	c := paho.NewClient(opts)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(20*time.Second))
	if err := tok.Error(); err != nil {
		return err
	}
	c.Disconnect(0)
	return nil
}

func TestBroker_WrongPasswordsLockTheKioskFromThatAddressAcrossARestart(t *testing.T) {
	clock := &testClock{t: time.Now()}
	data := t.TempDir()
	cred := addKiosk(t, data, "sejong-07")
	start := func() *testCentral { return startCentral(t, data, withLimitsClock(clock)) }
	tc := start()

	for i := range 50 {
		require.Error(t, mqttConnect(t, tc.mqtt, "127.0.0.2", cred, fmt.Sprintf("guess-%d", i)), "guess %d", i)
	}
	assert.Error(t, mqttConnect(t, tc.mqtt, "127.0.0.2", cred, cred.Password), "the right password from the guessing address is refused")
	assert.NoError(t, mqttConnect(t, tc.mqtt, "127.0.0.3", cred, cred.Password),
		"one address cannot lock the kiosk out: it was stopped before the kiosk's own limit")

	require.NoError(t, tc.srv.Close())
	tc = start()
	assert.Error(t, mqttConnect(t, tc.mqtt, "127.0.0.2", cred, cred.Password), "still refused after a restart")

	clock.Add(16 * time.Minute)
	assert.NoError(t, mqttConnect(t, tc.mqtt, "127.0.0.2", cred, cred.Password), "the lock ends")
}

// Many addresses guessing one kiosk's password, none past its own limit,
// lock that kiosk id, from everywhere, the right password included.
func TestBroker_WrongPasswordsFromManyAddressesLockTheKioskID(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "sejong-08")
	tc := startCentral(t, data)
	for i := range 50 {
		addr := fmt.Sprintf("127.0.1.%d", 1+i/10) // 10 tries from each of 5 addresses
		require.Error(t, mqttConnect(t, tc.mqtt, addr, cred, fmt.Sprintf("guess-%d", i)))
	}
	assert.Error(t, mqttConnect(t, tc.mqtt, "127.0.0.9", cred, cred.Password), "the kiosk id is locked")
}

func TestEnrol_WrongCodesFromOneAddressDoNotBlockAnother(t *testing.T) {
	f := newKioskFixture(t)
	base := "http://" + f.srv.HTTPAddr()
	code, body := postJSON(t, base+"/api/v1/kiosks/k-new/enrol", f.admin, `{"ttl":"1h"}`)
	require.Equal(t, http.StatusOK, code, body)
	var issued struct{ Code string }
	require.NoError(t, json.Unmarshal([]byte(body), &issued))

	attacker, kiosk := fromAddr("127.0.0.2"), fromAddr("127.0.0.3")
	for i := range 10 {
		status, body := postFrom(t, attacker, base+"/api/v1/enrol", "application/json", fmt.Sprintf(`{"code":"AAAA-BBBB-CC%02d"}`, i))
		require.Equal(t, http.StatusNotFound, status, body)
	}
	status, body := postFrom(t, attacker, base+"/api/v1/enrol", "application/json", `{"code":"`+issued.Code+`"}`)
	assert.Equal(t, http.StatusTooManyRequests, status, "the guessing address waits, even with a real code")
	var refused api.EnrolError
	require.NoError(t, json.Unmarshal([]byte(body), &refused))
	assert.Equal(t, api.EnrolReasonThrottled, refused.Reason)
	assert.Contains(t, refused.Error, "too many failed attempts from this client: locked until")

	status, body = postFrom(t, kiosk, base+"/api/v1/enrol", "application/json", `{"code":"`+issued.Code+`"}`)
	require.Equal(t, http.StatusOK, status, "another address enrols: %s", body)
	var resp api.EnrolResponse
	require.NoError(t, json.Unmarshal([]byte(body), &resp))
	assert.Equal(t, "k-new", resp.ID)
}

func TestReceiptPage_LockSurvivesARestartUntilItEnds(t *testing.T) {
	clock := &testClock{t: time.Now()}
	f := newKioskFixture(t, withLimitsClock(clock))
	d := loadgen.Signup("sejong-01", 1, []allimi.Channel{allimi.ChannelSMS}, time.Now())
	evs, err := f.outbox.Append(d)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))
	code := allimi.ReceiptCode(evs[0].Kiosk, evs[0].Seq)
	web := fromAddr("127.0.0.2")
	try := func(birth string) (int, string) {
		return postFrom(t, web, "http://"+f.srv.HTTPAddr()+"/r/"+code, "application/x-www-form-urlencoded",
			url.Values{"birthDate": {birth}}.Encode())
	}
	for range 4 {
		status, _ := try("1901-01-01")
		require.Equal(t, http.StatusForbidden, status)
	}
	status, body := try("1901-01-01")
	require.Equal(t, http.StatusTooManyRequests, status)
	assert.Contains(t, body, "30분 동안 확인할 수 없습니다")

	require.NoError(t, f.srv.Close())
	f.start(t)
	require.Eventually(t, func() bool { return f.sender.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	status, body = try(d.Citizen.BirthDate)
	assert.Equal(t, http.StatusTooManyRequests, status, "still locked after the restart, even for the right date")
	assert.NotContains(t, body, (allimi.Citizen{Name: d.Citizen.Name}).MaskedName())
	status, _ = postFrom(t, fromAddr("127.0.0.3"), "http://"+f.srv.HTTPAddr()+"/r/"+code, "application/x-www-form-urlencoded",
		url.Values{"birthDate": {d.Citizen.BirthDate}}.Encode())
	assert.Equal(t, http.StatusTooManyRequests, status, "locked for every address: the code is the target")

	clock.Add(30 * time.Minute)
	status, body = try(d.Citizen.BirthDate)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, (allimi.Citizen{Name: d.Citizen.Name}).MaskedName())
}

// One address trying many codes, one date each, is stopped after 20: the
// lock per code alone never saw more than one wrong try.
func TestReceiptPage_OneAddressGuessingCodesIsLockedAndOthersAreNot(t *testing.T) {
	f := newKioskFixture(t)
	page := "http://" + f.srv.HTTPAddr() + "/r/"
	form := url.Values{"birthDate": {"1950-05-05"}}.Encode()
	guesser := fromAddr("127.0.0.2")
	for seq := range uint64(19) {
		status, _ := postFrom(t, guesser, page+allimi.ReceiptCode("sejong-99", seq+1), "application/x-www-form-urlencoded", form)
		require.Equal(t, http.StatusForbidden, status, "code %d", seq)
	}
	status, _ := postFrom(t, guesser, page+allimi.ReceiptCode("sejong-99", 20), "application/x-www-form-urlencoded", form)
	assert.Equal(t, http.StatusTooManyRequests, status, "the 20th wrong try locks the address")
	status, body := postFrom(t, guesser, page+allimi.ReceiptCode("sejong-99", 100), "application/x-www-form-urlencoded", form)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Contains(t, body, "60분 동안")
	status, _ = postFrom(t, fromAddr("127.0.0.3"), page+allimi.ReceiptCode("sejong-99", 100), "application/x-www-form-urlencoded", form)
	assert.Equal(t, http.StatusForbidden, status, "another address is only told the date is wrong")
}

func TestOfficials_WrongSignInsLockTheAddressNotTheOfficial(t *testing.T) {
	f := newKioskFixture(t)
	cred := withOfficial(t, f, "kim.minji")
	login := "http://" + f.srv.HTTPAddr() + "/officials/login"
	form := func(tok string) string { return url.Values{"id": {"kim.minji"}, "token": {tok}}.Encode() }
	guesser := fromAddr("127.0.0.2")
	for i := range 10 {
		status, _ := postFrom(t, guesser, login, "application/x-www-form-urlencoded", form(fmt.Sprint("guess-", i)))
		require.Equal(t, http.StatusUnauthorized, status)
	}
	status, body := postFrom(t, guesser, login, "application/x-www-form-urlencoded", form(cred.Token))
	assert.Equal(t, http.StatusTooManyRequests, status, "the right token from the guessing address waits")
	assert.Contains(t, body, "잘못된 로그인이 너무 많습니다")

	status, _ = postFrom(t, fromAddr("127.0.0.3"), login, "application/x-www-form-urlencoded", form(cred.Token))
	assert.Equal(t, http.StatusSeeOther, status, "the official signs in from elsewhere")
}

// kioskAPI connects another kiosk to the fixture's central and returns
// its request client and what disconnects it. Disconnect it before
// central stops: a kiosk reconnecting while mochi's broker closes can be
// attached after the broker closed its clients, and Close then waits for
// it for ever (mochi v2.7.9, listeners.TCP.Close).
func kioskAPI(t *testing.T, f *kioskFixture, cred allimi.KioskCredentials) (*uplink.Central, func()) {
	t.Helper()
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	outbox, err := outbox.Open(db, cred.ID)
	require.NoError(t, err)
	sender := uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: "tcp://" + f.cfg.MQTT, Username: cred.Username,
		Password: cred.Password}, ResendAfter: time.Second, Logger: f.cfg.Logger}, outbox)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sender.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	require.Eventually(t, func() bool { return sender.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	return uplink.NewCentral(sender), stop
}

func TestRequests_OneKioskSendingAThousandCodesGetsOnlyItsQuotaAndOthersStillGetTheirs(t *testing.T) {
	f := newKioskFixture(t)
	other := addKioskWhileRunning(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var overQuota int
	var last *uplink.ReplyError
	for i := range 1000 {
		err := f.api.RequestCode(ctx, fmt.Sprintf("010-5%03d-%04d", i/100, i))
		var re *uplink.ReplyError
		if err != nil {
			require.ErrorAs(t, err, &re, "request %d", i)
			require.Equal(t, "over-quota", re.Code, "request %d: %v", i, err)
			overQuota, last = overQuota+1, re
		}
	}
	assert.Equal(t, 1000-60, overQuota)
	assert.Len(t, f.fake.Messages(allimi.ChannelSMS), 60, "only the hour's quota reached the SMS gateway")
	require.NotNil(t, last)
	assert.Contains(t, last.Msg, "this kiosk has sent its 60 verification codes for this hour")

	api, stop := kioskAPI(t, f, other)
	require.NoError(t, api.RequestCode(ctx, "010-7777-8888"), "another kiosk still gets its code")
	assert.Len(t, f.smsTo("010-7777-8888"), 1)
	stop()

	// A restart gives the kiosk no new quota.
	require.NoError(t, f.srv.Close())
	f.start(t)
	require.Eventually(t, func() bool { return f.sender.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	var re *uplink.ReplyError
	require.ErrorAs(t, f.api.RequestCode(ctx, "010-6666-1234"), &re)
	assert.Equal(t, "over-quota", re.Code)
	assert.Empty(t, f.smsTo("010-6666-1234"))
}

// Wrong codes on many numbers from one kiosk, each within its own five,
// lock the kiosk's checking: 30 an hour.
func TestRequests_WrongCodesAreLimitedPerKioskAcrossNumbers(t *testing.T) {
	f := newKioskFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mobiles := make([]string, 7)
	codes := make([]string, 7)
	for i := range mobiles {
		mobiles[i] = fmt.Sprintf("010-8%03d-0000", i)
		require.NoError(t, f.api.RequestCode(ctx, mobiles[i]))
		codes[i] = sixDigits.FindString(f.smsTo(mobiles[i])[0].Text)
	}
	for i := range 6 {
		wrong := "000000"
		if codes[i] == wrong {
			wrong = "111111"
		}
		for range 5 {
			_, _ = f.api.CheckCode(ctx, mobiles[i], wrong)
		}
	}
	_, err := f.api.CheckCode(ctx, mobiles[6], codes[6])
	var re *uplink.ReplyError
	require.ErrorAs(t, err, &re, "the right code of a fresh number is refused once the kiosk guessed 30 times")
	assert.Equal(t, "too-many-tries", re.Code)
}

// With a quota set high, one kiosk still holds at most 1,000 of the codes
// waiting to be checked: the rest of the 100,000 places are everyone else's.
func TestRequests_PendingCodesAreCappedPerKiosk(t *testing.T) {
	f := newKioskFixture(t, func(c *central.Config) { c.Limits.SMSPerHour, c.Limits.SMSPerDay = 5000, 5000 })
	other := addKioskWhileRunning(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range 1000 {
		require.NoError(t, f.api.RequestCode(ctx, fmt.Sprintf("010-5%03d-%04d", i/100, i)), "code %d", i)
	}
	var re *uplink.ReplyError
	require.ErrorAs(t, f.api.RequestCode(ctx, "010-6000-0001"), &re)
	assert.Equal(t, "unavailable", re.Code)
	assert.Contains(t, re.Msg, "this kiosk has 1000 codes waiting")
	assert.Empty(t, f.smsTo("010-6000-0001"))
	api, _ := kioskAPI(t, f, other)
	require.NoError(t, api.RequestCode(ctx, "010-7777-8888"), "another kiosk still gets its code")
}

func TestLimits_NegativeSMSQuotaIsRefusedWithItsName(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.Data, cfg.MQTT, cfg.HTTP = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.Limits.SMSPerHour = -1
	_, err := central.Start(context.Background(), cfg)
	require.ErrorIs(t, err, allimi.ErrInvalid)
	assert.Contains(t, err.Error(), "sms-per-kiosk-hour -1")
}
