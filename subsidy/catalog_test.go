package subsidy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCatalog_ChangedAndSubset are what central's "new benefits for you"
// notice needs: the services whose verdict may be new, matched alone.
func TestCatalog_ChangedAndSubset(t *testing.T) {
	old := NewCatalog(About{}, []Service{
		{ID: "same", Name: "그대로", Conditions: conds(intp(65), nil)},
		{ID: "renamed", Name: "옛 이름", Conditions: conds(intp(65), nil)},
		{ID: "widened", Name: "넓어짐", Conditions: conds(intp(70), nil)},
		{ID: "moved", Org: "경기도 수원시", OrgType: "지방자치단체"},
		{ID: "gone"},
	})
	cur := NewCatalog(About{}, []Service{
		{ID: "same", Name: "그대로", Conditions: conds(intp(65), nil)},
		{ID: "renamed", Name: "새 이름", Conditions: conds(intp(65), nil)},
		{ID: "widened", Name: "넓어짐", Conditions: conds(intp(65), nil)},
		{ID: "moved", Org: "경기도 성남시", OrgType: "지방자치단체"},
		{ID: "added", Conditions: conds(nil, nil, "JA0328")},
	})
	ids := cur.Changed(old)
	assert.Equal(t, []string{"added", "moved", "widened"}, ids, "a new name alone changes no verdict")

	sub := cur.Subset(append(ids, "unknown-id"))
	require.Equal(t, 3, sub.Len())
	who := person(t, Profile{Age: intp(67), Traits: []string{"JA0328"}})
	for _, res := range sub.Match(who, Options{All: true}) {
		whole, ok := cur.Check(who, res.Service.ID)
		require.True(t, ok)
		assert.Equal(t, whole.Verdict, res.Verdict, res.Service.ID)
	}
	assert.Empty(t, cur.Changed(cur))
}
