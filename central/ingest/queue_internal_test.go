package ingest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/sync/wire"
)

// testMsg is a received MQTT message: what paho hands the ingest.
type testMsg struct {
	topic   string
	payload []byte
	acked   bool
}

func (m *testMsg) Duplicate() bool { return false }

func (m *testMsg) Qos() byte { return 1 }

func (m *testMsg) Retained() bool { return false }

func (m *testMsg) Topic() string { return m.topic }

func (m *testMsg) MessageID() uint16 { return 0 }

func (m *testMsg) Payload() []byte { return m.payload }

func (m *testMsg) Ack() { m.acked = true }

func msg(kiosk string, n int) *testMsg {
	return &testMsg{topic: wire.UpTopic(kiosk), payload: fmt.Appendf(nil, "%s-%d", kiosk, n)}
}

// names lists the payloads of what was taken or shed, e.g. "a-1 b-1".
func names[T any](items []T, payload func(T) []byte) string {
	var s []string
	for _, it := range items {
		s = append(s, string(payload(it)))
	}
	return strings.Join(s, " ")
}

func takenNames(items []queued) string {
	return names(items, func(q queued) []byte { return q.msg.Payload() })
}

func TestFairQueue_TakesKiosksInTurnEachInArrivalOrder(t *testing.T) {
	q := newFairQueue(100, 1<<20)
	for i := 1; i <= 4; i++ {
		require.Empty(t, q.offer("a", msg("a", i)))
	}
	require.Empty(t, q.offer("b", msg("b", 1)))
	require.Empty(t, q.offer("b", msg("b", 2)))
	require.Empty(t, q.offer("c", msg("c", 1)))

	assert.Equal(t, "a-1 b-1 c-1", takenNames(q.take(3)))
	assert.Equal(t, "a-2 b-2 a-3", takenNames(q.take(3)), "the turn carries over from one batch to the next")
	assert.Equal(t, "a-4", takenNames(q.take(3)))
	assert.Empty(t, q.take(3))
	assert.Zero(t, q.len())
}

func TestFairQueue_WhenFullShedsTheNewestRecordOfTheKioskHoldingMost(t *testing.T) {
	tests := []struct {
		name       string
		offers     []string // kiosk of each offer, in order; the n-th offer of kiosk k is "k-n"
		wantShed   string
		wantQueued string // in the order take returns them
	}{
		{"a newcomer pushes out the flooder's newest", []string{"a", "a", "a", "a", "b"}, "a-4", "a-1 b-1 a-2 a-3"},
		{"the flooder's own record is shed when it holds the most", []string{"a", "a", "a", "b", "a"}, "a-4", "a-1 b-1 a-2 a-3"},
		{"equal holdings: the newcomer's own record goes", []string{"a", "a", "b", "b", "b"}, "b-3", "a-1 b-1 a-2 b-2"},
		{"not full: nothing is shed", []string{"a", "b", "c"}, "", "a-1 b-1 c-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newFairQueue(4, 1<<20)
			count := map[string]int{}
			var shed []*testMsg
			for _, k := range tt.offers {
				count[k]++
				for _, s := range q.offer(k, msg(k, count[k])) {
					shed = append(shed, s.(*testMsg))
				}
			}
			assert.Equal(t, tt.wantShed, names(shed, func(m *testMsg) []byte { return m.payload }))
			assert.Equal(t, tt.wantQueued, takenNames(q.take(10)))
		})
	}
}

func TestFairQueue_BoundsTheBytesItHolds(t *testing.T) {
	q := newFairQueue(100, 10)
	big := &testMsg{topic: wire.UpTopic("a"), payload: []byte("aaaaaaaa")}
	require.Empty(t, q.offer("a", big))
	small := msg("b", 1) // 3 bytes: 8+3 > 10
	shed := q.offer("b", small)
	require.Len(t, shed, 1)
	assert.Same(t, big, shed[0], "the kiosk holding more gives way")
	assert.Equal(t, 1, q.len())

	huge := &testMsg{topic: wire.UpTopic("c"), payload: make([]byte, 50)}
	shed = q.offer("c", huge)
	require.Len(t, shed, 1, "a record larger than the bound is never held")
	assert.Same(t, huge, shed[0])
	assert.Equal(t, "b-1", takenNames(q.take(10)), "and pushes nothing out")
}

// A flood far beyond the queue's size returns at once every time, holding
// the bound: paho's network loop, which calls offer, never waits on it.
func TestFairQueue_AFloodNeverWaitsAndStaysBounded(t *testing.T) {
	q := newFairQueue(100, 1<<20)
	shed := 0
	for i := range 10_000 {
		shed += len(q.offer("flood", msg("flood", i)))
	}
	assert.Equal(t, 9_900, shed)
	assert.Equal(t, 100, q.len())

	assert.Len(t, q.offer("quiet", msg("quiet", 1)), 1, "room is made for another kiosk")
	batch := q.take(2)
	assert.Equal(t, "flood-0 quiet-1", takenNames(batch), "the quiet kiosk is served in the first batch")
}
