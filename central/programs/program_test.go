package programs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefault_LoadsTheShippedPrograms(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	require.Len(t, s.All(), 4)
}
