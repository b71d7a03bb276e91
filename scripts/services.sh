#!/usr/bin/env bash
# Makes PostgreSQL and Redis available for Parley and writes the resulting
# environment to .data/env (lines of `export VAR='value'`), which the Makefile
# sources before running the server or the tests.
#
# Usage:
#   scripts/services.sh            ensure PostgreSQL + Redis, write .data/env
#   scripts/services.sh --browser  additionally ensure Chromium and a C compiler
#                                  (needed by `go test -race` and browser tests)
#   scripts/services.sh stop       stop the private servers started by this script
#   scripts/services.sh clean      stop them and delete .data (including data dirs)
#
# Resolution order for each service:
#   1. PARLEY_DATABASE_URL / PARLEY_REDIS_URL from the environment, if they answer;
#   2. a server on the default port (127.0.0.1:5432 as user postgres with trust
#      auth, 127.0.0.1:6379), unless PARLEY_SERVICES_SKIP_DEFAULTS=1;
#   3. a private server under ./.data on 127.0.0.1:55432 / 127.0.0.1:56379
#      (ports overridable with PARLEY_PRIVATE_PG_PORT / PARLEY_PRIVATE_REDIS_PORT),
#      installing the Debian packages with apt-get first when running as root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DATA="$ROOT/.data"
PG_PORT="${PARLEY_PRIVATE_PG_PORT:-55432}"
REDIS_PORT="${PARLEY_PRIVATE_REDIS_PORT:-56379}"
PG_HOME="$DATA/pg"           # data/, run/ (socket), postgres.log; may be a symlink
REDIS_DIR="$DATA/redis"
PG_PRIVATE_ADMIN_URL="postgres://postgres@127.0.0.1:${PG_PORT}/postgres?sslmode=disable"
PG_DEFAULT_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-3}"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'services.sh: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

INSTALL_HINT="install them with: sudo apt-get install postgresql redis-server (or set PARLEY_DATABASE_URL / PARLEY_REDIS_URL to running servers)"

# ---------------------------------------------------------------- apt helpers

APT_UPDATED=0
apt_install() {
	is_root || return 1
	have apt-get || return 1
	log "Installing Debian packages: $* (apt-get)..."
	local apt=(apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
	if [ "$APT_UPDATED" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -qq >&2 || return 1
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "$@" >&2
}

# ---------------------------------------------------------------- generic helpers

# tcp_open HOST PORT: true when something accepts TCP connections there.
tcp_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# url_with_db URL DB: the same PostgreSQL URL pointing at database DB.
url_with_db() {
	local url="$1" db="$2" base query=""
	case "$url" in
	postgres://* | postgresql://*) ;;
	*) printf '%s' "$url"; return ;; # key=value DSN: leave untouched
	esac
	if [[ "$url" == *\?* ]]; then
		query="?${url#*\?}"
		url="${url%%\?*}"
	fi
	base="${url#*://}"
	base="${url%%://*}://${base%%/*}"
	printf '%s/%s%s' "$base" "$db" "$query"
}

# sq VALUE: VALUE as a single-quoted shell word.
sq() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# ---------------------------------------------------------------- PostgreSQL

pg_answers() { # URL
	if have psql; then
		psql "$1" -XAtqc 'select 1' >/dev/null 2>&1
	elif have pg_isready; then
		pg_isready -q -d "$1" >/dev/null 2>&1
	else
		return 1
	fi
}

pg_ensure_db() { # ADMIN_URL DB
	local exists
	exists="$(psql "$1" -XAtqc "select 1 from pg_database where datname = '$2'")" ||
		die "cannot query databases via $1"
	if [ "$exists" != 1 ]; then
		psql "$1" -Xqc "create database \"$2\"" >/dev/null || die "cannot create database $2"
		log "PostgreSQL: created database $2"
	fi
}

# pg_bindir [VERSION]: directory holding initdb/pg_ctl (of VERSION when given,
# else the newest installed); empty when none is installed.
pg_bindir() {
	local d
	if [ -n "${1:-}" ]; then
		[ -x "/usr/lib/postgresql/$1/bin/initdb" ] && printf '%s' "/usr/lib/postgresql/$1/bin"
		return 0
	fi
	# shellcheck disable=SC2012 # version directory names are plain numbers
	d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		printf '%s' "$d"
	elif have pg_config && [ -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; then
		pg_config --bindir
	fi
	return 0
}

# as_pg CMD...: run CMD as the unprivileged postgres user when we are root.
as_pg() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# pg_resolve_home: when running as root, make sure .data/pg is reachable by the
# postgres user. If the repository lives below a directory it cannot enter
# (e.g. /root), keep the cluster below /var/lib/postgresql and make .data/pg a
# symlink to it.
pg_resolve_home() {
	mkdir -p "$DATA"
	if ! is_root; then
		mkdir -p "$PG_HOME"
		return
	fi
	if ! id postgres >/dev/null 2>&1; then
		useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres ||
			die "cannot create the postgres system user"
	fi
	if [ ! -e "$PG_HOME" ] && [ ! -L "$PG_HOME" ]; then
		chmod 755 "$DATA"
		if runuser -u postgres -- test -x "$DATA" 2>/dev/null; then
			mkdir -p "$PG_HOME"
		else
			local ext
			ext="/var/lib/postgresql/parley-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
			mkdir -p "$ext"
			ln -s "$ext" "$PG_HOME"
			log "PostgreSQL: $DATA is not accessible to the postgres user; cluster lives in $ext"
		fi
	fi
	chown -R postgres: "$(readlink -f "$PG_HOME")"
}

pg_start_private() {
	local home pgdata rundir logfile bindir ver sock_opt
	home="$(readlink -f "$PG_HOME")"
	pgdata="$home/data"
	rundir="$home/run"
	logfile="$home/postgres.log"

	ver=""
	[ -f "$pgdata/PG_VERSION" ] && ver="$(cat "$pgdata/PG_VERSION")"
	bindir="$(pg_bindir "$ver")"
	if [ -z "$bindir" ]; then
		if apt_install postgresql; then
			bindir="$(pg_bindir "$ver")"
		fi
	fi
	if [ -z "$bindir" ]; then
		if [ -n "$ver" ]; then
			die "the private cluster in $pgdata needs PostgreSQL $ver binaries (/usr/lib/postgresql/$ver/bin); install them or run 'make clean-data'"
		fi
		die "no PostgreSQL server found and PostgreSQL binaries (initdb) are missing; $INSTALL_HINT"
	fi
	have psql || die "psql is missing; $INSTALL_HINT"

	pg_resolve_home
	home="$(readlink -f "$PG_HOME")"
	pgdata="$home/data"
	rundir="$home/run"
	logfile="$home/postgres.log"
	as_pg mkdir -p "$rundir"

	if [ ! -f "$pgdata/PG_VERSION" ]; then
		log "PostgreSQL: initializing private cluster in $pgdata"
		as_pg "$bindir/initdb" -D "$pgdata" --auth=trust -U postgres --encoding=UTF8 --locale=C >"$home/initdb.log" 2>&1 ||
			die "initdb failed; see $home/initdb.log"
	fi

	# Unix socket paths are limited to ~107 bytes; fall back to TCP only.
	if [ "${#rundir}" -lt 80 ]; then
		sock_opt="-k '$rundir'"
	else
		sock_opt="-k ''"
	fi

	if as_pg "$bindir/pg_ctl" status -D "$pgdata" >/dev/null 2>&1; then
		# Running but not answering on our port (e.g. started with another port).
		log "PostgreSQL: restarting private cluster"
		as_pg "$bindir/pg_ctl" stop -D "$pgdata" -m fast -w >/dev/null 2>&1 || true
	fi
	if tcp_open 127.0.0.1 "$PG_PORT"; then
		die "port $PG_PORT is taken by something that is not a trust-auth PostgreSQL; set PARLEY_PRIVATE_PG_PORT to a free port"
	fi
	as_pg "$bindir/pg_ctl" start -D "$pgdata" -w -t 60 -l "$logfile" \
		-o "-c listen_addresses=127.0.0.1 -p $PG_PORT $sock_opt -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		>/dev/null || die "PostgreSQL failed to start; see $logfile"
	pg_answers "$PG_PRIVATE_ADMIN_URL" || die "PostgreSQL started but does not answer on 127.0.0.1:$PG_PORT; see $logfile"
}

setup_postgres() {
	local admin="" url=""

	# 1. Explicit URL from the environment.
	if [ -n "${PARLEY_DATABASE_URL:-}" ]; then
		if ! have psql && ! have pg_isready; then
			apt_install postgresql-client || die "psql is missing; $INSTALL_HINT"
		fi
		if pg_answers "$PARLEY_DATABASE_URL"; then
			url="$PARLEY_DATABASE_URL"
			admin="${PARLEY_TEST_DATABASE_URL:-$(url_with_db "$url" postgres)}"
			log "PostgreSQL: using PARLEY_DATABASE_URL"
		else
			log "PostgreSQL: PARLEY_DATABASE_URL does not answer; ignoring it"
		fi
	fi

	# 2. A trust-auth server on the default port.
	if [ -z "$url" ] && [ "${PARLEY_SERVICES_SKIP_DEFAULTS:-0}" != 1 ] && tcp_open 127.0.0.1 5432; then
		if ! have psql; then
			apt_install postgresql-client || log "PostgreSQL: 127.0.0.1:5432 is open but psql is missing; cannot use it"
		fi
		if ! have psql; then
			:
		elif pg_answers "$PG_DEFAULT_ADMIN_URL"; then
			admin="$PG_DEFAULT_ADMIN_URL"
			pg_ensure_db "$admin" parley
			url="$(url_with_db "$admin" parley)"
			log "PostgreSQL: reusing 127.0.0.1:5432"
		else
			log "PostgreSQL: 127.0.0.1:5432 does not accept user postgres without a password; using a private server"
		fi
	fi

	# 3. Private cluster under .data/pg.
	if [ -z "$url" ]; then
		admin="$PG_PRIVATE_ADMIN_URL"
		if have psql && pg_answers "$admin"; then
			log "PostgreSQL: reusing private server on 127.0.0.1:$PG_PORT"
		else
			pg_start_private
			log "PostgreSQL: started private server on 127.0.0.1:$PG_PORT (data in .data/pg)"
		fi
		pg_ensure_db "$admin" parley
		url="$(url_with_db "$admin" parley)"
	fi

	DATABASE_URL="$url"
	TEST_DATABASE_URL="$admin"
}

# ---------------------------------------------------------------- Redis

# redis_ping_tcp HOST PORT: PING without redis-cli.
redis_ping_tcp() {
	local reply=""
	(
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf 'PING\r\n' >&3
		IFS= read -r -t 2 reply <&3 || exit 1
		[[ "$reply" == "+PONG"* ]]
	) 2>/dev/null
}

redis_answers_url() { # URL
	if have redis-cli; then
		[ "$(redis-cli -u "$1" --no-auth-warning ping 2>/dev/null)" = PONG ]
	else
		local hp host port
		hp="${1#*://}"
		hp="${hp##*@}"
		hp="${hp%%/*}"
		host="${hp%%:*}"
		port=6379
		[[ "$hp" == *:* ]] && port="${hp##*:}"
		redis_ping_tcp "${host:-127.0.0.1}" "$port"
	fi
}

redis_answers_port() { # PORT (on 127.0.0.1)
	if have redis-cli; then
		[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
	else
		redis_ping_tcp 127.0.0.1 "$1"
	fi
}

redis_start_private() {
	if ! have redis-server; then
		apt_install redis-server || die "no Redis server found and redis-server is missing; $INSTALL_HINT"
		have redis-server || die "redis-server is still missing after installation"
		# The Debian package may start its own server on 6379; ours is separate.
	fi
	if tcp_open 127.0.0.1 "$REDIS_PORT"; then
		die "port $REDIS_PORT is taken by something that is not Redis; set PARLEY_PRIVATE_REDIS_PORT to a free port"
	fi
	mkdir -p "$REDIS_DIR"
	redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
		--dir "$REDIS_DIR" --save "" --appendonly no \
		--pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >/dev/null ||
		die "redis-server failed to start; see $REDIS_DIR/redis.log"
	local i
	for i in $(seq 1 50); do
		redis_answers_port "$REDIS_PORT" && return 0
		sleep 0.1
	done
	die "Redis started but does not answer on 127.0.0.1:$REDIS_PORT (waited ${i}x0.1s); see $REDIS_DIR/redis.log"
}

setup_redis() {
	local url=""
	if [ -n "${PARLEY_REDIS_URL:-}" ]; then
		if redis_answers_url "$PARLEY_REDIS_URL"; then
			url="$PARLEY_REDIS_URL"
			log "Redis: using PARLEY_REDIS_URL"
		else
			log "Redis: PARLEY_REDIS_URL does not answer; ignoring it"
		fi
	fi
	if [ -z "$url" ] && [ "${PARLEY_SERVICES_SKIP_DEFAULTS:-0}" != 1 ] && redis_answers_port 6379; then
		url="redis://127.0.0.1:6379/0"
		log "Redis: reusing 127.0.0.1:6379"
	fi
	if [ -z "$url" ]; then
		if redis_answers_port "$REDIS_PORT"; then
			log "Redis: reusing private server on 127.0.0.1:$REDIS_PORT"
		else
			redis_start_private
			log "Redis: started private server on 127.0.0.1:$REDIS_PORT"
		fi
		url="redis://127.0.0.1:$REDIS_PORT/0"
	fi
	REDIS_URL="$url"
}

# ---------------------------------------------------------------- test tooling

CHROMIUM=""
setup_browser() {
	if [ -n "${PARLEY_CHROMIUM:-}" ] && [ -x "$PARLEY_CHROMIUM" ]; then
		CHROMIUM="$PARLEY_CHROMIUM"
	elif [ -x /usr/bin/chromium ]; then
		CHROMIUM=/usr/bin/chromium
	else
		apt_install chromium fonts-liberation || true
		if [ -x /usr/bin/chromium ]; then
			CHROMIUM=/usr/bin/chromium
			log "Chromium: installed /usr/bin/chromium"
		fi
	fi
	if [ -z "$CHROMIUM" ]; then
		local msg="Chromium is missing (browser tests need /usr/bin/chromium); install it with: sudo apt-get install chromium"
		[ "${CI:-}" = true ] && die "$msg"
		log "WARNING: $msg"
	fi

	# `go test -race` needs cgo and therefore a C compiler.
	if ! have "${CC:-gcc}" && ! have cc; then
		apt_install gcc libc6-dev || true
		if ! have gcc && ! have cc; then
			local msg="no C compiler found; 'go test -race' needs one: sudo apt-get install gcc (or run: make test RACE=)"
			[ "${CI:-}" = true ] && die "$msg"
			log "WARNING: $msg"
		fi
	fi
}

# ---------------------------------------------------------------- app settings

secret_key() {
	local f="$DATA/secret_key" key=""
	if [ -n "${PARLEY_SECRET_KEY:-}" ]; then
		printf '%s' "$PARLEY_SECRET_KEY"
		return
	fi
	[ -f "$f" ] && key="$(tr -d ' \n' <"$f")"
	if ! [[ "$key" =~ ^[0-9a-f]{64}$ ]]; then
		key="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
		(umask 077 && printf '%s\n' "$key" >"$f")
	fi
	printf '%s' "$key"
}

write_env() {
	local addr public port tmp
	addr="${PARLEY_HTTP_ADDR:-127.0.0.1:8080}"
	port="${addr##*:}"
	public="${PARLEY_PUBLIC_URL:-http://localhost:${port:-8080}}"
	tmp="$DATA/env.tmp.$$"
	{
		printf '# Generated by scripts/services.sh; regenerated on every run.\n'
		printf 'export PARLEY_DATABASE_URL=%s\n' "$(sq "$DATABASE_URL")"
		printf 'export PARLEY_REDIS_URL=%s\n' "$(sq "$REDIS_URL")"
		printf 'export PARLEY_SECRET_KEY=%s\n' "$(sq "$(secret_key)")"
		printf 'export PARLEY_HTTP_ADDR=%s\n' "$(sq "$addr")"
		printf 'export PARLEY_PUBLIC_URL=%s\n' "$(sq "$public")"
		printf 'export PARLEY_TEST_DATABASE_URL=%s\n' "$(sq "$TEST_DATABASE_URL")"
		printf 'export PARLEY_TEST_REDIS_URL=%s\n' "$(sq "$REDIS_URL")"
		if [ -n "$CHROMIUM" ]; then
			printf 'export PARLEY_CHROMIUM=%s\n' "$(sq "$CHROMIUM")"
		fi
	} >"$tmp"
	chmod 600 "$tmp"
	mv -f "$tmp" "$DATA/env"
}

# ---------------------------------------------------------------- stop / clean

stop_private() {
	local stopped=0 pid home pgdata ver bindir
	if [ -f "$REDIS_DIR/redis.pid" ]; then
		pid="$(cat "$REDIS_DIR/redis.pid" 2>/dev/null || true)"
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill "$pid"
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			log "Redis: stopped private server (pid $pid)"
			stopped=1
		fi
		rm -f "$REDIS_DIR/redis.pid"
	fi
	if [ -e "$PG_HOME" ]; then
		home="$(readlink -f "$PG_HOME")"
		pgdata="$home/data"
		if [ -f "$pgdata/postmaster.pid" ]; then
			ver="$(cat "$pgdata/PG_VERSION" 2>/dev/null || true)"
			bindir="$(pg_bindir "$ver")"
			if [ -n "$bindir" ] && as_pg "$bindir/pg_ctl" status -D "$pgdata" >/dev/null 2>&1; then
				as_pg "$bindir/pg_ctl" stop -D "$pgdata" -m fast -w >/dev/null
				log "PostgreSQL: stopped private server"
				stopped=1
			fi
		fi
	fi
	[ "$stopped" = 1 ] || log "No private servers running."
}

clean_data() {
	stop_private
	if [ -L "$PG_HOME" ]; then
		rm -rf "$(readlink -f "$PG_HOME")"
	fi
	rm -rf "$DATA"
	log "Removed .data"
}

# ---------------------------------------------------------------- main

main() {
	local browser=0
	case "${1:-}" in
	stop) stop_private; return ;;
	clean) clean_data; return ;;
	--browser) browser=1 ;;
	"") ;;
	-h | --help)
		sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		return
		;;
	*) die "unknown argument: $1 (use --browser, stop or clean)" ;;
	esac

	mkdir -p "$DATA"
	setup_postgres
	setup_redis
	if [ "$browser" = 1 ]; then
		setup_browser
	fi
	write_env
	log "Environment written to .data/env"
}

main "$@"
