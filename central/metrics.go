package central

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"allimi/central/notify"
)

// metrics are central's Prometheus series, on a registry of their own so
// that several centrals can live in one test process.
type metrics struct {
	reg *prometheus.Registry

	notifications *prometheus.CounterVec
	programSteps  *prometheus.CounterVec
	dispatch      *notify.Metrics
}

// programStep counts a program step's outcome.
func (m *metrics) programStep(program, step, outcome string) {
	m.programSteps.WithLabelValues(program, step, outcome).Inc()
}

func newMetrics(store Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allimi_notifications_total", Help: "Agency notifications received, by type.",
	}, []string{"type"})
	m.programSteps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "allimi_program_steps_total",
		Help: "Steps of programs of notifications dealt with, by program, step and outcome: sent, stale (due when it could no longer help: dropped) or failed.",
	}, []string{"program", "step", "outcome"})
	m.dispatch = notify.NewMetrics()
	m.reg.MustRegister(m.notifications, m.programSteps)
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
	m.reg.MustRegister(subscribers, subsPending,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
