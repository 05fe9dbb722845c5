package worker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/voice"
)

func request(op byte, payload []byte) []byte {
	hdr := [5]byte{op}
	binary.LittleEndian.PutUint32(hdr[1:], uint32(len(payload)))
	return append(hdr[:], payload...)
}

func floats(s []float32) []byte {
	b := make([]byte, 4*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// Serve answers each request with one line, in order, with the energy
// detector standing in for Silero.
func TestServe_AnswersInOrder(t *testing.T) {
	loud := make([]float32, voice.Rate/2)
	for i := range loud {
		loud[i] = float32(0.3 * math.Sin(float64(i)/5))
	}
	var in bytes.Buffer
	in.Write(request(opAccept, floats(make([]float32, voice.Rate))))
	in.Write(request(opAccept, floats(loud)))
	in.Write(request(opFlush, nil))
	in.Write(request(opReset, nil))
	in.Write(request(opTranscribe, voice.NewWAV(loud).Encode()))
	in.Write(request('Z', nil))
	var out bytes.Buffer
	require.NoError(t, Serve(&in, &out, &voice.EnergyVAD{}, nil))
	var answers []answer
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var a answer
		require.NoError(t, json.Unmarshal(sc.Bytes(), &a), sc.Text())
		answers = append(answers, a)
	}
	require.Len(t, answers, 7)
	assert.True(t, answers[0].Ready)
	assert.Empty(t, answers[1].Events, "silence")
	require.Len(t, answers[2].Events, 1)
	assert.Equal(t, voice.SpeechStarted, answers[2].Events[0].Kind)
	require.Len(t, answers[3].Events, 1)
	assert.Equal(t, voice.SpeechEnded, answers[3].Events[0].Kind)
	assert.InDelta(t, 1.0, answers[3].Events[0].Start.Seconds(), 0.05)
	assert.InDelta(t, 1.5, answers[3].Events[0].End.Seconds(), 0.05)
	assert.Empty(t, answers[4].Error)
	assert.Contains(t, answers[5].Error, "not started with the model for it")
	assert.Contains(t, answers[6].Error, "not started with the model for it")
}

func TestServe_RefusesOversizeAndCutRequests(t *testing.T) {
	hdr := [5]byte{opAccept}
	binary.LittleEndian.PutUint32(hdr[1:], maxPayload+1)
	err := Serve(bytes.NewReader(hdr[:]), io.Discard, &voice.EnergyVAD{}, nil)
	assert.ErrorContains(t, err, "a request of")
	err = Serve(bytes.NewReader(request(opAccept, make([]byte, 100))[:50]), io.Discard, &voice.EnergyVAD{}, nil)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestReason_KeepsWhatTheLibrarySaid(t *testing.T) {
	stderr := "terminate called after throwing an instance of 'Ort::Exception'\n  what():  Load model failed: invalid model\n\nSIGABRT: abort\nPC=0x1 m=6\ngoroutine 1 [syscall]:\nmain.main()\n"
	assert.Equal(t, "terminate called after throwing an instance of 'Ort::Exception' what():  Load model failed: invalid model", Reason(stderr))
	assert.Equal(t, "it said nothing", Reason(""))
	assert.Len(t, Reason(strings.Repeat("x", 2000)), 803)
}
