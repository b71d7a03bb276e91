// Package metrics defines Parley's Prometheus metrics.
package metrics

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the counters and histograms the core updates.
type Metrics struct {
	Inbound          *prometheus.CounterVec
	Offers           *prometheus.CounterVec
	DeliveryFailures *prometheus.CounterVec
	HTTPRequests     *prometheus.CounterVec
	HTTPDuration     *prometheus.HistogramVec
	Routing          *prometheus.HistogramVec
}

// New creates the metrics and registers them with reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_inbound_messages_total", Help: "Inbound customer messages stored, by channel (duplicates excluded).",
		}, []string{"channel"}),
		Offers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_offers_total", Help: "Offers by outcome (created, accepted, rejected, timeout, canceled, rescinded).",
		}, []string{"outcome"}),
		DeliveryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_delivery_failures_total", Help: "Outbound delivery attempts that failed, by channel.",
		}, []string{"channel"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total", Help: "HTTP requests by route pattern and status class.",
		}, []string{"route", "status"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		Routing: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_routing_decision_seconds", Help: "Wall time of each routing script (one atomic decision), by operation.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25},
		}, []string{"op"}),
	}
	reg.MustRegister(m.Inbound, m.Offers, m.DeliveryFailures, m.HTTPRequests, m.HTTPDuration, m.Routing)
	return m
}
