// Package testenv gives tests their own PostgreSQL database and Redis key
// prefix on the servers named by PARLEY_TEST_DATABASE_URL and
// PARLEY_TEST_REDIS_URL, and removes them when the test ends. Without a
// reachable server a test is skipped, except under CI=true where it fails:
// CI installs the services instead of skipping.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley/migrations"
	"github.com/redis/go-redis/v9"
)

const (
	defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	defaultRedis    = "redis://127.0.0.1:6379/0"
)

// Unavailable skips the test, or fails it under CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// RandomName returns prefix followed by 12 random hex characters.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Database is a freshly created, migrated database.
type Database struct {
	URL  string
	Pool *pgxpool.Pool
}

// Postgres creates a new database, applies every migration and drops it when
// the test ends.
func Postgres(t testing.TB) Database {
	t.Helper()
	ctx := context.Background()
	admin := os.Getenv("PARLEY_TEST_DATABASE_URL")
	if admin == "" {
		admin = defaultPostgres
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(actx, admin)
	if err != nil {
		Unavailable(t, "PostgreSQL at PARLEY_TEST_DATABASE_URL unreachable: %v", err)
	}
	name := RandomName("parley_test_")
	if _, err := conn.Exec(actx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		t.Fatalf("create database: %v", err)
	}
	conn.Close(ctx)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse PARLEY_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	db := Database{URL: u.String()}
	db.Pool, err = pgxpool.New(ctx, db.URL)
	if err != nil {
		t.Fatalf("connect %s: %v", name, err)
	}
	t.Cleanup(func() {
		db.Pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	if _, err := migrations.Up(ctx, db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// RedisURL returns the Redis server tests use.
func RedisURL() string {
	if u := os.Getenv("PARLEY_TEST_REDIS_URL"); u != "" {
		return u
	}
	return defaultRedis
}

// Redis returns a client and a fresh key prefix; every key under the prefix's
// hash tag is deleted when the test ends.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("parse PARLEY_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		Unavailable(t, "Redis at PARLEY_TEST_REDIS_URL unreachable: %v", err)
	}
	prefix := RandomName("t")
	t.Cleanup(func() {
		DeletePrefix(t, rdb, prefix)
		rdb.Close()
	})
	return rdb, prefix
}

// DeletePrefix deletes every key whose name starts with "{prefix}" or
// "prefix:" (the forms Parley and asynq use).
func DeletePrefix(t testing.TB, rdb *redis.Client, prefix string) {
	ctx := context.Background()
	for _, pattern := range []string{"{" + prefix + "}*", prefix + ":*", "asynq:{" + prefix + "*"} {
		iter := rdb.Scan(ctx, 0, pattern, 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan %s: %v", pattern, err)
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := rdb.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("delete keys: %v", err)
			}
			keys = keys[n:]
		}
	}
}
