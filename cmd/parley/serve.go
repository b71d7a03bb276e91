package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/agent-ui"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/channels/email"
	"github.com/parleyhq/parley/channels/twilio"
	"github.com/parleyhq/parley/channels/webchat"
	"github.com/parleyhq/parley/desk"
	"github.com/parleyhq/parley/gamification"
	"github.com/parleyhq/parley/internal/secret"
	"github.com/parleyhq/parley/internal/socket"
	"github.com/parleyhq/parley/jobs"
	"github.com/parleyhq/parley/metrics"
	"github.com/parleyhq/parley/migrations"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/routing"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/sla"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
)

// shutdownGrace bounds the graceful shutdown.
const shutdownGrace = 15 * time.Second

// deps are the connections every command needs.
type deps struct {
	cfg  config
	pool *pgxpool.Pool
	rdb  *redis.Client
	box  *secret.Box // nil without PARLEY_SECRET_KEY
}

func connect(ctx context.Context, getenv func(string) string, needSecret, needRedis bool) (*deps, error) {
	cfg, err := loadConfig(getenv, needSecret)
	if err != nil {
		return nil, err
	}
	d := &deps{cfg: cfg}
	if cfg.SecretKey != nil {
		if d.box, err = secret.New(cfg.SecretKey); err != nil {
			return nil, fmt.Errorf("PARLEY_SECRET_KEY: %w", err)
		}
	}
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("PARLEY_DATABASE_URL: %w", err)
	}
	// Singletons (email watchers, event consumers) each hold a connection
	// for their advisory lock: pgx's default of max(4, CPUs) is too few.
	// A pool_max_conns in the URL wins.
	if !strings.Contains(cfg.DatabaseURL, "pool_max_conns") {
		pcfg.MaxConns = max(pcfg.MaxConns, 25)
	}
	if d.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.pool.Ping(pctx); err != nil {
		d.close()
		return nil, fmt.Errorf("PostgreSQL at PARLEY_DATABASE_URL does not answer: %w", err)
	}
	if needRedis {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			d.close()
			return nil, fmt.Errorf("PARLEY_REDIS_URL: %w", err)
		}
		d.rdb = redis.NewClient(opt)
		if err := d.rdb.Ping(pctx).Err(); err != nil {
			d.close()
			return nil, fmt.Errorf("Redis at PARLEY_REDIS_URL does not answer: %w", err)
		}
	}
	return d, nil
}

func (d *deps) close() {
	if d.rdb != nil {
		d.rdb.Close()
	}
	if d.pool != nil {
		d.pool.Close()
	}
}

func migrate(ctx context.Context, getenv func(string) string, stdout io.Writer, log *slog.Logger) error {
	d, err := connect(ctx, getenv, false, false)
	if err != nil {
		return err
	}
	defer d.close()
	n, err := migrations.Up(ctx, d.pool, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrations: %d applied, database up to date\n", n)
	return nil
}

// app is the wired application.
type app struct {
	db      *postgres.DB
	bus     *bus.Bus
	desk    *desk.Desk
	worker  *jobs.Worker
	sockets *socket.Registry
	handler http.Handler
	twilio  *twilio.Channel
	game    *gamification.Service
	sla     *sla.Service
	surveys *desk.Surveys
}

func wire(d *deps, log *slog.Logger) (*app, error) {
	cfg := d.cfg
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)
	db := postgres.New(d.pool, d.box)
	b := bus.New(d.rdb, cfg.RedisPrefix, log)
	router := routing.New(d.rdb, routing.Options{Prefix: cfg.RedisPrefix,
		Observe: func(op string, took time.Duration) { m.Routing.WithLabelValues(op).Observe(took.Seconds()) }})
	queue := cfg.RedisPrefix + "-jobs"
	sockets := socket.NewRegistry()
	origins := socket.Origins{Allowed: cfg.AllowedOrigins}
	senders := map[parley.Channel]parley.Sender{}
	dk := desk.New(desk.Config{
		DB: db, Router: router, Redis: d.rdb, Prefix: cfg.RedisPrefix, Bus: b,
		Jobs: jobs.NewClient(d.rdb, queue), Senders: senders, Metrics: m, Log: log,
	})
	chat := webchat.New(dk, b, origins, sockets, log)
	senders[parley.ChannelWebchat] = chat
	senders[parley.ChannelEmail] = email.New(email.Config{Backend: dk, Store: desk.EmailStore{DB: db}, Log: log,
		MaxAttachmentBytes: cfg.EmailMaxAttachmentBytes, PollInterval: cfg.EmailPollInterval})
	tw, err := twilio.New(dk, twilio.Config{PublicURL: cfg.PublicURL, APIBase: cfg.TwilioAPIBase, Jobs: jobs.NewClient(d.rdb, queue),
		Softphone: cfg.Softphone, Log: log})
	if err != nil {
		return nil, fmt.Errorf("PARLEY_TWILIO_API_BASE: %w", err)
	}
	senders[parley.ChannelSMS], senders[parley.ChannelWhatsApp] = tw, tw
	ui, err := agentui.New()
	if err != nil {
		return nil, err
	}
	if cfg.Softphone.Enabled() {
		ui.AllowSoftphone(cfg.Softphone.SDKURL)
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_websocket_connections", Help: "Open WebSockets (agents and visitors) on this instance.",
	}, func() float64 { return float64(sockets.Len()) }))
	reg.MustRegister(newQueueCollector(db, router, log))
	// SLA clocks follow the events outbox; their timers are asynq tasks.
	slaSvc := sla.New(sla.Config{Store: db.SLA(), Bus: b, Timers: jobs.NewClient(d.rdb, queue), Escalator: dk,
		Log: log.With("component", "sla")})
	// Feedback surveys follow the events outbox too (conversation.resolved);
	// delayed ones are asynq tasks.
	surveySender := desk.NewSurveys(dk, cfg.SecretKey, cfg.PublicURL)
	worker := jobs.NewWorker(d.rdb, queue, jobs.Handlers{Deliver: dk.Deliver, DeliveryFailed: dk.DeliveryFailed, SLATimer: slaSvc.Fire,
		CustomerImport: db.RunImport,
		ConnectCall:    tw.ConnectCall, ConnectCallFailed: tw.ConnectCallFailed, CallOverflow: tw.CallOverflow,
		SendSurvey: surveySender.SendScheduled}, log)
	srv := server.New(server.Config{
		DB: db, Redis: d.rdb, Desk: dk, Bus: b, Webchat: chat, Twilio: tw, UI: ui, Sockets: sockets, Origins: origins,
		Metrics: m, Gatherer: reg, Log: log, SecureCookies: len(cfg.PublicURL) > 5 && cfg.PublicURL[:6] == "https:",
	})
	// Points are computed from the events outbox in the background, never on
	// the routing or messaging path.
	game := gamification.New(gamification.Config{Store: db.Gamification(), Redis: d.rdb, Prefix: cfg.RedisPrefix, Bus: b,
		Log: log.With("component", "gamification")})
	srv.Gamification = game
	srv.SLA = slaSvc
	srv.Surveys = surveySender
	return &app{db: db, bus: b, desk: dk, worker: worker, sockets: sockets, handler: srv, game: game, twilio: tw, sla: slaSvc, surveys: srv.Surveys}, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := connect(ctx, getenv, true, true)
	if err != nil {
		return err
	}
	defer d.close()
	if _, err := migrations.Up(ctx, d.pool, log); err != nil {
		return err
	}
	a, err := wire(d, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", d.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on PARLEY_HTTP_ADDR %s: %w", d.cfg.HTTPAddr, err)
	}
	hs := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	// Shutdown does not wait for WebSockets: close them with a close frame.
	hs.RegisterOnShutdown(a.sockets.CloseAll)

	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()
	g, gctx := errgroup.WithContext(bg)
	g.Go(func() error { return a.bus.Run(gctx) })
	g.Go(func() error { return a.worker.Run(gctx) })
	if err := a.desk.Reconcile(ctx); err != nil {
		stopBg()
		g.Wait()
		return err
	}
	g.Go(func() error { return a.desk.RunSweeper(gctx) })
	g.Go(func() error { return a.desk.RunSnoozeWaker(gctx) })
	g.Go(func() error {
		return email.New(email.Config{Backend: a.desk, Store: desk.EmailStore{DB: a.db}, Log: log,
			MaxAttachmentBytes: d.cfg.EmailMaxAttachmentBytes, PollInterval: d.cfg.EmailPollInterval}).Run(gctx)
	})
	g.Go(func() error { return a.twilio.RunConnector(gctx) })
	g.Go(func() error { return a.game.Run(gctx) })
	g.Go(func() error { return a.surveys.Run(gctx) })
	// CRM lifecycle rules follow the events outbox too.
	g.Go(func() error { return desk.NewLifecycle(a.desk).Run(gctx) })
	g.Go(func() error { return a.sla.Run(gctx) }) // re-creates SLA timers from PostgreSQL at start-up
	// Feedback rules and follow-up tasks follow the events outbox too.
	g.Go(func() error { return desk.NewFeedback(a.desk).Run(gctx) })
	httpErr := make(chan error, 1)
	go func() { httpErr <- hs.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	log.Info("parley serving", "addr", ln.Addr().String(), "public_url", d.cfg.PublicURL)
	fmt.Fprintf(stdout, "parley: listening on %s\n", base)
	fmt.Fprintf(stdout, "  agent console:  %s/console/\n  chat demo page: %s/demo\n  metrics:        %s/metrics\n", d.cfg.PublicURL, d.cfg.PublicURL, d.cfg.PublicURL)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-httpErr:
	case <-gctx.Done():
		runErr = fmt.Errorf("background task stopped")
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "error", err)
	}
	a.sockets.CloseAll()
	if !a.sockets.Wait(sctx.Done()) {
		log.Warn("sockets still open at shutdown deadline")
	}
	stopBg() // the job worker drains running jobs before returning
	if err := g.Wait(); err != nil && runErr == nil {
		runErr = err
	}
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	log.Info("stopped")
	return runErr
}

func reconcile(ctx context.Context, getenv func(string) string, stdout io.Writer, log *slog.Logger) error {
	d, err := connect(ctx, getenv, false, true)
	if err != nil {
		return err
	}
	defer d.close()
	a, err := wire(d, log)
	if err != nil {
		return err
	}
	if err := a.desk.Reconcile(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "routing state rebuilt from PostgreSQL")
	return nil
}
