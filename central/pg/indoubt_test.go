package pg

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// cutProxy stands between a store and PostgreSQL (TCP in front of its
// unix socket) and, when armed, cuts the connection at the next COMMIT:
// after the server got it (its answer is lost: the server committed) or
// before (the server never got it).
type cutProxy struct {
	ln     net.Listener
	socket string
	// armed: 1 cut after forwarding the COMMIT, 2 cut before it.
	armed atomic.Int32
	cuts  atomic.Int32
	wg    sync.WaitGroup
}

// commitQuery is COMMIT as pgx sends it: a simple-protocol query message.
var commitQuery = append([]byte{'Q', 0, 0, 0, 11}, "commit\x00"...)

func newCutProxy(t *testing.T, pgURL string) (*cutProxy, string) {
	t.Helper()
	u, err := url.Parse(pgURL)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{ln: ln, socket: filepath.Join(u.Query().Get("host"), ".s.PGSQL.5432")}
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	p.wg.Add(1)
	go p.serve()
	q := u.Query()
	q.Del("host")
	q.Set("sslmode", "disable")
	u.Host = "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	u.RawQuery = q.Encode()
	return p, u.String()
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("unix", p.socket)
		if err != nil {
			c.Close()
			continue
		}
		var cut atomic.Bool
		p.wg.Add(2)
		go func() { // server → client, dropped once cut
			defer p.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && !cut.Load() {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil || cut.Load() {
					break
				}
			}
			c.Close()
		}()
		go func() { // client → server, watching for COMMIT
			defer p.wg.Done()
			defer s.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					chunk := buf[:n]
					if mode := p.armed.Load(); mode != 0 && bytes.Contains(chunk, commitQuery) && p.armed.CompareAndSwap(mode, 0) {
						cut.Store(true)
						p.cuts.Add(1)
						if mode == 2 {
							c.Close() // the server never gets it
							return
						}
						// The server gets it and answers; the other side
						// drops the answer and the client's connection.
						if _, werr := s.Write(chunk); werr != nil {
							return
						}
						continue
					}
					if _, werr := s.Write(chunk); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// A commit whose answer is lost (the connection cut after the server got
// the COMMIT) is asked after: it committed, so the write is reported done
// and not made again; a commit the server never got is reported failed
// and nothing of it kept.
func TestRetried_ACommitWhoseAnswerIsLostIsAskedAfter(t *testing.T) {
	c := openStore(t)
	proxy, via := newCutProxy(t, c.url)
	s, err := Open(context.Background(), via, WithKeys(c.keys))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	proxy.armed.Store(1)
	d, err := s.PutTypeDef(allimi.TypeDef{ID: "parking-fine", File: []byte("v1")})
	require.NoError(t, err, "the server committed: done")
	assert.EqualValues(t, 1, proxy.cuts.Load(), "the answer was cut")
	assert.EqualValues(t, 1, d.Version)
	vs, err := c.TypeDefVersions("parking-fine")
	require.NoError(t, err)
	assert.Len(t, vs, 1, "once")

	proxy.armed.Store(2)
	_, err = s.PutTypeDef(allimi.TypeDef{ID: "parking-fine", File: []byte("v2")})
	require.Error(t, err, "the server never got the COMMIT")
	assert.EqualValues(t, 2, proxy.cuts.Load())
	vs, err = c.TypeDefVersions("parking-fine")
	require.NoError(t, err)
	assert.Len(t, vs, 1, "nothing of it kept")

	d, err = s.PutTypeDef(allimi.TypeDef{ID: "parking-fine", File: []byte("v2")})
	require.NoError(t, err, "the pool's other connections carry on")
	assert.EqualValues(t, 2, d.Version)
}
