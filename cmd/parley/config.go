package main

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/channels/email"
	"github.com/parleyhq/parley/channels/twilio"
)

// config is Parley's configuration, from the environment.
type config struct {
	DatabaseURL    string
	RedisURL       string
	HTTPAddr       string
	PublicURL      string
	SecretKey      []byte
	AllowedOrigins []string
	// RedisPrefix names this deployment's Redis keys and job queue (tests
	// give each run its own).
	RedisPrefix string
	// TwilioAPIBase replaces Twilio's REST host (PARLEY_TWILIO_API_BASE;
	// empty: https://api.twilio.com), e.g. a fake Twilio.
	TwilioAPIBase string
	// EmailMaxAttachmentBytes refuses larger email attachments
	// (PARLEY_EMAIL_MAX_ATTACHMENT_BYTES; default 10 MiB).
	EmailMaxAttachmentBytes int64
	// EmailPollInterval is how often a mail server without IDLE is checked
	// (PARLEY_EMAIL_POLL_INTERVAL; default 30s).
	EmailPollInterval time.Duration
	// Softphone configures the browser softphone (PARLEY_TWILIO_ACCOUNT_SID,
	// _API_KEY_SID, _API_KEY_SECRET, _TWIML_APP_SID, _VOICE_SDK_URL).
	Softphone twilio.Softphone
}

// loadConfig reads and validates the environment. needSecret is false for
// commands that never touch secrets (migrate).
func loadConfig(getenv func(string) string, needSecret bool) (config, error) {
	c := config{
		DatabaseURL: getenv("PARLEY_DATABASE_URL"),
		RedisURL:    getenv("PARLEY_REDIS_URL"),
		HTTPAddr:    getenv("PARLEY_HTTP_ADDR"),
		PublicURL:   getenv("PARLEY_PUBLIC_URL"),
		RedisPrefix: getenv("PARLEY_REDIS_PREFIX"),

		TwilioAPIBase: getenv("PARLEY_TWILIO_API_BASE"),
	}
	if c.DatabaseURL == "" {
		return c, fmt.Errorf("PARLEY_DATABASE_URL is not set: give a PostgreSQL URL such as postgres://user@localhost:5432/parley")
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return c, fmt.Errorf("PARLEY_DATABASE_URL must be a postgres:// URL")
	}
	if c.RedisURL == "" {
		return c, fmt.Errorf("PARLEY_REDIS_URL is not set: give a Redis URL such as redis://localhost:6379/0")
	}
	if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return c, fmt.Errorf("PARLEY_REDIS_URL must be a redis:// or rediss:// URL")
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return c, fmt.Errorf("PARLEY_HTTP_ADDR must be host:port (e.g. 127.0.0.1:8080 or :8080): %v", err)
	}
	if c.PublicURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" || host == "127.0.0.1" {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("PARLEY_PUBLIC_URL must be an absolute http(s) URL such as https://parley.example.com")
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if key := getenv("PARLEY_SECRET_KEY"); key != "" || needSecret {
		b, err := hex.DecodeString(key)
		if err != nil || len(b) != 32 {
			return c, fmt.Errorf("PARLEY_SECRET_KEY must be 64 hex characters (32 random bytes; e.g. `openssl rand -hex 32`)")
		}
		c.SecretKey = b
	}
	for _, o := range strings.Split(getenv("PARLEY_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/")) {
			return c, fmt.Errorf("PARLEY_ALLOWED_ORIGINS must be a comma-separated list of origins like https://shop.example.com (got %q)", o)
		}
		c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimRight(o, "/"))
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = "parley"
	}
	if strings.ContainsAny(c.RedisPrefix, "{}: ") {
		return c, fmt.Errorf("PARLEY_REDIS_PREFIX must not contain braces, colons or spaces")
	}
	c.EmailMaxAttachmentBytes = email.DefaultMaxAttachmentBytes
	if v := strings.TrimSpace(getenv("PARLEY_EMAIL_MAX_ATTACHMENT_BYTES")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("PARLEY_EMAIL_MAX_ATTACHMENT_BYTES must be a positive number of bytes such as 10485760 (got %q)", v)
		}
		c.EmailMaxAttachmentBytes = n
	}
	c.EmailPollInterval = email.DefaultPollInterval
	if v := strings.TrimSpace(getenv("PARLEY_EMAIL_POLL_INTERVAL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return c, fmt.Errorf("PARLEY_EMAIL_POLL_INTERVAL must be a duration of at least 1s such as 30s or 2m (got %q)", v)
		}
		c.EmailPollInterval = d
	}
	if c.Softphone, err = twilio.SoftphoneFromEnv(getenv); err != nil {
		return c, err
	}
	return c, nil
}
