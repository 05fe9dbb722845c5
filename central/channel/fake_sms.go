package channel

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// smsSend serves NHN SMS's send APIs (see sms.go): /sender/sms, or, mms,
// /sender/mms (LMS, with a title).
func (f *Fake) smsSend(mms bool) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := f.cfg.SMS
		if r.PathValue("appKey") != cfg.AppKey {
			providerError(w, fkSMS, http.StatusUnauthorized, "-1000", "Invalid appKey.")
			return
		}
		if r.Header.Get("X-Secret-Key") != cfg.SecretKey {
			providerError(w, fkSMS, http.StatusUnauthorized, "-1000", "Invalid secretKey.")
			return
		}
		var req smsRequest
		if !decodeBody(w, r, fkSMS, &req) {
			return
		}
		switch {
		case req.Body == "" || mms && req.Title == "":
			providerError(w, fkSMS, http.StatusBadRequest, "-2014", "Title or body can not be empty.")
			return
		case len(req.RecipientList) == 0:
			providerError(w, fkSMS, http.StatusBadRequest, "-2001", "RecipientList can not be null.")
			return
		case len(req.RecipientList) > smsMaxBatch:
			providerError(w, fkSMS, http.StatusBadRequest, "-2016", "The max recipient size is 1000.")
			return
		case req.SendNo != cfg.SendNo:
			// NHN answers 200 with a failed header for an unregistered
			// sender number [error-code.md -2312].
			writeJSON(w, http.StatusOK, map[string]any{"header": nhnHeader{ResultCode: -2312, ResultMessage: "Not regist sendno."}})
			return
		}
		msgs := make([]fakeMsg, len(req.RecipientList))
		for j := range req.RecipientList {
			rc := &req.RecipientList[j]
			m := &msgs[j]
			m.key, m.recipient, m.group = rc.RecipientGroupingKey, rc.RecipientNo, req.SenderGroupingKey
			// ##key## substitution per recipient [api-guide templateParameter].
			title, text := req.Title, substituteHash(req.Body, rc.TemplateParameter)
			if mms {
				title = substituteHash(title, rc.TemplateParameter)
			}
			if !f.opts.Lean {
				m.title, m.text = title, text
			}
			switch {
			case !validNumber(rc.RecipientNo):
				m.code, m.reason = "-2019", "RecipientNo is invalid."
			case !mms && utf8.RuneCountInString(text) > 255,
				mms && (utf8.RuneCountInString(text) > 4000 || utf8.RuneCountInString(title) > 120):
				m.code, m.reason = "-2015", "Title or Body exceed maximum byte."
			case !eucKR(text) || !eucKR(title):
				m.code, m.reason = "-2023", "Unacceptable characters in title and body"
			}
		}
		reqID := f.requestID()
		out := f.take(fkSMS, msgs, "3001", "No subscriber (가입자 없음)",
			func(_ uint64, j int) string { return reqID + "/" + itoa(j+1) })
		results := make([]smsSendResult, len(out))
		for j, o := range out {
			sr := &results[j]
			sr.RecipientSeq, sr.RecipientNo, sr.RecipientGroupingKey = j+1, req.RecipientList[j].RecipientNo, msgs[j].key
			if o.accepted {
				sr.ResultMessage = "SUCCESS"
			} else {
				sr.ResultCode = atoiOr(o.code, -9999)
				sr.ResultMessage = o.reason
			}
		}
		writeJSON(w, http.StatusOK, &smsResponse{
			Header: nhnHeader{ResultCode: 0, ResultMessage: "SUCCESS", IsSuccessful: true},
			Body: &smsResponseBody{Data: &smsResponseData{RequestID: reqID, StatusCode: "2",
				SenderGroupingKey: req.SenderGroupingKey, SendResultList: results}},
		})
	}
}

// substituteHash replaces ##key## with the parameter's value.
func substituteHash(s string, params map[string]string) string {
	if len(params) == 0 || !strings.Contains(s, "##") {
		return s
	}
	pairs := make([]string, 0, 2*len(params))
	for k, v := range params {
		pairs = append(pairs, "##"+k+"##", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// eucKR says whether s can be sent: NHN encodes SMS in EUC-KR and refuses
// what it cannot carry (emoji …).
func eucKR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			_, err := korean.EUCKR.NewEncoder().String(s)
			return err == nil
		}
	}
	return true
}
