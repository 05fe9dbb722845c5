package notify

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestTruncate_CutsAtACharacterBoundary(t *testing.T) {
	s := "카카오톡 사용자가 아님" // 3 bytes a syllable
	for n := 0; n <= len(s)+1; n++ {
		got := truncate(s, n)
		assert.LessOrEqual(t, len(got), n)
		assert.True(t, utf8.ValidString(got), "n=%d", n)
	}
	assert.Equal(t, "카카", truncate(s, 7))
}
