package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
)

func runType(t *testing.T, args ...string) error {
	t.Helper()
	c := centralTypeCmd()
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	return c.Execute()
}

// `central type put` with central stopped: the file checked, kept as the
// next version, and the kiosks' catalog of types written; a bad file
// changes nothing.
func TestTypeCommands_PutKeepsVersionsAndTheCatalog(t *testing.T) {
	t.Cleanup(allimi.ResetTypes)
	data := t.TempDir()
	good, err := os.ReadFile("../../central/typefile/testdata/parking-fine.toml")
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "parking-fine.toml")

	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(good), "{{place}}에서", "{{street}}에서", 1)), 0o600))
	err = runType(t, "put", "--data", data, "--file", file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown variable "street"`)

	require.NoError(t, os.WriteFile(file, good, 0o600))
	require.NoError(t, runType(t, "put", "--data", data, "--file", file))
	require.NoError(t, runType(t, "put", "--data", data, "--file", file))
	require.NoError(t, runType(t, "list", "--data", data))

	st, _, err := bolt.OpenData(data, bolt.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	vs, err := st.TypeDefVersions("parking-fine")
	require.NoError(t, err)
	assert.Len(t, vs, 2, "the bad file kept nothing")
	c, ok, err := st.Catalog(allimi.TypesCatalog)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Contains(t, string(c.Body), `"ID":"parking-fine"`)
	assert.Contains(t, string(c.Body), `"Version":2`)
}
