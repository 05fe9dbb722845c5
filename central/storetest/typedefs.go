package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// TypeDefBackend is a store of type definitions under test.
type TypeDefBackend[B any] interface {
	allimi.TypeDefs
	Reopen(t *testing.T) B
}

// TypeDefs checks allimi.TypeDefs: each put is the next version of its
// type, every version kept, the latest of each listed by id, across a
// restart; puts at once never share a version.
func TypeDefs[B TypeDefBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"VersionsInOrder", typeDefsVersions[B]},
		{"ConcurrentPutsNeverShareAVersion", typeDefsConcurrent[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func putDef(t *testing.T, b allimi.TypeDefs, id, file string) allimi.TypeDef {
	t.Helper()
	d, err := b.PutTypeDef(allimi.TypeDef{ID: allimi.NotificationType(id), File: []byte(file)})
	require.NoError(t, err)
	return d
}

func typeDefsVersions[B TypeDefBackend[B]](t *testing.T, b B) {
	none, err := b.TypeDefs()
	require.NoError(t, err)
	assert.Empty(t, none)
	vs, err := b.TypeDefVersions("parking-fine")
	require.NoError(t, err)
	assert.Empty(t, vs)

	before := time.Now().Add(-time.Second)
	p1 := putDef(t, b, "parking-fine", "v1")
	assert.EqualValues(t, 1, p1.Version)
	assert.True(t, p1.Put.After(before))
	putDef(t, b, "health-checkup", "checkup v1")
	p2 := putDef(t, b, "parking-fine", "v2")
	assert.EqualValues(t, 2, p2.Version)

	b = b.Reopen(t)
	all, err := b.TypeDefs()
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, allimi.NotificationType("health-checkup"), all[0].ID, "by id")
	assert.Equal(t, "checkup v1", string(all[0].File))
	assert.Equal(t, allimi.NotificationType("parking-fine"), all[1].ID)
	assert.EqualValues(t, 2, all[1].Version)
	assert.Equal(t, "v2", string(all[1].File))

	vs, err = b.TypeDefVersions("parking-fine")
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.Equal(t, "v1", string(vs[0].File))
	assert.EqualValues(t, 1, vs[0].Version)
	assert.True(t, vs[0].Put.Equal(p1.Put.Truncate(time.Microsecond)) || vs[0].Put.Equal(p1.Put), "%v %v", vs[0].Put, p1.Put)
	assert.Equal(t, "v2", string(vs[1].File))

	_, err = b.PutTypeDef(allimi.TypeDef{ID: "Bad Id", File: []byte("x")})
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	_, err = b.PutTypeDef(allimi.TypeDef{ID: "empty"})
	assert.ErrorIs(t, err, allimi.ErrInvalid, "a version without a file")
}

func typeDefsConcurrent[B TypeDefBackend[B]](t *testing.T, b B) {
	const n = 8
	var wg sync.WaitGroup
	versions := make(chan uint64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := b.PutTypeDef(allimi.TypeDef{ID: "parking-fine", File: []byte(fmt.Sprint("v", i))})
			if assert.NoError(t, err) {
				versions <- d.Version
			}
		}()
	}
	wg.Wait()
	close(versions)
	seen := map[uint64]bool{}
	for v := range versions {
		assert.False(t, seen[v], "version %d twice", v)
		seen[v] = true
	}
	vs, err := b.TypeDefVersions("parking-fine")
	require.NoError(t, err)
	assert.Len(t, vs, n)
}
