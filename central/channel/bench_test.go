package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"allimi"
)

// benchBatch is a 1,000-message kakao batch whose keys start with prefix:
// realistic sizes (a 90-character text, two parameters, an SMS fallback).
func benchBatch(base []Message, prefix string) []Message {
	out := make([]Message, len(base))
	copy(out, base)
	for i := range out {
		out[i].Key = prefix + strconv.Itoa(i) + "-kakao"
	}
	return out
}

func benchBase() []Message {
	base := testMessages(allimi.ChannelKakao, "x", 1000)
	for i := range base {
		base[i].Fallback = &Fallback{Text: base[i].Text}
	}
	return base
}

func reportRate(b *testing.B, msgs int64, start time.Time) {
	b.ReportMetric(float64(msgs)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkKakaoSend1000 sends batches of 1,000 through the kakao adapter
// to the fake (lean, as in a load test) over loopback, one at a time.
func BenchmarkKakaoSend1000(b *testing.B) {
	env := newFakeEnv(b, FakeOptions{Lean: true}, nil)
	a := env.adapters[allimi.ChannelKakao]
	base := benchBase()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		res, err := a.Send(context.Background(), benchBatch(base, "a"+strconv.Itoa(i)+"-"))
		if err != nil || res[999].Status != Accepted {
			b.Fatal(err, res[999])
		}
	}
	reportRate(b, int64(b.N)*1000, start)
}

// BenchmarkKakaoSend1000Parallel is the same with 8 concurrent senders, as
// the dispatcher may run them.
func BenchmarkKakaoSend1000Parallel(b *testing.B) {
	env := newFakeEnv(b, FakeOptions{Lean: true}, nil)
	a := env.adapters[allimi.ChannelKakao]
	base := benchBase()
	var n atomic.Int64
	b.SetParallelism(4) // × GOMAXPROCS (2 here) = 8 senders
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			res, err := a.Send(context.Background(), benchBatch(base, "p"+strconv.FormatInt(i, 10)+"-"))
			if err != nil || res[999].Status != Accepted {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, n.Load()*1000, start)
}

// BenchmarkLoopbackPost1000 is the baseline: the same request and response
// bytes over loopback HTTP, with no encoding, decoding or bookkeeping.
func BenchmarkLoopbackPost1000(b *testing.B) {
	env := newFakeEnv(b, FakeOptions{Lean: true}, nil)
	base := benchBatch(benchBase(), "base-")
	k := env.adapters[allimi.ChannelKakao].(*kakao)
	// One real exchange gives the bytes to replay.
	rec := &recorder{next: env.fake.Handler(), reqs: make(chan recorded, 1)}
	capture := httptest.NewRecorder()
	reqBody, _ := json.Marshal(kakaoRequestFor(k, base))
	req := httptest.NewRequest(http.MethodPost, "/alimtalk/v2.3/appkeys/"+k.cfg.AppKey+"/messages", bytes.NewReader(reqBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Secret-Key", k.cfg.SecretKey)
	rec.ServeHTTP(capture, req)
	respBody := capture.Body.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(respBody)
	}))
	defer srv.Close()
	client := NewHTTPClient()
	b.SetBytes(int64(len(reqBody) + len(respBody)))
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(reqBody))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	reportRate(b, int64(b.N)*1000, start)
}

func kakaoRequestFor(k *kakao, batch []Message) kakaoRequest {
	req := kakaoRequest{SenderKey: k.cfg.SenderKey, TemplateCode: batch[0].Template}
	for _, m := range batch {
		d, _ := mobileDigits(m.Recipient)
		req.RecipientList = append(req.RecipientList, kakaoRecipient{RecipientNo: d, TemplateParameter: m.Params,
			RecipientGroupingKey: m.Key, ResendParameter: &kakaoResend{IsResend: true, ResendType: "SMS", ResendContent: m.Text}})
	}
	return req
}

// BenchmarkFakeLeanMemory measures what the lean fake keeps per accepted
// message (keys like central's "a12-345678-kakao"): reported as B/msg.
func BenchmarkFakeLeanMemory(b *testing.B) {
	const perBatch = 1000
	f := NewFake(FakeOptions{Lean: true, Logger: quiet})
	msgs := make([]fakeMsg, perBatch)
	pid := func(uint64, int) string { return "" }
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	total := 0
	for i := 0; b.Loop(); i++ {
		for j := range msgs {
			msgs[j] = fakeMsg{key: "a" + strconv.Itoa(i%50) + "-" + strconv.Itoa(i*perBatch+j) + "-kakao", recipient: "01012345678"}
		}
		f.take(fkKakao, msgs, "", "", pid)
		total += perBatch
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(total), "B/msg")
	runtime.KeepAlive(f)
}

// BenchmarkKakaoWire1000 is the adapter's own JSON work for one batch of
// 1,000: encoding the request and decoding the fake's answer to it.
func BenchmarkKakaoWire1000(b *testing.B) {
	env := newFakeEnv(b, FakeOptions{Lean: true}, nil)
	k := env.adapters[allimi.ChannelKakao].(*kakao)
	base := benchBatch(testMessages(allimi.ChannelKakao, "x", 1000), "base-")
	req := kakaoRequestFor(k, base)
	for i := range req.RecipientList {
		req.RecipientList[i].ResendParameter = nil // as a campaign sends it
	}
	var body bytes.Buffer
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body.Reset()
			if err := jsonv2.MarshalWrite(&body, &req, wireOptions); err != nil {
				b.Fatal(err)
			}
		}
	})
	capture := httptest.NewRecorder()
	hr := httptest.NewRequest(http.MethodPost, "/alimtalk/v2.3/appkeys/"+k.cfg.AppKey+"/messages", bytes.NewReader(body.Bytes()))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("X-Secret-Key", k.cfg.SecretKey)
	env.fake.Handler().ServeHTTP(capture, hr)
	answer := capture.Body.Bytes()
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var resp kakaoResponse
			if err := jsonv2.UnmarshalRead(bytes.NewReader(answer), &resp, wireOptions); err != nil {
				b.Fatal(err)
			}
			if len(resp.Message.SendResults) != 1000 {
				b.Fatal(len(resp.Message.SendResults))
			}
		}
	})
}
