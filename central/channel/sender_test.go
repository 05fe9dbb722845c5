package channel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// The adapters read answers as leniently as encoding/json did: a provider
// that writes a name in another case or twice is still understood, and a
// text with a byte that is not UTF-8 goes out (as U+FFFD) instead of
// failing its whole batch.
func TestKakao_LenientWire(t *testing.T) {
	var sent []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, _ = io.ReadAll(r.Body)
		var req struct {
			RecipientList []struct {
				RecipientGroupingKey string `json:"recipientGroupingKey"`
			} `json:"recipientList"`
		}
		require.NoError(t, json.Unmarshal(sent, &req))
		var results []string
		for i, rc := range req.RecipientList {
			results = append(results, fmt.Sprintf(`{"RecipientSeq":%d,"resultcode":0,"resultCode":0,"resultMessage":"SUCCESS","recipientGroupingKey":%q}`,
				i+1, rc.RecipientGroupingKey))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"header":{"resultCode":0,"resultMessage":"SUCCESS","IsSuccessful":true},"message":{"requestId":"r1","sendResults":[%s]}}`,
			strings.Join(results, ","))
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.SetBaseURL(srv.URL)
	cfg.Kakao.Raw = true // the text itself goes on the wire
	ads, err := New(cfg, nil)
	require.NoError(t, err)

	batch := testMessages(allimi.ChannelKakao, "lenient", 2)
	batch[1].Text = "검진 안내 \xff 끝"
	res, err := ads[allimi.ChannelKakao].Send(context.Background(), batch)
	require.NoError(t, err)
	for i, r := range res {
		assert.Equal(t, Accepted, r.Status, "message %d", i)
		assert.Equal(t, fmt.Sprintf("r1/%d", i+1), r.ProviderID)
	}
	assert.Contains(t, string(sent), "검진 안내 \ufffd 끝")
}
