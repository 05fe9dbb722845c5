package notify

import (
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
// and added to the metrics once it is committed.
type statDelta map[statKey]int64

type statKey struct {
	t      allimi.NotificationType
	ch     allimi.Channel
	metric string
}

func (d statDelta) add(t allimi.NotificationType, ch allimi.Channel, metric string, n int64) {
	d[statKey{t, ch, metric}] += n
}

func (d statDelta) write(tx allimi.DeliveryTx) error {
	for k, n := range d {
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
