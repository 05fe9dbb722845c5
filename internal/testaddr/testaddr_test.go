package testaddr

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFree_NeverTheSameTwiceAndBindable(t *testing.T) {
	seen := map[string]bool{}
	for range 300 {
		a := Free(t)
		assert.False(t, seen[a], "%s handed out twice", a)
		seen[a] = true
	}
	a := Free(t)
	l, err := net.Listen("tcp", a)
	require.NoError(t, err, "the address is free to bind")
	l.Close()
}
