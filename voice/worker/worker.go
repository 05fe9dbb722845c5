// Package worker runs voice models in a separate process (allimi-voice)
// and gives them to the kiosk as a voice.Detector and a voice.Recognizer.
//
// Why a process: sherpa-onnx and onnxruntime are C++ libraries that end
// the process they run in on a model they cannot use, and loading them
// costs the process that links them 7 MiB of memory at start, before any
// question is asked. In a worker, a bad model ends the worker, which the
// kiosk reports and survives, and the kiosk itself links neither.
//
// The protocol is lock-step over the worker's standard input and output:
// a request is one operation byte, a little-endian uint32 length and that
// many bytes; the answer is one line of JSON. The worker prints one line
// when its models are loaded, before the first request.
package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strings"
	"sync"
	"time"

	"allimi/voice"
)

// Operations.
const (
	opAccept     = 'A' // payload: float32 LE samples at 16 kHz
	opFlush      = 'F'
	opReset      = 'R'
	opTranscribe = 'T' // payload: a WAV file
)

// maxPayload bounds one request: a minute of WAV at 48 kHz stereo 32-bit
// is 23 MB.
const maxPayload = 32 << 20

type event struct {
	Kind  voice.EventKind `json:"kind"`
	Start time.Duration   `json:"start"`
	End   time.Duration   `json:"end"`
}

// answer is one line the worker prints.
type answer struct {
	Ready  bool    `json:"ready,omitempty"`
	Events []event `json:"events,omitempty"`
	Text   string  `json:"text,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// Serve answers requests from r on w until r ends: det and rec (either may
// be nil) do the work. It first says it is ready.
func Serve(r io.Reader, w io.Writer, det voice.Detector, rec voice.Recognizer) error {
	br := bufio.NewReader(r)
	enc := json.NewEncoder(w)
	if err := enc.Encode(answer{Ready: true}); err != nil {
		return err
	}
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		n := binary.LittleEndian.Uint32(hdr[1:])
		if n > maxPayload {
			return fmt.Errorf("a request of %d bytes", n)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return err
		}
		a := serveOne(hdr[0], payload, det, rec)
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
}

func serveOne(op byte, payload []byte, det voice.Detector, rec voice.Recognizer) answer {
	var a answer
	var evs []voice.Event
	var err error
	switch {
	case op == opTranscribe && rec != nil:
		var w voice.WAV
		if w, err = voice.ParseWAV(payload); err == nil {
			a.Text, err = rec.Transcribe(context.Background(), w)
		}
	case op == opAccept && det != nil:
		samples := make([]float32, len(payload)/4)
		for i := range samples {
			samples[i] = math.Float32frombits(binary.LittleEndian.Uint32(payload[4*i:]))
		}
		evs, err = det.Accept(samples)
	case op == opFlush && det != nil:
		evs, err = det.Flush()
	case op == opReset && det != nil:
		det.Reset()
	default:
		err = fmt.Errorf("operation %q: this worker was not started with the model for it", op)
	}
	if err != nil {
		a.Error = err.Error()
	}
	for _, e := range evs {
		a.Events = append(a.Events, event{Kind: e.Kind, Start: e.Segment.Start, End: e.Segment.End})
	}
	return a
}

// Proc is a running worker.
type Proc struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *bytes.Buffer
	done   chan struct{} // closed when the process has ended
	err    error         // how it ended
}

// ErrWorkerDied: the worker ended (a model sherpa-onnx could not run, or
// it was killed); the error says what it said.
var ErrWorkerDied = errors.New("voice worker ended")

// Start runs argv (allimi-voice with its flags) and waits until it has
// loaded its models. ctx bounds the loading only; Close ends the worker.
func Start(ctx context.Context, argv ...string) (*Proc, error) {
	p := &Proc{stderr: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stderr = &lockedWriter{w: p.stderr}
	in, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("voice worker %s: %w", argv[0], err)
	}
	p.in, p.out = in, bufio.NewReader(out)
	ready := make(chan error, 1)
	go func() {
		a, err := p.read()
		if err == nil && !a.Ready {
			err = fmt.Errorf("voice worker said %+v before being ready", a)
		}
		ready <- err
	}()
	go func() {
		// Wait reads the rest of stderr; it returns once stdout is drained
		// by read or the process is gone.
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	select {
	case err := <-ready:
		if err != nil {
			p.Close()
			return nil, err
		}
		return p, nil
	case <-ctx.Done():
		p.Close()
		return nil, ctx.Err()
	}
}

// read reads one answer; EOF means the worker died, and says why.
func (p *Proc) read() (answer, error) {
	var a answer
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		<-p.done
		return a, fmt.Errorf("%w (%v): %s", ErrWorkerDied, p.err, Reason(p.stderrText()))
	}
	if err := json.Unmarshal(line, &a); err != nil {
		return a, fmt.Errorf("voice worker: %w", err)
	}
	return a, nil
}

func (p *Proc) stderrText() string {
	lw := p.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return p.stderr.String()
}

// call sends one request and reads its answer.
func (p *Proc) call(op byte, payload []byte) (answer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	hdr := [5]byte{op}
	binary.LittleEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := p.in.Write(append(hdr[:], payload...)); err != nil {
		<-p.done
		return answer{}, fmt.Errorf("%w (%v): %s", ErrWorkerDied, p.err, Reason(p.stderrText()))
	}
	a, err := p.read()
	if err != nil {
		return a, err
	}
	if a.Error != "" {
		return a, errors.New(a.Error)
	}
	return a, nil
}

// Close ends the worker: its input closes and it exits; one that does not
// within a second is killed.
func (p *Proc) Close() error {
	p.in.Close()
	select {
	case <-p.done:
	case <-time.After(time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// Kill ends the worker at once (a decode that must be abandoned).
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// Reason keeps what sherpa-onnx and onnxruntime said before a process
// died, without the Go runtime's dump of goroutines and registers that
// follows an abort.
func Reason(stderr string) string {
	var keep []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "SIG") || strings.HasPrefix(line, "fatal error") ||
			strings.HasPrefix(line, "goroutine ") || strings.HasPrefix(line, "PC=") {
			break
		}
		if line = strings.TrimSpace(line); line != "" {
			keep = append(keep, line)
		}
	}
	s := strings.Join(keep, " ")
	if len(s) > 800 {
		s = s[:800] + "…"
	}
	if s == "" {
		s = "it said nothing"
	}
	return s
}
