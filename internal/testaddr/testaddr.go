// Package testaddr hands tests free loopback TCP addresses for servers they
// start, never the same one twice in a process.
//
// A port found free by listening on :0 and closing is free only until
// someone binds it: another address handed out a moment later (the kernel
// may pick the same port again) or a server of the test's own bound to
// :0. Listening first on whatever must not collide, and never handing a
// port out twice, leaves only other processes to race with.
package testaddr

import (
	"net"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	given = map[int]bool{}
)

// Free returns a loopback address "127.0.0.1:PORT" nothing listens on now
// and that Free has not returned before in this process.
func Free(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	for range 1000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testaddr: %v", err)
		}
		addr := l.Addr().(*net.TCPAddr)
		l.Close()
		if !given[addr.Port] {
			given[addr.Port] = true
			return addr.String()
		}
	}
	t.Fatal("testaddr: no port that was not handed out already")
	return ""
}
