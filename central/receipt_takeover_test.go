package central_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/keyring"
	"allimi/internal/loadgen"
	"allimi/sync/wire"
)

// receiptSite reads /r/ pages of a running central.
type receiptSite string

func (r receiptSite) get(t *testing.T, code string) (int, string) {
	t.Helper()
	resp, err := http.Get(string(r) + "/r/" + code)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r receiptSite) post(t *testing.T, code, birth string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(string(r)+"/r/"+code, url.Values{"birthDate": {birth}})
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReceiptPage_OpensUnderTheCodeTheKioskDrewNotTheDerivedOne(t *testing.T) {
	f := newKioskFixture(t)
	d := loadgen.Signup("sejong-01", 1, []allimi.Channel{allimi.ChannelKakao}, time.Now())
	code, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	d.Payload.(*allimi.ConsentPayload).Receipt = code
	evs, err := f.outbox.Append(d)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))
	site := receiptSite("http://" + f.srv.HTTPAddr())

	status, body := site.post(t, code, d.Citizen.BirthDate)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "신청이 접수되어 있습니다")
	// The attack: compute the code from the kiosk's id and its record
	// count, which /api/v1/stats lists for every kiosk.
	status, body = site.post(t, allimi.ReceiptCode(evs[0].Kiosk, evs[0].Seq), d.Citizen.BirthDate)
	assert.Equal(t, http.StatusForbidden, status, "the computable code opens nothing")
	assert.NotContains(t, body, "신청이 접수되어 있습니다")

	// Neither the index nor the audit entry of the view lists the code:
	// a copy of the file without keys.json opens no page.
	require.NoError(t, f.srv.Close())
	db, err := os.ReadFile(filepath.Join(f.data, bolt.DBFile))
	require.NoError(t, err)
	assert.False(t, bytes.Contains(db, []byte(code)), "the receipt code is readable in central.db")
}

// takeoverCentral is a central with kiosks A (where Kim signed up) and B.
type takeoverCentral struct {
	data   string
	tc     *testCentral
	a, b   *rawKiosk
	signup allimi.Event // Kim's sign-up at A, seq 1
	site   receiptSite
}

func newTakeoverCentral(t *testing.T) *takeoverCentral {
	t.Helper()
	x := &takeoverCentral{data: t.TempDir()}
	ca, cb := addKiosk(t, x.data, "kiosk-a"), addKiosk(t, x.data, "kiosk-b")
	x.tc = startCentral(t, x.data)
	x.a, x.b = connectRaw(t, x.tc.mqtt, ca), connectRaw(t, x.tc.mqtt, cb)
	x.signup = event(t, "kiosk-a", 1, 1) // from a kiosk before random codes: its code is derived
	x.site = receiptSite(x.tc.http)
	return x
}

// question is a typed question from kiosk, answered at a kiosk, under code.
func question(t *testing.T, kiosk string, seq uint64, code, text string) allimi.Event {
	t.Helper()
	p := marshal(t, allimi.QuestionPayload{Code: code, Lang: "ko", Text: text, Reply: allimi.ReplyAtKiosk})
	e := allimi.Event{V: 1, Kiosk: kiosk, Seq: seq, HLC: allimi.NextHLC(0, time.Now()), Kind: allimi.KindQuestion, Payload: p}
	require.NoError(t, e.Validate(time.Now()))
	return e
}

// pageIsKims checks that code still opens Kim's sign-up, after her birth
// date, and shows nothing of the intruder's.
func (x *takeoverCentral) pageIsKims(t *testing.T, code, intruder string) {
	t.Helper()
	status, body := x.site.get(t, code)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "생년월일", "the sign-up's page asks for the birth date")
	assert.NotContains(t, body, intruder)
	status, body = x.site.post(t, code, x.signup.Citizen.BirthDate)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "신청이 접수되어 있습니다")
	assert.Contains(t, body, (allimi.Citizen{Name: x.signup.Citizen.Name}).MaskedName())
	assert.Contains(t, body, "kiosk-a")
	assert.NotContains(t, body, intruder)
}

// questionsKept reads the questions central kept, once it is stopped.
func (x *takeoverCentral) questionsKept(t *testing.T) []allimi.Question {
	t.Helper()
	x.tc.srv.Close()
	st, _, err := bolt.OpenData(x.data, bolt.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	qs, err := st.Questions(true)
	require.NoError(t, err)
	return qs
}

func TestReceiptPage_AnotherKiosksQuestionCannotTakeOverASignupsCode(t *testing.T) {
	x := newTakeoverCentral(t)
	code := allimi.ReceiptCode("kiosk-a", 1)
	x.a.publish(t, wire.UpTopic("kiosk-a"), marshal(t, x.signup))
	x.a.waitAck(t, 1)

	// The attack: kiosk B sends a question under the code of Kim's slip,
	// whose /r/ page would then show B's text without any birth date.
	const intruder = "안내: 지원금 환급은 010-0000-0000 으로 전화하세요"
	x.b.publish(t, wire.UpTopic("kiosk-b"), marshal(t, question(t, "kiosk-b", 1, code, intruder)))
	x.b.waitAck(t, 1)

	x.pageIsKims(t, code, intruder)
	qs := x.questionsKept(t)
	require.Len(t, qs, 1, "the question is kept for an official")
	assert.True(t, qs[0].CodeReused)
	assert.Contains(t, qs[0].Damaged, "receipt code already used by another question or a sign-up")
}

func TestReceiptPage_AQuestionThatTookACodeFirstGivesItUpToTheSignup(t *testing.T) {
	x := newTakeoverCentral(t)
	code := allimi.ReceiptCode("kiosk-a", 1)
	// B computes the code A's next sign-up will have, and takes it first.
	const intruder = "먼저 차지한 질문"
	x.b.publish(t, wire.UpTopic("kiosk-b"), marshal(t, question(t, "kiosk-b", 1, code, intruder)))
	x.b.waitAck(t, 1)
	x.a.publish(t, wire.UpTopic("kiosk-a"), marshal(t, x.signup))
	x.a.waitAck(t, 1)

	x.pageIsKims(t, code, intruder)
	qs := x.questionsKept(t)
	require.Len(t, qs, 1)
	assert.True(t, qs[0].CodeReused)
	assert.Contains(t, qs[0].Damaged, "receipt code also names a sign-up")
}

func TestReceiptPage_ASignupNamingAnothersCodeDoesNotReplaceIt(t *testing.T) {
	x := newTakeoverCentral(t)
	code, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	signup := event(t, "kiosk-a", 1, 1)
	var p allimi.ConsentPayload
	require.NoError(t, json.Unmarshal(signup.Payload, &p))
	p.Receipt = code
	signup.Payload = marshal(t, p)
	x.signup = signup
	x.a.publish(t, wire.UpTopic("kiosk-a"), marshal(t, signup))
	x.a.waitAck(t, 1)

	// Kiosk B (a photographed slip, a replayed record) names Kim's code in
	// a sign-up of someone else.
	other := event(t, "kiosk-b", 1, 2)
	require.NoError(t, json.Unmarshal(other.Payload, &p))
	p.Receipt = code
	other.Payload = marshal(t, p)
	x.b.publish(t, wire.UpTopic("kiosk-b"), marshal(t, other))
	x.b.waitAck(t, 1)

	x.pageIsKims(t, code, (allimi.Citizen{Name: other.Citizen.Name}).MaskedName())
	status, _ := x.site.post(t, code, other.Citizen.BirthDate)
	assert.Equal(t, http.StatusForbidden, status, "the other person's birth date does not open Kim's code")
	st := x.tc.stats(t)
	assert.EqualValues(t, 2, st.Records.Stored, "the other sign-up is kept: its person's choices stand")
	keys, err := keyring.Load(x.data)
	require.NoError(t, err)
	b, _ := json.Marshal(rejections(t, x.tc.http, keys.AdminToken))
	assert.Contains(t, string(b), "record 1: receipt code already names another sign-up: this sign-up is kept without a receipt page")
	assert.NotContains(t, string(b), code, "a receipt code is not listed")
}
