package kiosk

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/assets"
	"allimi/consult"
)

func TestLazyAdviser_BuildsTheIndexOnFirstUseOnly(t *testing.T) {
	kb, err := consult.DecodeCatalog(assets.ConsultKB())
	require.NoError(t, err)
	built, err := consult.NewIndex(kb, consult.DefaultLexicon())
	require.NoError(t, err)
	loads := 0
	a := NewLazyAdviser(func() (*consult.Index, error) { loads++; return built, nil })
	assert.Zero(t, loads, "nothing is built at start")
	assert.Same(t, built, a.Index())
	assert.Same(t, built, a.Index())
	assert.Equal(t, 1, loads)

	// A catalog installed before the first question wins over the load.
	installed, err := consult.NewIndex(kb, nil)
	require.NoError(t, err)
	b := NewLazyAdviser(func() (*consult.Index, error) { return built, nil })
	b.SetIndex(installed)
	assert.Same(t, installed, b.Index())

	// A failed load leaves no index, which the screen reports.
	c := NewLazyAdviser(func() (*consult.Index, error) { return nil, errors.New("broken") })
	assert.Nil(t, c.Index())
}
