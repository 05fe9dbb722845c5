package notify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"allimi"
)

// Delivery outcomes, per type and channel: the columns of the delivery
// statistics (allimi.DeliveryStats) and the results of the deliveries metric.
const (
	MetricSent       = "sent" // accepted by the provider
	MetricDelivered  = "delivered"
	MetricFailed     = "failed"
	MetricFellBack   = "fellBack"
	MetricDeadLetter = "deadLetter"
	MetricExpired    = "expired"
	MetricRetried    = "retried"
)

// Metrics are the dispatcher's Prometheus series. Register them with
// Collectors.
type Metrics struct {
	deliveries      *prometheus.CounterVec
	providerSeconds *prometheus.HistogramVec
	breakerTrips    *prometheus.CounterVec
	commitBatches   *prometheus.HistogramVec
	commitSeconds   *prometheus.HistogramVec
}

// NewMetrics makes the dispatcher's series, unregistered.
func NewMetrics() *Metrics {
	return &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allimi_deliveries_total", Help: "Delivery outcomes by channel (sent, delivered, failed, fellBack, deadLetter, expired, retried).",
		}, []string{"channel", "result"}),
		providerSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "allimi_provider_request_seconds", Help: "Latency of one batch request to a provider.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"channel"}),
		breakerTrips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allimi_provider_breaker_trips_total", Help: "Times a provider's circuit was opened.",
		}, []string{"channel"}),
		commitBatches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "allimi_dispatch_commit_batches", Help: "Provider requests whose outcomes one dispatch transaction records.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 8),
		}, []string{"channel"}),
		commitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "allimi_dispatch_commit_seconds", Help: "Time to record provider outcomes durably, one transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"channel"}),
	}
}

// Collectors are the series to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.deliveries, m.providerSeconds, m.breakerTrips, m.commitBatches, m.commitSeconds}
}

// statDelta gathers a transaction's statistics, written once at its end
// and added to the metrics once it is committed: per type, channel and
// outcome (allimi.DeliveryStats), and per KST day and the recipient's
// region too (allimi.DeliveryCell).
type statDelta map[statKey]int64

type statKey struct {
	t      allimi.NotificationType
	ch     allimi.Channel
	metric string
	region string
	day    int64 // days since 1970-01-01 in KST: no formatting per delivery
}

// kstDays is the KST day of t as a number.
func kstDays(t time.Time) int64 { return (t.Unix() + 9*3600) / 86400 }

// add counts n deliveries of it (one recipient's, on its channel) at now.
func (d statDelta) add(it *allimi.Outgoing, now time.Time, metric string, n int64) {
	d[statKey{it.N.Type, it.Ref.Channel, metric, it.Region, kstDays(now)}] += n
}

// undated are the outcomes the dated statistics leave out: a retry is
// not an outcome of a message.
var undated = map[string]bool{MetricRetried: true}

func (d statDelta) write(tx allimi.DeliveryTx) error {
	type total struct {
		t      allimi.NotificationType
		ch     allimi.Channel
		metric string
	}
	totals := make(map[total]int64, len(d))
	days := map[int64]string{}
	for k, n := range d {
		totals[total{k.t, k.ch, k.metric}] += n
		if undated[k.metric] {
			continue
		}
		day, ok := days[k.day]
		if !ok {
			day = time.Unix(k.day*86400, 0).UTC().Format(time.DateOnly)
			days[k.day] = day
		}
		if err := tx.CountDailyDeliveries(allimi.DeliveryCell{Day: day, Region: k.region, Type: k.t, Channel: k.ch, Outcome: k.metric}, n); err != nil {
			return err
		}
	}
	for k, n := range totals {
		if err := tx.CountDeliveries(k.t, k.ch, k.metric, n); err != nil {
			return err
		}
	}
	return nil
}

// observe adds a committed transaction's outcomes to the metrics.
func (m *Metrics) observe(d statDelta) {
	for k, v := range d {
		m.deliveries.WithLabelValues(string(k.ch), k.metric).Add(float64(v))
	}
}
