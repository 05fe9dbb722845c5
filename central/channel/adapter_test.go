package channel

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func TestAdapters_BatchIsAcceptedAndReachesTheFake(t *testing.T) {
	for _, ch := range allimi.Channels {
		t.Run(string(ch), func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{}, nil)
			a := env.adapters[ch]
			require.Equal(t, ch, a.Channel())
			batch := testMessages(ch, "b", 7)
			res, err := a.Send(context.Background(), batch)
			require.NoError(t, err)
			require.Len(t, res, len(batch))
			for i, r := range res {
				assert.Equal(t, batch[i].Key, r.Key, "results in input order")
				assert.Equal(t, Accepted, r.Status, "%+v", r)
				assert.NotEmpty(t, r.ProviderID)
			}

			got := env.fake.Messages(ch)
			require.Len(t, got, len(batch))
			byKey := map[string]FakeMessage{}
			for _, m := range got {
				byKey[m.IdempotencyKey] = m
			}
			for i, want := range batch {
				m, ok := byKey[want.Key]
				require.True(t, ok, want.Key)
				assert.Equal(t, ch, m.Channel)
				assert.Equal(t, want.Recipient, m.Recipient)
				assert.Equal(t, "accepted", m.Status)
				assert.Equal(t, want.Text, m.Text)
				if want.LMS || ch == allimi.ChannelToss {
					assert.Equal(t, want.Title, m.Title)
				}
				assert.Equal(t, res[i].ProviderID, m.ProviderID, "the fake and the adapter agree on the id")
			}
			assert.Empty(t, env.fake.Messages(otherChannel(ch)), "nothing on another channel")
		})
	}
}

func otherChannel(ch allimi.Channel) allimi.Channel {
	if ch == allimi.ChannelSMS {
		return allimi.ChannelKakao
	}
	return allimi.ChannelSMS
}

func TestAdapters_MaxBatch(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	want := map[allimi.Channel]int{allimi.ChannelKakao: 1000, allimi.ChannelNaver: 100, allimi.ChannelSMS: 1000, allimi.ChannelToss: 500}
	for ch, n := range want {
		assert.Equal(t, n, env.adapters[ch].MaxBatch(), ch)
	}
}

func TestKakao_ThousandRecipientsGoInOneRequest(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, nil)
	batch := testMessages(allimi.ChannelKakao, "big", 1000)
	res, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	require.Len(t, res, 1000)
	for _, r := range res {
		require.Equal(t, Accepted, r.Status)
	}
	st := env.fake.Stats()
	assert.EqualValues(t, 1, st.Requests[allimi.ChannelKakao])
	assert.EqualValues(t, 1000, st.Accepted[allimi.ChannelKakao])
}

func TestAdapters_RefuseABatchOverMaxBatch(t *testing.T) {
	for _, ch := range allimi.Channels {
		t.Run(string(ch), func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{Lean: true}, nil)
			a := env.adapters[ch]
			res, err := a.Send(context.Background(), testMessages(ch, "over", a.MaxBatch()+1))
			require.ErrorIs(t, err, ErrBatchTooLarge)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), string(ch))
			assert.EqualValues(t, 0, env.fake.Stats().Requests[ch], "nothing sent")
		})
	}
}

func TestAdapters_EmptyBatchSendsNothing(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	for ch, a := range env.adapters {
		res, err := a.Send(context.Background(), nil)
		require.NoError(t, err, ch)
		assert.Empty(t, res)
		assert.EqualValues(t, 0, env.fake.Stats().Requests[ch])
	}
}

func TestAdapters_Faults(t *testing.T) {
	notUserCode := map[allimi.Channel]string{
		allimi.ChannelKakao: "3019", allimi.ChannelNaver: NaverNotUser, allimi.ChannelSMS: "3001", allimi.ChannelToss: TossNotUser,
	}
	for _, ch := range allimi.Channels {
		for _, tc := range []struct {
			kind  FaultKind
			check func(t *testing.T, res []Result, err error)
		}{
			{FaultError, func(t *testing.T, res []Result, err error) {
				var ue *UnavailableError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, http.StatusInternalServerError, ue.StatusCode)
				assert.Equal(t, ch, ue.Channel)
			}},
			{FaultRateLimit, func(t *testing.T, res []Result, err error) {
				var rl *RateLimitedError
				require.ErrorAs(t, err, &rl)
				assert.Equal(t, time.Second, rl.RetryAfter)
			}},
			{FaultOutage, func(t *testing.T, res []Result, err error) {
				var ue *UnavailableError
				require.ErrorAs(t, err, &ue)
				assert.Zero(t, ue.StatusCode, "no answer at all")
			}},
			{FaultNotUser, func(t *testing.T, res []Result, err error) {
				require.NoError(t, err)
				require.Len(t, res, 3)
				for _, r := range res {
					assert.Equal(t, Rejected, r.Status)
					assert.Equal(t, notUserCode[ch], r.Code)
					assert.NotEmpty(t, r.Reason)
				}
			}},
		} {
			t.Run(string(ch)+"/"+string(tc.kind), func(t *testing.T) {
				env := newFakeEnv(t, FakeOptions{Faults: []Fault{{Channel: ch, Kind: tc.kind, Rate: 1}}}, nil)
				res, err := env.adapters[ch].Send(context.Background(), testMessages(ch, "f", 3))
				tc.check(t, res, err)
				if tc.kind != FaultNotUser {
					assert.Nil(t, res)
					assert.EqualValues(t, 0, env.fake.Stats().Accepted[ch])
				}
			})
		}
	}
}

func TestFake_NotUserIsStablePerNumber(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Seed: 7, Faults: []Fault{{Channel: allimi.ChannelKakao, Kind: FaultNotUser, Rate: 0.3}}}, nil)
	a := env.adapters[allimi.ChannelKakao]
	batch := testMessages(allimi.ChannelKakao, "s", 200)
	first, err := a.Send(context.Background(), batch)
	require.NoError(t, err)
	rejected := 0
	for _, r := range first {
		if r.Status == Rejected {
			rejected++
		}
	}
	assert.InDelta(t, 60, rejected, 30, "about 30%% are not KakaoTalk users")
	// A resend of the rejected ones is rejected again: the same numbers
	// are still not users.
	var again []Message
	for i, r := range first {
		if r.Status == Rejected {
			again = append(again, batch[i])
		}
	}
	second, err := a.Send(context.Background(), again)
	require.NoError(t, err)
	for _, r := range second {
		assert.Equal(t, Rejected, r.Status)
	}
}

func TestFake_FaultsChangeAtRunTime(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	a := env.adapters[allimi.ChannelKakao]
	setFaults := func(body string) {
		resp, err := http.Post(env.srv.URL+"/_fake/faults", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	setFaults(`{"kakao":"outage:1"}`)
	_, err := a.Send(context.Background(), testMessages(allimi.ChannelKakao, "o1", 2))
	var ue *UnavailableError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "outage:1", env.fake.Faults()[allimi.ChannelKakao])

	setFaults(`{"kakao":"outage:0"}`)
	res, err := a.Send(context.Background(), testMessages(allimi.ChannelKakao, "o2", 2))
	require.NoError(t, err, "the outage ended")
	assert.Equal(t, Accepted, res[0].Status)

	setFaults(`{"kakao":"error:1,notuser:1"}`)
	setFaults(`{"kakao":"none"}`)
	assert.Empty(t, env.fake.Faults()[allimi.ChannelKakao])

	resp, err := http.Post(env.srv.URL+"/_fake/faults", "application/json", strings.NewReader(`{"kakao":"meltdown:1"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestAdapters_ResendOfAcceptedKeysIsNotAcceptedTwice(t *testing.T) {
	for _, ch := range allimi.Channels {
		t.Run(string(ch), func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{}, nil)
			a := env.adapters[ch]
			batch := testMessages(ch, "idem", 10)
			first, err := a.Send(context.Background(), batch)
			require.NoError(t, err)
			second, err := a.Send(context.Background(), batch)
			require.NoError(t, err)
			for i, r := range second {
				assert.Equal(t, Accepted, r.Status, "a resend is answered with the original success")
				if ch == allimi.ChannelNaver || ch == allimi.ChannelToss {
					assert.Equal(t, first[i].ProviderID, r.ProviderID, "with the original message id")
				}
			}
			st := env.fake.Stats()
			assert.EqualValues(t, 10, st.Accepted[ch], "accepted unchanged")
			assert.EqualValues(t, 10, st.Duplicates[ch])
			assert.Len(t, env.fake.Messages(ch), 10, "stored once")
		})
	}
}

func TestAdapters_WrongCredentialsAreAProviderErrorNamingProviderAndStatus(t *testing.T) {
	for _, tc := range []struct {
		ch     allimi.Channel
		change func(*Config)
		code   string
	}{
		{allimi.ChannelKakao, func(c *Config) { c.Kakao.SecretKey = "wrong" }, "-1001"},
		{allimi.ChannelKakao, func(c *Config) { c.Kakao.AppKey = "wrong" }, "-1000"},
		{allimi.ChannelNaver, func(c *Config) { c.NaverApp.Token = "wrong" }, "UNAUTHORIZED"},
		// The kakao channel's second provider, SENS, when NHN cannot be
		// reached (failover.go): the API gateway's refusal.
		{allimi.ChannelKakao, func(c *Config) { c.Kakao.URL, c.Naver.SecretKey = closedURL(t), "wrong" }, "200"},
		{allimi.ChannelKakao, func(c *Config) { c.Kakao.URL, c.Naver.AccessKey = closedURL(t), "wrong" }, "200"},
		{allimi.ChannelSMS, func(c *Config) { c.SMS.SecretKey = "wrong" }, "-1000"},
		{allimi.ChannelToss, func(c *Config) { c.Toss.Token = "wrong" }, "UNAUTHORIZED"},
	} {
		t.Run(string(tc.ch)+"/"+tc.code, func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{}, tc.change)
			res, err := env.adapters[tc.ch].Send(context.Background(), testMessages(tc.ch, "auth", 2))
			assert.Nil(t, res)
			var pe *ProviderError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, http.StatusUnauthorized, pe.StatusCode)
			assert.Equal(t, tc.code, pe.Code)
			assert.Contains(t, err.Error(), string(tc.ch))
			assert.Contains(t, err.Error(), "401")
			assert.EqualValues(t, 0, env.fake.Stats().Accepted[tc.ch])
		})
	}
}

func TestSMS_UnregisteredSenderNumberIsAProviderError(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, func(c *Config) { c.SMS.SendNo = "0212345678" })
	_, err := env.adapters[allimi.ChannelSMS].Send(context.Background(), testMessages(allimi.ChannelSMS, "sn", 1))
	var pe *ProviderError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "-2312", pe.Code, "NHN answers 200 with a failed header")
}

func TestAdapters_MalformedResponseIsUnavailable(t *testing.T) {
	for _, body := range []string{"garbage", `{"header":{"isSuccessful":true},"message":{"sendResults":[]}}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(body))
		}))
		cfg := DefaultConfig()
		cfg.SetBaseURL(srv.URL)
		ads, err := New(cfg, nil)
		require.NoError(t, err)
		for _, ch := range allimi.Channels {
			t.Run(string(ch)+"/"+body[:7], func(t *testing.T) {
				res, err := ads[ch].Send(context.Background(), testMessages(ch, "m", 2))
				assert.Nil(t, res)
				var ue *UnavailableError
				require.ErrorAs(t, err, &ue)
				assert.Contains(t, err.Error(), "decode")
			})
		}
		srv.Close()
	}
}

func TestAdapters_ProviderDownIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now: connection refused
	cfg := DefaultConfig()
	cfg.SetBaseURL(url)
	ads, err := New(cfg, nil)
	require.NoError(t, err)
	for ch, a := range ads {
		_, err := a.Send(context.Background(), testMessages(ch, "down", 1))
		var ue *UnavailableError
		require.ErrorAs(t, err, &ue, ch)
		assert.Contains(t, err.Error(), string(ch))
	}
}

func TestAdapters_SlowProviderTimesOutAsUnavailable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := DefaultConfig()
	cfg.SetBaseURL(srv.URL)
	cfg.Kakao.Timeout = 50 * time.Millisecond
	ads, err := New(cfg, nil)
	require.NoError(t, err)
	_, err = ads[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "slow", 1))
	var ue *UnavailableError
	require.ErrorAs(t, err, &ue)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestAdapters_CancelledContextIsNotAnOutage(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := env.adapters[allimi.ChannelKakao].Send(ctx, testMessages(allimi.ChannelKakao, "c", 1))
	require.ErrorIs(t, err, context.Canceled)
	var ue *UnavailableError
	assert.False(t, errors.As(err, &ue))
}

func TestAdapters_RateLimiterMakesTheSecondBatchWait(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) { c.Kakao.Rate, c.Kakao.Burst = 1000, 1000 })
	a := env.adapters[allimi.ChannelKakao]
	_, err := a.Send(context.Background(), testMessages(allimi.ChannelKakao, "r1", 1000))
	require.NoError(t, err, "the first batch uses the burst")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := a.Send(ctx, testMessages(allimi.ChannelKakao, "r2", 1000))
	assert.Nil(t, res)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the tokens come back only after ~1s")
	assert.EqualValues(t, 1, env.fake.Stats().Requests[allimi.ChannelKakao], "the second batch was not sent")
}

func TestAdapters_BatchLargerThanBurstStillGoes(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Lean: true}, func(c *Config) { c.Kakao.Rate, c.Kakao.Burst = 100_000, 100 })
	res, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), testMessages(allimi.ChannelKakao, "burst", 1000))
	require.NoError(t, err)
	assert.Len(t, res, 1000)
}

func TestAdapters_MessagesNoProviderCouldTakeAreRejectedLocally(t *testing.T) {
	for _, ch := range allimi.Channels {
		t.Run(string(ch), func(t *testing.T) {
			env := newFakeEnv(t, FakeOptions{}, nil)
			batch := testMessages(ch, "loc", 4)
			batch[1].Recipient = "02-123-4567"
			batch[2].Key = "has space"
			res, err := env.adapters[ch].Send(context.Background(), batch)
			require.NoError(t, err)
			assert.Equal(t, Accepted, res[0].Status)
			assert.Equal(t, Rejected, res[1].Status)
			assert.Equal(t, "invalid-recipient", res[1].Code)
			assert.Equal(t, Rejected, res[2].Status)
			assert.Equal(t, "invalid-key", res[2].Code)
			assert.Equal(t, Accepted, res[3].Status)
			assert.Len(t, env.fake.Messages(ch), 2, "only the good ones went out")
		})
	}
}

func TestKakao_MixedTemplatesGoInOneRequestEach(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	batch := testMessages(allimi.ChannelKakao, "mix", 4)
	batch[1].Template, batch[3].Template = "ALLIMI_OTHER_01", "ALLIMI_OTHER_01"
	res, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	for i, r := range res {
		assert.Equal(t, batch[i].Key, r.Key)
		assert.Equal(t, Accepted, r.Status)
	}
	assert.EqualValues(t, 2, env.fake.Stats().Requests[allimi.ChannelKakao])
	got := env.fake.Messages(allimi.ChannelKakao)
	require.Len(t, got, 4)
	assert.Equal(t, "[ALLIMI_OTHER_01] link="+batch[1].Link+" name=홍길동1", got[2].Text,
		"an unregistered template shows its code and parameters")
}

func TestKakao_LaterRequestFailingGivesRetryNotLoss(t *testing.T) {
	// The first template's request is taken, the second fails: the batch's
	// results must keep the first's acceptance.
	fake := NewFake(FakeOptions{Logger: quiet})
	defer fake.Close()
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fake.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.SetBaseURL(srv.URL)
	ads, err := New(cfg, nil)
	require.NoError(t, err)
	batch := testMessages(allimi.ChannelKakao, "part", 2)
	batch[1].Template = "ALLIMI_OTHER_01"
	res, err := ads[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	assert.Equal(t, Accepted, res[0].Status)
	assert.Equal(t, Retry, res[1].Status)
	assert.Equal(t, "http-503", res[1].Code)
}

func TestSMS_WithoutTemplatesSendsOneRequestPerText(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, func(c *Config) { c.SMS.SMSTemplateID, c.SMS.LMSTemplateID = "", "" })
	batch := testMessages(allimi.ChannelSMS, "grp", 4)
	for i := range batch {
		batch[i].LMS = false
	}
	batch[2].Text = batch[0].Text // 3 distinct texts
	res, err := env.adapters[allimi.ChannelSMS].Send(context.Background(), batch)
	require.NoError(t, err)
	for i, r := range res {
		assert.Equal(t, batch[i].Key, r.Key)
		assert.Equal(t, Accepted, r.Status)
	}
	assert.EqualValues(t, 3, env.fake.Stats().Requests[allimi.ChannelSMS])
	got := env.fake.Messages(allimi.ChannelSMS)
	require.Len(t, got, 4)
	texts := map[string]string{}
	for _, m := range got {
		texts[m.IdempotencyKey] = m.Text
	}
	for _, m := range batch {
		assert.Equal(t, m.Text, texts[m.Key])
	}
}

func TestSMS_WithTemplatesSendsOneRequestPerType(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	batch := testMessages(allimi.ChannelSMS, "tpl", 10) // 5 SMS, 5 LMS, all texts distinct
	_, err := env.adapters[allimi.ChannelSMS].Send(context.Background(), batch)
	require.NoError(t, err)
	assert.EqualValues(t, 2, env.fake.Stats().Requests[allimi.ChannelSMS])
	for _, m := range env.fake.Messages(allimi.ChannelSMS) {
		assert.Contains(t, m.Text, "[알리미] 홍길동", "##body## was filled in")
	}
}

func TestSMS_CharactersEUCKRCannotCarryAreRejected(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{}, nil)
	batch := testMessages(allimi.ChannelSMS, "emoji", 2)
	batch[1].Text += " 🎉"
	res, err := env.adapters[allimi.ChannelSMS].Send(context.Background(), batch)
	require.NoError(t, err)
	assert.Equal(t, Accepted, res[0].Status)
	assert.Equal(t, Rejected, res[1].Status)
	assert.Equal(t, "-2023", res[1].Code)
}

func TestKakao_RawModeSendsTheFullText(t *testing.T) {
	env := newFakeEnv(t, FakeOptions{Templates: map[string]string{}}, func(c *Config) { c.Kakao.Raw = true })
	batch := testMessages(allimi.ChannelKakao, "raw", 2)
	_, err := env.adapters[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	got := env.fake.Messages(allimi.ChannelKakao)
	require.Len(t, got, 2)
	assert.Equal(t, batch[0].Text, got[0].Text)
	assert.Equal(t, batch[0].Title, got[0].Title)
}

func TestNew_RefusesIncompleteConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		msg    string
	}{
		{"bad url", func(c *Config) { c.Naver.URL = "ftp://x" }, "[naver] url"},
		{"no url", func(c *Config) { c.Toss.URL = "" }, "[toss] url"},
		{"no sender key", func(c *Config) { c.Kakao.SenderKey = "" }, "[kakao] senderKey"},
		{"no access key", func(c *Config) { c.Naver.AccessKey = " " }, "[naver] accessKey"},
		{"no send number", func(c *Config) { c.SMS.SendNo = "" }, "[sms] sendNo"},
		{"no token", func(c *Config) { c.Toss.Token = "" }, "[toss] token"},
		{"no naver app token", func(c *Config) { c.NaverApp.Token = "" }, "[naverApp] token"},
		{"bad naver app url", func(c *Config) { c.NaverApp.URL = "x" }, "[naverApp] url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.change(&cfg)
			_, err := New(cfg, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"1", time.Second},
		{" 30 ", 30 * time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"", 0},
		{"-5", 0},
		{"soon", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, parseRetryAfter(tc.in, now))
		})
	}
}

func TestStatus_String(t *testing.T) {
	assert.Equal(t, "accepted", Accepted.String())
	assert.Equal(t, "rejected", Rejected.String())
	assert.Equal(t, "retry", Retry.String())
	assert.Equal(t, "Status(0)", Status(0).String())
}
