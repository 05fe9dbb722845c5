package central

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"allimi"
	"allimi/central/channel"
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

// watchProviders adds the series of the channels with more than one
// provider (the kakao channel with SENS): batches per provider and
// failovers, read from the adapters (channel.Stats).
func (m *metrics) watchProviders(adapters map[allimi.Channel]channel.Adapter) {
	for ch, st := range channel.Stats(adapters) {
		for name := range st.Batches {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "allimi_provider_batches_total",
				Help:        "Requests sent through each provider of a channel with several (kakao: nhn, sens).",
				ConstLabels: prometheus.Labels{"channel": string(ch), "provider": name},
			}, func() float64 { return float64(channel.Stats(adapters)[ch].Batches[name]) }))
		}
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "allimi_provider_failovers_total",
			Help:        "Batches sent through a channel's second provider because the first was down or unreachable (kakao: SENS for NHN).",
			ConstLabels: prometheus.Labels{"channel": string(ch)},
		}, func() float64 { return float64(channel.Stats(adapters)[ch].Failovers) }))
	}
}
