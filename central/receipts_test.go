package central_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/loadgen"
)

func TestReceiptPage_ShowsTheSignupAfterTheBirthDateAndLocksAfterFiveWrong(t *testing.T) {
	f := newKioskFixture(t)
	d := loadgen.Signup("sejong-01", 1, []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}, time.Now())
	evs, err := f.outbox.Append(d)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))
	code := allimi.ReceiptCode(evs[0].Kiosk, evs[0].Seq)
	page := "http://" + f.srv.HTTPAddr() + "/r/"

	get := func(path string) (int, string) {
		resp, err := http.Get(page + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(path, birth string) (int, string) {
		resp, err := http.PostForm(page+path, url.Values{"birthDate": {birth}})
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	status, body := get(strings.ToLower(strings.ReplaceAll(code, "-", "")))
	require.Equal(t, http.StatusOK, status, "a code typed without the dash, in lower case, is the same code")
	assert.Contains(t, body, "생년월일")
	assert.NotContains(t, body, (allimi.Citizen{Name: d.Citizen.Name}).MaskedName(), "nothing about the person before the check")

	status, body = post(code, d.Citizen.BirthDate)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "신청이 접수되어 있습니다")
	assert.Contains(t, body, (allimi.Citizen{Name: d.Citizen.Name}).MaskedName())
	assert.NotContains(t, body, d.Citizen.Mobile)
	assert.Contains(t, body, "국가건강검진: 카카오톡, 문자")
	assert.Contains(t, body, "sejong-01")

	status, _ = get("ABCDE-12345") // 1 is not in the alphabet
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = post(code, "1950-13-40")
	assert.Equal(t, http.StatusBadRequest, status, "an impossible date is not counted")

	for i := 4; i >= 1; i-- {
		status, body = post(code, "1901-01-01")
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, body, "남은 횟수: "+string(rune('0'+i)))
	}
	status, _ = post(code, "1901-01-01")
	assert.Equal(t, http.StatusTooManyRequests, status)
	status, body = post(code, d.Citizen.BirthDate)
	assert.Equal(t, http.StatusTooManyRequests, status, "even the right date waits out the lock")
	assert.NotContains(t, body, "신청이 접수되어 있습니다")

	// An unknown code costs the same tries: guessing codes learns nothing.
	status, body = post("ZZZZZ-ZZZZZ", d.Citizen.BirthDate)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "남은 횟수: 4")
}

func TestAudit_ViewsAreLoggedAndTheChainVerifiesOverHTTP(t *testing.T) {
	f := newKioskFixture(t)
	d := loadgen.Signup("sejong-01", 1, []allimi.Channel{allimi.ChannelKakao}, time.Now())
	evs, err := f.outbox.Append(d)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))

	verify := func() allimi.AuditReport {
		req, _ := http.NewRequest(http.MethodGet, "http://"+f.srv.HTTPAddr()+"/api/v1/audit/verify", nil)
		req.Header.Set("Authorization", "Bearer "+f.admin)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var r allimi.AuditReport
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		return r
	}
	before := verify()
	assert.Equal(t, 1, before.Entries, "the sign-up")

	code := allimi.ReceiptCode(evs[0].Kiosk, evs[0].Seq)
	resp, err := http.PostForm("http://"+f.srv.HTTPAddr()+"/r/"+code, url.Values{"birthDate": {"1901-01-01"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 1, verify().Entries, "a wrong date shows nothing, and is not a view")
	resp, err = http.PostForm("http://"+f.srv.HTTPAddr()+"/r/"+code, url.Values{"birthDate": {d.Citizen.BirthDate}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	after := verify()
	assert.Equal(t, 2, after.Entries)
	assert.NotEqual(t, before.Head, after.Head)
}
