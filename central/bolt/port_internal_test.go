package bolt

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every bucket of the parts is read by Reader or left with a reason: a
// bucket added to a part fails here until the port copies it or says why
// not.
func TestReader_CoversEveryBucketOfTheParts(t *testing.T) {
	read := map[string]bool{}
	for _, b := range readByReader {
		assert.False(t, read[string(b)], "%s read twice", b)
		read[string(b)] = true
	}
	for _, p := range parts {
		for _, b := range p.buckets {
			_, why := notReadWhy[string(b)]
			assert.True(t, read[string(b)] != why, "bucket %s of part %s: read by Reader xor left with a reason", b, p.name)
		}
	}
}
