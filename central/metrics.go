package central

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"allimi/central/bolt"
)

// metrics are central's Prometheus series, on a registry of their own so
// that several centrals can live in one test process.
type metrics struct {
	reg         *prometheus.Registry
	records     *prometheus.CounterVec
	batchSize   prometheus.Histogram
	commitTime  prometheus.Histogram
	acksSent    prometheus.Counter
	brokerState prometheus.Gauge

	deliveries      *prometheus.CounterVec
	providerSeconds *prometheus.HistogramVec
	breakerTrips    *prometheus.CounterVec
	notifications   *prometheus.CounterVec
	dispatchBatches *prometheus.HistogramVec
	dispatchCommit  *prometheus.HistogramVec
}

func newMetrics(store *bolt.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allimi_ingest_records_total", Help: "Kiosk records received, by result (stored, duplicate, rejected).",
		}, []string{"result"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "allimi_ingest_batch_records", Help: "Records committed per bbolt transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7),
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "allimi_ingest_commit_seconds", Help: "Time to commit one ingest batch durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		acksSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "allimi_ingest_acks_sent_total", Help: "Application acks published to kiosks.",
		}),
		brokerState: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "allimi_broker_connected", Help: "1 while central's ingest client is connected to the broker.",
		}),
	}
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allimi_deliveries_total", Help: "Delivery outcomes by channel (sent, delivered, failed, fellBack, deadLetter, expired, retried).",
	}, []string{"channel", "result"})
	m.providerSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "allimi_provider_request_seconds", Help: "Latency of one batch request to a provider.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	}, []string{"channel"})
	m.breakerTrips = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allimi_provider_breaker_trips_total", Help: "Times a provider's circuit was opened.",
	}, []string{"channel"})
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allimi_notifications_total", Help: "Agency notifications received, by type.",
	}, []string{"type"})
	m.dispatchBatches = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "allimi_dispatch_commit_batches", Help: "Provider requests whose outcomes one dispatch transaction records.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 8),
	}, []string{"channel"})
	m.dispatchCommit = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "allimi_dispatch_commit_seconds", Help: "Time to record provider outcomes durably, one transaction.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"channel"})
	m.reg.MustRegister(m.deliveries, m.providerSeconds, m.breakerTrips, m.notifications, m.dispatchBatches, m.dispatchCommit)
	subscribers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "allimi_subscribers", Help: "Citizens with at least one active consent.",
	}, func() float64 {
		n, err := store.Subscribers()
		if err != nil {
			return -1
		}
		return float64(n)
	})
	subsPending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "allimi_subscriber_index_pending",
		Help: "Consent changes committed and not yet folded into the campaigns' subscriber index (campaigns fold them first).",
	}, func() float64 { return float64(store.SubsPending()) })
	m.reg.MustRegister(m.records, m.batchSize, m.commitTime, m.acksSent, m.brokerState, subscribers, subsPending,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
