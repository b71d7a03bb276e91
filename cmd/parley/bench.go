package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/parleyhq/parley/routing"
	"github.com/redis/go-redis/v9"
)

// bench runs a load benchmark against the configured Redis:
//
//	parley bench routing [-agents 500] [-queues 20] [-tasks 10000] [-reservations 20000] [-concurrency 8]
//
// It builds its own world under its own key prefix and deletes it after.
func bench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || args[0] != "routing" {
		return fmt.Errorf("usage: parley bench routing [flags]")
	}
	fs := flag.NewFlagSet("bench routing", flag.ContinueOnError)
	fs.SetOutput(stdout)
	cfg := routing.BenchConfig{}
	fs.StringVar(&cfg.Prefix, "prefix", "parley-bench", "Redis hash tag of the benchmark's keys (must not be in use)")
	fs.IntVar(&cfg.Agents, "agents", 500, "agents, each in 3 queues")
	fs.IntVar(&cfg.Queues, "queues", 20, "queues")
	fs.IntVar(&cfg.Tasks, "tasks", 10000, "tasks waiting while every agent is busy")
	fs.IntVar(&cfg.Reservations, "reservations", 20000, "reservations to make")
	fs.IntVar(&cfg.Concurrency, "concurrency", 8, "concurrent clients")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	url := getenv("PARLEY_REDIS_URL")
	if url == "" {
		return fmt.Errorf("PARLEY_REDIS_URL is not set: give a Redis URL such as redis://localhost:6379/0")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("PARLEY_REDIS_URL: %w", err)
	}
	opt.PoolSize = max(opt.PoolSize, cfg.Concurrency*2)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	log.Info("routing benchmark starting", "agents", cfg.Agents, "queues", cfg.Queues, "tasks", cfg.Tasks, "reservations", cfg.Reservations)
	res, err := routing.Bench(ctx, rdb, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res.String())
	return nil
}
