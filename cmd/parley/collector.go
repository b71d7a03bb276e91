package main

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/routing"
	"github.com/prometheus/client_golang/prometheus"
)

// queueCollector reads queue depth and longest wait from the router at
// scrape time.
type queueCollector struct {
	db      *postgres.DB
	router  *routing.Router
	log     *slog.Logger
	depth   *prometheus.Desc
	longest *prometheus.Desc
}

func newQueueCollector(db *postgres.DB, router *routing.Router, log *slog.Logger) *queueCollector {
	return &queueCollector{db: db, router: router, log: log,
		depth:   prometheus.NewDesc("parley_queue_waiting", "Conversations waiting in the queue.", []string{"queue", "queue_id"}, nil),
		longest: prometheus.NewDesc("parley_queue_longest_wait_seconds", "Wait of the oldest waiting conversation.", []string{"queue", "queue_id"}, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.longest
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	queues, err := c.db.Queues(ctx)
	if err != nil {
		c.log.Warn("collect queue metrics", "error", err)
		return
	}
	for _, q := range queues {
		waiting, oldest, err := c.router.QueueStats(ctx, q.ID)
		if err != nil {
			c.log.Warn("collect queue metrics", "queue_id", q.ID, "error", err)
			continue
		}
		id := strconv.FormatInt(q.ID, 10)
		wait := 0.0
		if waiting > 0 && !oldest.IsZero() {
			wait = time.Since(oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(waiting), q.Name, id)
		ch <- prometheus.MustNewConstMetric(c.longest, prometheus.GaugeValue, wait, q.Name, id)
	}
}
