package central_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
)

const fineBody = `{"type":"traffic-fine","params":{"amount":"40,000","dueDate":"2026-12-31","violation":"신호위반"},"audience":{"all":true}`

// notificationExists reports whether the agency's notification id is stored.
func (f *fanout) notificationExists(t *testing.T, id int) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.tc.http+"/api/v1/notifications/"+strconv.Itoa(id), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestAgencies_TypeNotAllowedIs403AndNothingIsStored(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 2})
	// nhis may send health-checkup, traffic-fine, traffic-penalty and vaccination.
	code, resp := f.post(t, `{"type":"scholarship","audience":{"all":true}}`, "nhis-1")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, "type", resp["field"])
	assert.Contains(t, resp["reason"], "agency nhis may not send scholarship notifications (allowed: health-checkup, traffic-fine, traffic-penalty, vaccination)")
	assert.False(t, f.notificationExists(t, 1), "nothing stored")
	assert.Empty(t, f.fake.Messages(""), "nothing sent")

	// An allowed type goes through, and is notification 1: the refused
	// one took no number and its idempotency key is free.
	code, resp = f.post(t, `{"type":"health-checkup","audience":{"all":true},"params":{"year":"2026"}}`, "nhis-1")
	require.Equal(t, http.StatusAccepted, code, resp)
	assert.EqualValues(t, 1, resp["id"])
}

func TestAgencies_PaymentLinkToAnotherHostIs403AndNothingIsStored(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 2})
	// nhis may link to www.efine.go.kr only.
	for _, link := range []string{
		"https://evil.example/pay",
		"https://www.efine.go.kr.evil.example/pay",
		"https://www.efine.go.kr@evil.example/pay",
		"https://efine.go.kr/pay",
	} {
		t.Run(link, func(t *testing.T) {
			code, resp := f.post(t, fineBody+`,"paymentUrl":"`+link+`"}`, "")
			assert.Equal(t, http.StatusForbidden, code)
			assert.Equal(t, "paymentUrl", resp["field"])
			assert.Contains(t, resp["reason"], "(allowed hosts: www.efine.go.kr)")
		})
	}
	assert.False(t, f.notificationExists(t, 1), "nothing stored")
	assert.Empty(t, f.fake.Messages(""), "nothing sent")

	code, resp := f.post(t, fineBody+`,"paymentUrl":"https://WWW.efine.go.kr/pay?id=1"}`, "")
	assert.Equal(t, http.StatusAccepted, code, resp)
}

func TestAgencies_WithoutTypesUnrestrictedUntilAllowed(t *testing.T) {
	data := t.TempDir()
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	ag, err := st.AddAgency("police") // `agency add --id police`, and agencies from before policies: no lists
	require.NoError(t, err)
	require.NoError(t, st.Close())
	post := func(tc *testCentral, token, body string) (int, string) {
		return postJSON(t, tc.http+"/api/v1/notifications", token, body)
	}

	tc := startCentral(t, data)
	code, body := post(tc, ag.Token, fineBody+`,"paymentUrl":"https://pay.example/1"}`)
	assert.Equal(t, http.StatusAccepted, code, body)
	require.NoError(t, tc.srv.Close())

	st, _, err = bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	require.NoError(t, st.SetAgencyPolicy("police", allimi.AgencyPolicy{Types: []allimi.NotificationType{allimi.TypeTrafficFine}}))
	renewed, err := st.AddAgency("police") // a new token keeps the policy
	require.NoError(t, err)
	require.NoError(t, st.Close())

	tc = startCentral(t, data)
	code, body = post(tc, renewed.Token, fineBody+`}`)
	assert.Equal(t, http.StatusAccepted, code, body)
	code, body = post(tc, renewed.Token, fineBody+`,"paymentUrl":"https://pay.example/2"}`)
	assert.Equal(t, http.StatusForbidden, code, "restricted with no payment hosts: no payment links")
	assert.Contains(t, body, "none: an operator runs `allimi central agency allow --id police --payment-hosts …`")
	code, body = post(tc, renewed.Token, `{"type":"vaccination","audience":{"all":true},"params":{"dose":"1","date":"2026-12-20"}}`)
	assert.Equal(t, http.StatusForbidden, code, body)
	assert.Contains(t, body, "agency police may not send vaccination notifications (allowed: traffic-fine)")
	code, _ = post(tc, ag.Token, fineBody+`}`)
	assert.Equal(t, http.StatusUnauthorized, code, "the old token is revoked")
}

func TestAgencies_PolicyRefusesUnknownTypesAndHostsThatAreNotHostNames(t *testing.T) {
	st, _, err := bolt.OpenData(t.TempDir(), bolt.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	_, err = st.AddAgency("police")
	require.NoError(t, err)
	fine := []allimi.NotificationType{allimi.TypeTrafficFine}
	cases := []struct {
		name   string
		id     string
		policy allimi.AgencyPolicy
		want   string
	}{
		{"unknown type", "police", allimi.AgencyPolicy{Types: []allimi.NotificationType{"parking"}}, `notification type "parking": unknown`},
		{"a URL, not a host", "police", allimi.AgencyPolicy{Types: fine, PaymentHosts: []string{"https://pay.police.go.kr/"}}, "give a host name alone"},
		{"a path", "police", allimi.AgencyPolicy{Types: fine, PaymentHosts: []string{"pay.police.go.kr/x"}}, "give a host name alone"},
		{"a port", "police", allimi.AgencyPolicy{Types: fine, PaymentHosts: []string{"pay.police.go.kr:8443"}}, "give a host name alone"},
		{"a wildcard", "police", allimi.AgencyPolicy{Types: fine, PaymentHosts: []string{"*.police.go.kr"}}, "give a host name alone"},
		{"no such agency", "nhis", allimi.AgencyPolicy{Types: fine}, "not registered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := st.SetAgencyPolicy(c.id, c.policy)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	p, err := st.AgencyPolicyOf("police")
	require.NoError(t, err)
	assert.Empty(t, p.Types, "nothing was changed by the refused policies")
	assert.Empty(t, p.PaymentHosts)
}
