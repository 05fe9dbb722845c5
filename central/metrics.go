package central

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"allimi/central/bolt"
	"allimi/central/notify"
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

	notifications *prometheus.CounterVec
	dispatch      *notify.Metrics
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
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allimi_notifications_total", Help: "Agency notifications received, by type.",
	}, []string{"type"})
	m.dispatch = notify.NewMetrics()
	m.reg.MustRegister(m.notifications)
	m.reg.MustRegister(m.dispatch.Collectors()...)
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
