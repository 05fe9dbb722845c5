package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/bolt"
)

// `kiosk add --region` keeps where the kiosk stands (its 시도 by its
// official name), in both stores; a region that is no 시도 of Korea is the
// user's error and registers nothing; `add` again without the flag keeps
// the region, with it empty clears it.
func TestKioskAdd_Region(t *testing.T) {
	regionOf := func(t *testing.T, open func() (allimi.KioskRegions, func()), id string) (string, error) {
		t.Helper()
		st, done := open()
		defer done()
		return st.KioskRegion(id)
	}
	for name, store := range map[string]func(t *testing.T) ([]string, func() (allimi.KioskRegions, func())){
		"bbolt": func(t *testing.T) ([]string, func() (allimi.KioskRegions, func())) {
			dir := t.TempDir()
			return []string{"--data", dir}, func() (allimi.KioskRegions, func()) {
				st, _, err := bolt.OpenData(dir, bolt.StoreOptions{})
				require.NoError(t, err)
				return st, func() { _ = st.Close() }
			}
		},
		"postgres": func(t *testing.T) ([]string, func() (allimi.KioskRegions, func())) {
			url := migrated(t)
			keys := t.TempDir()
			return []string{"--store", url, "--keys", keys}, func() (allimi.KioskRegions, func()) {
				st := openPG(t, url, nil)
				return st, func() {}
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			flags, open := store(t)
			add := func(args ...string) error {
				_, err := runPrinting(t, centralKioskCmd(), append(append([]string{"add"}, flags...), args...)...)
				return err
			}
			require.NoError(t, add("--id", "jongno-1", "--region", "서울/종로구", "--json"))
			got, err := regionOf(t, open, "jongno-1")
			require.NoError(t, err)
			assert.Equal(t, "서울특별시/종로구", got)

			err = add("--id", "nowhere-1", "--region", "아틀란티스/수도")
			require.Error(t, err)
			assert.Equal(t, 2, exitCode(err), "the user's error")
			_, err = regionOf(t, open, "nowhere-1")
			assert.ErrorIs(t, err, allimi.ErrNotFound, "nothing registered")

			require.NoError(t, add("--id", "jongno-1"))
			got, _ = regionOf(t, open, "jongno-1")
			assert.Equal(t, "서울특별시/종로구", got, "a new password keeps it")
			require.NoError(t, add("--id", "jongno-1", "--region", ""))
			got, _ = regionOf(t, open, "jongno-1")
			assert.Empty(t, got, "cleared")
		})
	}
}
