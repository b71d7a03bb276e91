package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/postgres"
)

func TestConfigNamesTheBadVariable(t *testing.T) {
	good := map[string]string{
		"PARLEY_DATABASE_URL": "postgres://u@localhost/parley",
		"PARLEY_REDIS_URL":    "redis://localhost:6379/0",
		"PARLEY_SECRET_KEY":   strings.Repeat("0f", 32),
	}
	tests := []struct {
		name, key, value, want string
	}{
		{"ok", "", "", ""},
		{"no database", "PARLEY_DATABASE_URL", "", "PARLEY_DATABASE_URL"},
		{"mysql database", "PARLEY_DATABASE_URL", "mysql://x", "PARLEY_DATABASE_URL"},
		{"no redis", "PARLEY_REDIS_URL", "", "PARLEY_REDIS_URL"},
		{"short secret", "PARLEY_SECRET_KEY", "abcd", "PARLEY_SECRET_KEY"},
		{"non-hex secret", "PARLEY_SECRET_KEY", strings.Repeat("zz", 32), "PARLEY_SECRET_KEY"},
		{"bad address", "PARLEY_HTTP_ADDR", "8080", "PARLEY_HTTP_ADDR"},
		{"relative public URL", "PARLEY_PUBLIC_URL", "parley.example.com", "PARLEY_PUBLIC_URL"},
		{"origin with path", "PARLEY_ALLOWED_ORIGINS", "https://a.example/shop", "PARLEY_ALLOWED_ORIGINS"},
		{"prefix with brace", "PARLEY_REDIS_PREFIX", "a{b", "PARLEY_REDIS_PREFIX"},
		{"attachment limit", "PARLEY_EMAIL_MAX_ATTACHMENT_BYTES", "1048576", ""},
		{"attachment limit not a number", "PARLEY_EMAIL_MAX_ATTACHMENT_BYTES", "10MB", "PARLEY_EMAIL_MAX_ATTACHMENT_BYTES"},
		{"attachment limit zero", "PARLEY_EMAIL_MAX_ATTACHMENT_BYTES", "0", "PARLEY_EMAIL_MAX_ATTACHMENT_BYTES"},
		{"attachment limit negative", "PARLEY_EMAIL_MAX_ATTACHMENT_BYTES", "-5", "PARLEY_EMAIL_MAX_ATTACHMENT_BYTES"},
		{"poll interval", "PARLEY_EMAIL_POLL_INTERVAL", "2m", ""},
		{"poll interval not a duration", "PARLEY_EMAIL_POLL_INTERVAL", "30", "PARLEY_EMAIL_POLL_INTERVAL"},
		{"poll interval too short", "PARLEY_EMAIL_POLL_INTERVAL", "10ms", "PARLEY_EMAIL_POLL_INTERVAL"},
		{"poll interval negative", "PARLEY_EMAIL_POLL_INTERVAL", "-1m", "PARLEY_EMAIL_POLL_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range good {
				env[k] = v
			}
			if tt.key != "" {
				env[tt.key] = tt.value
			}
			_, err := loadConfig(func(k string) string { return env[k] }, true)
			if tt.want == "" && err != nil {
				t.Fatalf("got %v; want no error", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v; want an error naming %s", err, tt.want)
			}
		})
	}
	c, _ := loadConfig(func(k string) string { return good[k] }, true)
	if c.HTTPAddr != "127.0.0.1:8080" || c.PublicURL != "http://localhost:8080" || c.RedisPrefix != "parley" ||
		c.EmailMaxAttachmentBytes != 10<<20 || c.EmailPollInterval != 30*time.Second {
		t.Errorf("defaults: %+v", c)
	}
}

func TestSeedTwiceChangesNothing(t *testing.T) {
	db := testenv.Postgres(t)
	store := postgres.New(db.Pool, nil)
	ctx := context.Background()
	count := func() string {
		var s string
		db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM agents) || '/' || (SELECT count(*) FROM queues) || '/' ||
			(SELECT count(*) FROM inboxes) || '/' || (SELECT count(*) FROM team_members)`).Scan(&s)
		return s
	}
	if err := seedDemo(ctx, store, io.Discard); err != nil {
		t.Fatal(err)
	}
	first := count()
	if err := seedDemo(ctx, store, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != first || first != "6/3/1/5" {
		t.Errorf("agents/queues/inboxes/team members: %s then %s; want 6/3/1/5 twice", first, got)
	}
}

func TestRunRefusesUnknownCommandAndMissingConfig(t *testing.T) {
	if err := run(context.Background(), []string{"parley", "frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("unknown command accepted")
	}
	err := run(context.Background(), []string{"parley", "serve"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PARLEY_DATABASE_URL") {
		t.Errorf("serve without config: %v; want an error naming PARLEY_DATABASE_URL", err)
	}
}
