// Command parley is Parley's server and command-line tool in one binary:
//
//	parley serve             run the server (migrates and reconciles routing first)
//	parley migrate           apply database migrations
//	parley seed --demo       create the demo organisation (idempotent)
//	parley reconcile         rebuild the routing state in Redis from PostgreSQL
//	parley bench routing     routing load benchmark against PARLEY_REDIS_URL
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(1)
	}
}

const usage = `Usage: parley <command> [flags]

Commands:
  serve       run the server (applies migrations and rebuilds routing state first)
  migrate     apply database migrations
  seed        create demo data: parley seed --demo
  reconcile   rebuild the routing state in Redis from PostgreSQL
  bench       load benchmarks: parley bench routing [-agents -queues -tasks -reservations -concurrency]
  simulate    send signed Twilio webhooks to a running server: parley simulate sms|whatsapp|call --inbox ID

Configuration comes from the environment: PARLEY_DATABASE_URL, PARLEY_REDIS_URL,
PARLEY_HTTP_ADDR, PARLEY_PUBLIC_URL, PARLEY_SECRET_KEY (64 hex characters),
PARLEY_ALLOWED_ORIGINS (comma-separated), PARLEY_LOG_LEVEL (debug|info|warn|error).
`

// run is the whole program, so tests can start it like main does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(getenv("PARLEY_LOG_LEVEL"))); err != nil && getenv("PARLEY_LOG_LEVEL") != "" {
		return fmt.Errorf("PARLEY_LOG_LEVEL must be debug, info, warn or error")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, log)
	case "migrate":
		return migrate(ctx, getenv, stdout, log)
	case "seed":
		return seed(ctx, rest, getenv, stdout, log)
	case "reconcile":
		return reconcile(ctx, getenv, stdout, log)
	case "bench":
		return bench(ctx, rest, getenv, stdout, log)
	case "simulate":
		return simulate(ctx, rest, getenv, stdout, log)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
