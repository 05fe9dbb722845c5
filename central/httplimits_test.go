package central_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/internal/loadgen"
)

// endlessList is a notification whose list of citizens goes on for size
// bytes, made as it is read: the attack costs the test nothing.
type endlessList struct {
	head, item []byte
	left       int64
	off        int
}

func newEndlessList(size int64) *endlessList {
	return &endlessList{head: []byte(`{"type":"health-checkup","params":{"year":"2026"},"audience":{"citizens":[`),
		item: []byte(`{"mobile":"010-1234-5678","birthDate":"1950-01-02"},`), left: size}
}

func (e *endlessList) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && e.left > 0 {
		src := e.item
		if e.head != nil {
			src = e.head
		}
		c := copy(p[n:], src[e.off:])
		c = int(min(int64(c), e.left))
		n, e.off, e.left = n+c, e.off+c, e.left-int64(c)
		if e.off == len(src) {
			e.off, e.head = 0, nil
		}
	}
	return n, nil
}

func TestHTTP_AgencyBodyOf256MiBIs413AndCentralsHeapStaysSmall(t *testing.T) {
	f := newFanout(t, fanoutOptions{people: 1})
	const size = 256 << 20

	// The heap is sampled while the body goes in: what a decoder holds
	// is gone by the end, and a GC then would hide it.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	req, err := http.NewRequest(http.MethodPost, f.tc.http+"/api/v1/notifications", newEndlessList(size))
	require.NoError(t, err)
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	close(stop)
	wg.Wait()

	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Contains(t, string(body), "body larger than 8388608 bytes: send a large list of citizens as NDJSON")
	growth := int64(max(peak, after.HeapInuse)) - int64(before.HeapInuse)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("heap in use: %d MiB before, %d MiB at the peak; %d MiB allocated in all, for a %d MiB body",
		before.HeapInuse>>20, max(peak, after.HeapInuse)>>20, alloc>>20, size>>20)
	assert.Less(t, growth, int64(size/8), "central's heap grows by a fraction of the body")
	assert.Less(t, alloc, uint64(size/4), "central allocates a fraction of the body, in all")

	// Nothing was stored: the agency's first notification does not exist.
	r2, err := http.NewRequest(http.MethodGet, f.tc.http+"/api/v1/notifications/1", nil)
	require.NoError(t, err)
	r2.Header.Set("Authorization", "Bearer "+f.token)
	resp, err = http.DefaultClient.Do(r2)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestHTTP_OversizedBodiesAre413WithAClearError(t *testing.T) {
	data := t.TempDir()
	withOfficialInStore(t, data, "kim.minji")
	tc := startCentral(t, data)
	admin := adminToken(t, data)
	cases := []struct {
		name, method, path, token, contentType string
		size                                   int
	}{
		{"conflict resolution", http.MethodPost, "/api/v1/conflicts/1/resolve", admin, "application/json", 4<<10 + 1},
		{"enrolment", http.MethodPost, "/api/v1/enrol", "", "application/json", 1<<10 + 1},
		{"new enrolment code", http.MethodPost, "/api/v1/kiosks/k1/enrol", admin, "application/json", 1<<10 + 1},
		{"receipt form", http.MethodPost, "/r/ABCDE-FGHJK", "", "application/x-www-form-urlencoded", 4<<10 + 1},
		{"sign-in form", http.MethodPost, "/officials/login", "", "application/x-www-form-urlencoded", 4<<10 + 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A JSON string or a form field that runs past the limit.
			body := `{"code":"` + strings.Repeat("A", c.size) + `"}`
			if strings.HasPrefix(c.contentType, "application/x-www") {
				body = "birthDate=" + strings.Repeat("1", c.size)
			}
			req, err := http.NewRequest(c.method, tc.http+c.path, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", c.contentType)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(b))
			assert.Contains(t, string(b), "larger than")
			assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
		})
	}
}

// withOfficialInStore registers an official in a stopped central's data.
func withOfficialInStore(t *testing.T, data, id string) allimi.OfficialCredentials {
	t.Helper()
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	cred, err := st.AddOfficial(id, false)
	require.NoError(t, err)
	return cred
}

func TestHTTP_MultipartFormsAreRefusedBeforeAnythingIsSpooledToDisk(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where mime/multipart spools file parts
	tc := startCentral(t, t.TempDir())
	for _, path := range []string{"/officials/login", "/r/ABCDE-FGHJK"} {
		t.Run(path, func(t *testing.T) {
			// 40 MiB: past the 32 MiB that ParseMultipartForm keeps in memory.
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				_ = mw.WriteField("id", "kim.minji")
				part, err := mw.CreateFormFile("token", "token.bin")
				if err == nil {
					_, err = io.CopyN(part, zeros{}, 40<<20)
				}
				if err == nil {
					err = mw.Close()
				}
				pw.CloseWithError(err)
			}()
			req, err := http.NewRequest(http.MethodPost, tc.http+path, pr)
			require.NoError(t, err)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			resp, err := http.DefaultClient.Do(req)
			pr.Close() // stops the writer once central has answered
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(b))
			assert.Contains(t, string(b), "request body larger than 4096 bytes")
			spooled, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, spooled, "no part of the body was written to a temporary file")
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestHTTP_SlowBodyIsCutOffByTheReadTimeout(t *testing.T) {
	tc := startCentral(t, t.TempDir(), func(c *central.Config) { c.HTTPTimeouts.Read = 2 * time.Second })
	conn, err := net.Dial("tcp", tc.srv.HTTPAddr())
	require.NoError(t, err)
	defer conn.Close()
	const promised = 1000
	_, err = fmt.Fprintf(conn, "POST /officials/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nid=",
		tc.srv.HTTPAddr(), promised)
	require.NoError(t, err)

	// The attacker: one byte a second, for as long as central listens.
	sent := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		n := 3
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		defer func() { sent <- n }()
		for n < promised {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
			n++
		}
	}()

	// Central closes the connection (after its answer, if any): a read
	// ends in EOF or a reset, not in this test's own deadline.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Minute)))
	_, err = io.Copy(io.Discard, conn)
	var ne net.Error
	if err != nil && errors.As(err, &ne) {
		assert.False(t, ne.Timeout(), "central kept the slow request open: %v", err)
	}
	cancel()
	assert.Less(t, <-sent, promised, "the body was cut off before it was all sent")
}

func TestHTTP_IdleKeepAliveIsClosed(t *testing.T) {
	tc := startCentral(t, t.TempDir(), func(c *central.Config) { c.HTTPTimeouts.Idle = time.Second })
	conn, err := net.Dial("tcp", tc.srv.HTTPAddr())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", tc.srv.HTTPAddr())
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.False(t, resp.Close, "the connection is kept alive after the first answer")

	// Then nothing: central closes the idle connection.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Minute)))
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "central closed the idle keep-alive connection")
}

// throttled reads at most a rate of bytes a second: a slow link.
type throttled struct {
	r   io.Reader
	lim *rate.Limiter
}

func (t throttled) Read(p []byte) (int, error) {
	p = p[:min(len(p), t.lim.Burst())]
	n, err := t.r.Read(p)
	if n > 0 {
		if werr := t.lim.WaitN(context.Background(), n); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func TestHTTP_BackupOutlastsTheWriteTimeoutOverASlowLink(t *testing.T) {
	data := t.TempDir()
	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	// About 16 MiB of database: far more than the socket buffers hold.
	require.NoError(t, loadgen.Seed(st, 30000, []allimi.NotificationType{allimi.TypeHealthCheckup}, []allimi.Channel{allimi.ChannelKakao}))
	require.NoError(t, st.Close())
	tc := startCentral(t, data, func(c *central.Config) { c.HTTPTimeouts.Write = time.Second })

	// A small receive window, so what central writes waits on the reader.
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	req, err := http.NewRequest(http.MethodGet, tc.http+"/api/v1/backup", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken(t, data))
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	start := time.Now()
	out := filepath.Join(t.TempDir(), "backup.db")
	fh, err := os.Create(out)
	require.NoError(t, err)
	n, err := io.Copy(fh, throttled{resp.Body, rate.NewLimiter(4<<20, 64<<10)}) // 4 MiB/s: about 4 s
	require.NoError(t, fh.Close())
	t.Logf("backup: %d MiB in %s, with a write timeout of 1 s", n>>20, time.Since(start).Round(time.Millisecond))
	require.NoError(t, err, "the stream was not cut off")
	assert.NoError(t, central.VerifyBackup(out), "the copy is whole")
}
