package notify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/memstore"
)

// The dated statistics count on the KST day of the dispatcher's clock —
// 23:59 and 00:01 KST are two days although both are the same UTC date —
// and under the recipient's region; retries are left out of them, and the
// undated table sums every region and day.
func TestStatDelta_CountsPerKSTDayAndRegion(t *testing.T) {
	s := memstore.New(nil)
	n := &allimi.Notification{Type: allimi.TypeHealthCheckup}
	seoul := &allimi.Outgoing{Ref: allimi.DeliveryRef{Channel: allimi.ChannelKakao}, N: n, Region: "서울특별시/종로구"}
	nowhere := &allimi.Outgoing{Ref: allimi.DeliveryRef{Channel: allimi.ChannelKakao}, N: n}
	before := time.Date(2026, 11, 20, 23, 59, 0, 0, allimi.KST)
	after := before.Add(2 * time.Minute)
	require.Equal(t, before.UTC().YearDay(), after.UTC().YearDay(), "one UTC date")
	d := statDelta{}
	d.add(seoul, before, MetricSent, 1)
	d.add(seoul, after, MetricSent, 1)
	d.add(seoul, after, MetricSent, 1)
	d.add(nowhere, after, MetricSent, 1)
	d.add(seoul, after, MetricRetried, 1)
	require.NoError(t, s.UpdateDeliveries(func(tx allimi.DeliveryTx) error { return d.write(tx) }))

	cell := func(day, region string) allimi.DeliveryCell {
		return allimi.DeliveryCell{Day: day, Region: region, Type: allimi.TypeHealthCheckup, Channel: allimi.ChannelKakao, Outcome: MetricSent}
	}
	got, err := s.DailyDeliveries("2026-11-20", "2026-11-21")
	require.NoError(t, err)
	assert.Equal(t, []allimi.DeliveryCount{
		{DeliveryCell: cell("2026-11-20", "서울특별시/종로구"), N: 1},
		{DeliveryCell: cell("2026-11-21", ""), N: 1},
		{DeliveryCell: cell("2026-11-21", "서울특별시/종로구"), N: 2},
	}, got)
	st, err := s.DeliveryStats()
	require.NoError(t, err)
	assert.EqualValues(t, 4, st[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)][MetricSent])
	assert.EqualValues(t, 1, st[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)][MetricRetried])
}
