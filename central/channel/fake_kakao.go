package channel

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// kakaoSend serves NHN AlimTalk's send APIs (see kakao.go): /messages
// (template code and parameters) or, raw, /raw-messages (full content).
func (f *Fake) kakaoSend(raw bool) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := f.cfg.Kakao
		// [NHN error-code.md] -1000 invalid appKey, -1001 invalid secretKey.
		// NHN answers these with a failed header; the fake also says 401.
		if r.PathValue("appkey") != cfg.AppKey {
			providerError(w, fkKakao, http.StatusUnauthorized, "-1000", "Invalid appKey.")
			return
		}
		if r.Header.Get("X-Secret-Key") != cfg.SecretKey {
			providerError(w, fkKakao, http.StatusUnauthorized, "-1001", "Invalid secretKey.")
			return
		}
		var req kakaoInbound
		if !decodeBody(w, r, fkKakao, &req) {
			return
		}
		switch {
		case req.SenderKey == "":
			providerError(w, fkKakao, http.StatusBadRequest, "-2001", "The 'senderKey' must not be blank.")
			return
		case req.SenderKey != cfg.SenderKey:
			providerError(w, fkKakao, http.StatusBadRequest, "-2017", "Not exist plus friend.")
			return
		case req.TemplateCode == "":
			providerError(w, fkKakao, http.StatusBadRequest, "-2001", "The 'templateCode' must not be blank.")
			return
		case len(req.RecipientList) == 0:
			providerError(w, fkKakao, http.StatusBadRequest, "-2001", "The 'recipientList' must not be blank.")
			return
		case len(req.RecipientList) > kakaoMaxBatch:
			providerError(w, fkKakao, http.StatusBadRequest, "-2005", "The 'recipientList' must be less than or equal to 1000.")
			return
		}
		tmpl, known := f.opts.Templates[req.TemplateCode]
		msgs := make([]fakeMsg, len(req.RecipientList))
		for j := range req.RecipientList {
			rc := &req.RecipientList[j]
			m := &msgs[j]
			m.key, m.recipient, m.group = rc.RecipientGroupingKey, rc.RecipientNo, req.SenderGroupingKey
			if !f.opts.Lean {
				if raw {
					m.title, m.text = rc.TemplateTitle, rc.Content
				} else {
					m.text = renderKakao(req.TemplateCode, tmpl, known, rc.TemplateParameter)
				}
			}
			switch {
			case !validNumber(rc.RecipientNo):
				m.code, m.reason = "-4019", "Invalid recipient number."
			case raw && rc.Content == "":
				m.code, m.reason = "-2001", "The 'content' must not be blank."
			}
		}
		reqID := f.requestID()
		out := f.take(fkKakao, msgs, strconv.Itoa(KakaoNotTalkUser), "NotTalkUser: not a KakaoTalk user",
			func(_ uint64, j int) string { return reqID + "/" + strconv.Itoa(j+1) })
		var resp kakaoResponse
		resp.Header = nhnHeader{ResultCode: 0, ResultMessage: "success", IsSuccessful: true}
		resp.Message = &kakaoResponseMessage{RequestID: reqID, SenderGroupingKey: req.SenderGroupingKey,
			SendResults: make([]kakaoSendResult, len(out))}
		for j, o := range out {
			sr := &resp.Message.SendResults[j]
			sr.RecipientSeq, sr.RecipientNo, sr.RecipientGroupingKey = j+1, req.RecipientList[j].RecipientNo, msgs[j].key
			if o.accepted {
				sr.ResultMessage = "SUCCESS"
			} else {
				sr.ResultCode, _ = strconv.Atoi(o.code)
				sr.ResultMessage = o.reason
			}
		}
		writeJSON(w, http.StatusOK, &resp)
	}
}

// renderKakao fills #{name} in a registered template, as Kakao does; for an
// unknown template it shows the code and parameters.
func renderKakao(code, tmpl string, known bool, params map[string]string) string {
	if known {
		if len(params) == 0 {
			return tmpl
		}
		pairs := make([]string, 0, 2*len(params))
		for k, v := range params {
			pairs = append(pairs, "#{"+k+"}", v)
		}
		return strings.NewReplacer(pairs...).Replace(tmpl)
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("[" + code + "]")
	for _, k := range keys {
		b.WriteString(" " + k + "=" + params[k])
	}
	return b.String()
}
