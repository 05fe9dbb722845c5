package central

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"allimi/central/api"
)

// Bodies posted to central's open and token-guarded endpoints by kiosks
// being enrolled and by providers posting receipts: whatever the bytes,
// central answers with a client error or a result, never a server error,
// and a receipt batch is counted whole (applied + ignored).

// fuzzServer is one central per fuzzing process, its handler called
// directly (no network between the fuzzer and the code under test).
func fuzzServer(f *testing.F) (*Server, http.Handler) {
	f.Helper()
	cfg := DefaultConfig()
	cfg.Data, cfg.MQTT, cfg.HTTP = f.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := Start(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	return srv, srv.api.Routes()
}

func post(h http.Handler, path, token string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func FuzzReceipts(f *testing.F) {
	f.Add([]byte(`{"receipts":[{"channel":"kakao","idempotencyKey":"a1-1-kakao","providerId":"r1/1","status":"delivered","at":"2026-11-23T10:00:00+09:00"}]}`))
	f.Add([]byte(`{"receipts":[{"channel":"sms","idempotencyKey":"a9-9-sms","status":"failed","reason":"bad number","at":"2026-11-23T01:00:00Z"},{"channel":"toss","idempotencyKey":"x","status":"read"}]}`))
	f.Add([]byte(`{"receipts":[{"channel":"pigeon","idempotencyKey":"a1-1-pigeon","status":"delivered"}]}`))
	f.Add([]byte(`{"receipts":null}`))
	srv, h := fuzzServer(f)
	token := srv.keys.ReceiptToken
	f.Fuzz(func(t *testing.T, body []byte) {
		w := post(h, "/api/v1/receipts", token, body)
		switch w.Code {
		case http.StatusBadRequest:
			return
		case http.StatusOK:
		default:
			t.Fatalf("receipts answered %d: %s", w.Code, w.Body)
		}
		var sent struct {
			Receipts []json.RawMessage `json:"receipts"`
		}
		if err := json.Unmarshal(body, &sent); err != nil {
			// Accepted by the streaming decoder, which stops after the
			// first value: count what it read.
			if err := json.NewDecoder(strings.NewReader(string(body))).Decode(&sent); err != nil {
				t.Fatalf("accepted a body that does not decode: %v", err)
			}
		}
		var got struct{ Applied, Ignored int }
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("answer: %v: %s", err, w.Body)
		}
		if got.Applied+got.Ignored != len(sent.Receipts) {
			t.Fatalf("%d receipts sent, %d applied and %d ignored", len(sent.Receipts), got.Applied, got.Ignored)
		}
	})
}

func FuzzEnrolRequest(f *testing.F) {
	f.Add([]byte(`{"code":"ABCD-EFGH-JKMN"}`))
	f.Add([]byte(`{"code":"abcdefghjkmn"}`))
	f.Add([]byte(`{"code":123}`))
	f.Add([]byte(`{"code":"` + strings.Repeat("A", 2000) + `"}`))
	_, h := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := post(h, "/api/v1/enrol", "", body)
		switch {
		case w.Code == http.StatusBadRequest, w.Code == http.StatusNotFound, w.Code == http.StatusGone, w.Code == http.StatusTooManyRequests:
		case w.Code == http.StatusRequestEntityTooLarge && len(body) > 1024:
		default:
			// No code was issued: nothing can succeed, nothing may fail
			// on central's side.
			t.Fatalf("enrol answered %d: %s", w.Code, w.Body)
		}
		var e api.EnrolError
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" || e.Reason == "" {
			t.Fatalf("a refusal without its error and reason: %s", w.Body)
		}
	})
}
