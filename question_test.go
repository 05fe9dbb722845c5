package allimi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

func questionEvent(t *testing.T, kind string, c allimi.Citizen, payload any) allimi.Event {
	t.Helper()
	var raw json.RawMessage
	switch p := payload.(type) {
	case string:
		raw = json.RawMessage(p)
	default:
		b, err := json.Marshal(p)
		require.NoError(t, err)
		raw = b
	}
	return allimi.Event{V: 1, Kiosk: "k1", Seq: 1, HLC: 1 << 16, Kind: kind, Citizen: c, Payload: raw}
}

const testCode = "ABCDE-FGH23"

func TestNewQuestionCode_IsRandomAndNormalisable(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := allimi.NewQuestionCode()
		require.NoError(t, err)
		assert.True(t, allimi.IsRandomReceiptCode(c), "12 letters, 60 bits: %q", c)
		n, ok := allimi.NormalizeReceiptCode(strings.ToLower(strings.ReplaceAll(c, "-", "")))
		require.True(t, ok, c)
		assert.Equal(t, c, n)
		assert.False(t, seen[c], "code %s drawn twice", c)
		seen[c] = true
	}
}

func TestEvent_QuestionAudio(t *testing.T) {
	full := make([]byte, allimi.QuestionChunkSize)
	tail := make([]byte, 100)
	size := allimi.QuestionChunkSize + 100
	tests := []struct {
		name    string
		citizen allimi.Citizen
		payload any
		wantErr string
	}{
		{"first of two chunks", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: testCode, Index: 0, Chunks: 2, Size: size, Data: full}, ""},
		{"last chunk", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: testCode, Index: 1, Chunks: 2, Size: size, Data: tail}, ""},
		{"truncated chunk", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: testCode, Index: 0, Chunks: 2, Size: size, Data: full[:1000]},
			"chunk 0 of 2 has 1000 bytes, must have 32768 (truncated or padded)"},
		{"index beyond the count", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: testCode, Index: 2, Chunks: 2, Size: size, Data: tail},
			"payload.index 2: must be 0 to 1"},
		{"over 60 s", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: testCode, Index: 0, Chunks: 60, Size: 60*allimi.QuestionChunkSize + 2, Data: full},
			"at most 1920000 bytes (1m0s of 16 kHz mono 16-bit): record a shorter question"},
		{"odd size", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: testCode, Index: 0, Chunks: 1, Size: 101, Data: make([]byte, 101)},
			"16-bit samples need an even length"},
		{"wrong chunk count", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: testCode, Index: 0, Chunks: 3, Size: size, Data: full},
			"payload.chunks 3: 32868 bytes of audio take 2 chunks"},
		{"guessable code", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: "00000-00000", Index: 0, Chunks: 1, Size: 100, Data: tail},
			`payload.code "00000-00000": must be 12 letters of the receipt alphabet as XXXX-XXXX-XXXX (or 10 as XXXXX-XXXXX)`},
		{"new-form code", allimi.Citizen{}, allimi.QuestionAudioPayload{Code: "7KQ2-MXR4-TD9P", Index: 0, Chunks: 1, Size: 100, Data: tail}, ""},
		{"names a person", allimi.Citizen{Name: "김영수"}, allimi.QuestionAudioPayload{Code: testCode, Index: 0, Chunks: 1, Size: 100, Data: tail},
			"an audio chunk names nobody"},
		{"garbage base64", allimi.Citizen{}, `{"code":"` + testCode + `","index":0,"chunks":1,"size":100,"data":"%%%not base64"}`,
			"illegal base64 data"},
		{"unknown field", allimi.Citizen{}, `{"code":"` + testCode + `","index":0,"chunks":1,"size":2,"data":"AAA=","x":1}`,
			`unknown field "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := questionEvent(t, allimi.KindQuestionAudio, tc.citizen, tc.payload)
			err := e.Validate(time.Now())
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestEvent_Question(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	contact := allimi.Citizen{Name: " 김영수 ", Mobile: "01012345678"}
	tests := []struct {
		name    string
		citizen allimi.Citizen
		payload allimi.QuestionPayload
		wantErr string
	}{
		{"spoken, answer by kakao", contact, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "kakao", AudioBytes: 64000, Chunks: 2, SHA256: hash}, ""},
		{"typed, answer at the kiosk", allimi.Citizen{}, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "kiosk", Text: "기초연금은 언제 나오나요?"}, ""},
		{"unknown reply channel", contact, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "pigeon", Text: "질문"},
			`payload.reply "pigeon": must be kakao, naver, toss, sms or kiosk`},
		{"channel without a number", allimi.Citizen{Name: "김영수"}, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "sms", Text: "질문"},
			"citizen: mobile number"},
		{"channel without a name", allimi.Citizen{Mobile: "010-1234-5678"}, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "sms", Text: "질문"},
			"citizen: name: empty"},
		{"a date of birth is not wanted", allimi.Citizen{Name: "김영수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"},
			allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "sms", Text: "질문"}, "a question does not need one"},
		{"kiosk reply naming a person", contact, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "kiosk", Text: "질문"},
			"a question answered at the kiosk names nobody"},
		{"empty question", allimi.Citizen{}, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "kiosk", Text: "  "},
			"neither audio nor text"},
		{"over 60 s", allimi.Citizen{}, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "kiosk", AudioBytes: 61 * 32000, Chunks: 60, SHA256: hash},
			"record a shorter question"},
		{"audio without a hash", allimi.Citizen{}, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "kiosk", AudioBytes: 64000, Chunks: 2},
			`payload.sha256 "": 64 lower-case hex digits`},
		{"bad language", allimi.Citizen{}, allimi.QuestionPayload{Code: testCode, Lang: "korean", Reply: "kiosk", Text: "질문"},
			`payload.lang "korean"`},
		{"text too long", allimi.Citizen{}, allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "kiosk", Text: strings.Repeat("가", 1001)},
			"longer than 1000 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := questionEvent(t, allimi.KindQuestion, tc.citizen, tc.payload)
			err := e.Validate(time.Now())
			if tc.wantErr == "" {
				require.NoError(t, err)
				if tc.payload.Reply != "kiosk" {
					assert.Equal(t, "김영수", e.Citizen.Name, "normalised in place")
					assert.Equal(t, "010-1234-5678", e.Citizen.Mobile)
				}
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestEvent_QuestionCitizenErrorIsRedacted(t *testing.T) {
	e := questionEvent(t, allimi.KindQuestion, allimi.Citizen{Name: "김영수", Mobile: "02-555-1234"},
		allimi.QuestionPayload{Code: testCode, Lang: "ko", Reply: "sms", Text: "질문"})
	err := e.Validate(time.Now())
	var ce *allimi.CitizenError
	require.ErrorAs(t, err, &ce)
	assert.NotContains(t, ce.Redacted(), "02-555-1234")
	assert.Contains(t, ce.Redacted(), "mobile number")
}

func TestQuestionPayload_AudioDuration(t *testing.T) {
	assert.Equal(t, 1500*time.Millisecond, allimi.QuestionPayload{AudioBytes: 48000}.AudioDuration())
	assert.Equal(t, 59, allimi.MaxQuestionChunks)
}
