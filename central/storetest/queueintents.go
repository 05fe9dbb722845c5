package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// QueueIntents checks allimi.QueueIntents: intents stored for many keys at
// once, read back by channel and key, replaced by a later put, forgotten
// when settled, and durable when the backend is (DeliveryReopener).
func QueueIntents(t *testing.T, open OpenDeliveries) {
	for _, c := range []struct {
		name string
		test func(*testing.T, DeliveryBackend)
	}{
		{"PutAndRead", qiPutAndRead},
		{"Replaced", qiReplaced},
		{"Settled", qiSettled},
		{"Durable", qiDurable},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func queueIntents(t *testing.T, b DeliveryBackend, ch allimi.Channel, keys ...string) map[string]allimi.QueueIntent {
	t.Helper()
	got, err := b.QueueIntents(ch, keys)
	require.NoError(t, err)
	return got
}

func qiPutAndRead(t *testing.T, b DeliveryBackend) {
	assert.Empty(t, queueIntents(t, b, allimi.ChannelSMS, "c1", "c2"), "none yet")
	in := allimi.QueueIntent{At: 1764581400123, Group: 1<<63 + 5}
	require.NoError(t, b.PutQueueIntents(allimi.ChannelSMS, []string{"c1", "c2", "answer/7"}, in))
	other := allimi.QueueIntent{At: 1764581400999, Group: 3}
	require.NoError(t, b.PutQueueIntents(allimi.ChannelKakao, []string{"c1"}, other))

	assert.Equal(t, map[string]allimi.QueueIntent{"c1": in, "answer/7": in},
		queueIntents(t, b, allimi.ChannelSMS, "c1", "c3", "answer/7"), "those of keys that have one")
	assert.Equal(t, map[string]allimi.QueueIntent{"c1": other}, queueIntents(t, b, allimi.ChannelKakao, "c1", "c2", "answer/7"),
		"each channel its own")
	assert.Empty(t, queueIntents(t, b, allimi.ChannelNaver, "c1", "c2"))
	assert.Empty(t, queueIntents(t, b, allimi.ChannelSMS), "no keys, nothing read")
	assert.Empty(t, queueIntents(t, b, allimi.ChannelSMS, "c", "c10", "answer"), "keys are whole")

	require.NoError(t, b.PutQueueIntents(allimi.ChannelSMS, nil, allimi.QueueIntent{At: 1, Group: 1}))
	assert.Equal(t, map[string]allimi.QueueIntent{"c1": in, "c2": in}, queueIntents(t, b, allimi.ChannelSMS, "c1", "c2"), "no keys, nothing stored")
}

func qiReplaced(t *testing.T, b DeliveryBackend) {
	first := allimi.QueueIntent{At: 1000, Group: 1}
	require.NoError(t, b.PutQueueIntents(allimi.ChannelSMS, []string{"c1", "c2"}, first))
	again := allimi.QueueIntent{At: 2000, Group: 2}
	require.NoError(t, b.PutQueueIntents(allimi.ChannelSMS, []string{"c2", "c3"}, again))
	assert.Equal(t, map[string]allimi.QueueIntent{"c1": first, "c2": again, "c3": again},
		queueIntents(t, b, allimi.ChannelSMS, "c1", "c2", "c3"), "the latest intent of each key")
}

func qiSettled(t *testing.T, b DeliveryBackend) {
	in := allimi.QueueIntent{At: 1000, Group: 4}
	require.NoError(t, b.PutQueueIntents(allimi.ChannelSMS, []string{"c1", "c2", "c3"}, in))
	require.NoError(t, b.PutQueueIntents(allimi.ChannelKakao, []string{"c1"}, in))
	require.NoError(t, b.QueueSettled(allimi.ChannelSMS, "c1", "c3"))
	assert.Equal(t, map[string]allimi.QueueIntent{"c2": in}, queueIntents(t, b, allimi.ChannelSMS, "c1", "c2", "c3"))
	assert.Equal(t, map[string]allimi.QueueIntent{"c1": in}, queueIntents(t, b, allimi.ChannelKakao, "c1"), "another channel's kept")
	require.NoError(t, b.QueueSettled(allimi.ChannelSMS, "c1", "never-put"), "settling what has no intent is no error")
	require.NoError(t, b.QueueSettled(allimi.ChannelSMS))
	assert.Equal(t, map[string]allimi.QueueIntent{"c2": in}, queueIntents(t, b, allimi.ChannelSMS, "c1", "c2", "c3"))
	require.NoError(t, b.PutQueueIntents(allimi.ChannelSMS, []string{"c1"}, in))
	assert.Equal(t, map[string]allimi.QueueIntent{"c1": in, "c2": in}, queueIntents(t, b, allimi.ChannelSMS, "c1", "c2"), "a settled key takes a new intent")
}

func qiDurable(t *testing.T, b DeliveryBackend) {
	re, ok := b.(DeliveryReopener)
	if !ok {
		t.Skip("the backend keeps nothing across a restart")
	}
	in := allimi.QueueIntent{At: 1764581400123, Group: 77}
	require.NoError(t, b.PutQueueIntents(allimi.ChannelSMS, []string{"c1", "c2"}, in))
	require.NoError(t, b.QueueSettled(allimi.ChannelSMS, "c2"))
	b = re.ReopenDeliveries(t)
	assert.Equal(t, map[string]allimi.QueueIntent{"c1": in}, queueIntents(t, b, allimi.ChannelSMS, "c1", "c2"))
}
