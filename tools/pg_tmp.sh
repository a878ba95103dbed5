#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests (docs/store.md): the unit tests' ctest fixture
# (tests/CMakeLists.txt, "pg") and the cluster's integration tests start one with it.
#
#   tools/pg_tmp.sh start [DIR]   initdb into DIR/data (DIR: a new temporary directory if
#                                 not given; an old server left in DIR is stopped and wiped),
#                                 run postgres on a unix socket in DIR only (no TCP), wait
#                                 until it answers, write its URI to DIR/uri and print it:
#                                 postgresql:///postgres?host=DIR&port=PORT&user=postgres
#   tools/pg_tmp.sh stop DIR      stop it (fast shutdown) and remove DIR
#   tools/pg_tmp.sh pause DIR     stop it (fast shutdown), keeping DIR: the database is away
#   tools/pg_tmp.sh resume DIR    start it again on the same socket and port, data kept
#
# initdb and postgres refuse to run as root: as root they run as the "postgres" system user
# (Debian's postgresql package creates it) and DIR is given to it. The superuser is always
# "postgres" with trust authentication on the socket, so any local user can connect. The
# binaries come from PG_BINDIR, else pg_config --bindir, else the newest
# /usr/lib/postgresql/*/bin.
set -euo pipefail

die() {
  echo "pg_tmp.sh: $*" >&2
  exit 1
}

bindir() {
  local d
  if [[ -n "${PG_BINDIR:-}" ]]; then
    d=$PG_BINDIR
  elif command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
    d=$(pg_config --bindir)
  else
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  [[ -n "$d" && -x "$d/initdb" && -x "$d/postgres" && -x "$d/pg_ctl" ]] ||
    die "no PostgreSQL server binaries (initdb, postgres, pg_ctl) found; install the" \
      "postgresql package (deploy/install-deps.sh --test) or set PG_BINDIR"
  echo "$d"
}

# Runs a command as the owner of the server: postgres when we are root, else ourselves.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A port whose socket file does not exist in DIR (the socket is the only listener).
free_port() {
  local dir=$1 p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    [[ -e "$dir/.s.PGSQL.$p" ]] || {
      echo "$p"
      return
    }
  done
  die "no free port in $dir"
}

stop() {
  local dir=$1 bin
  [[ -d "$dir" ]] || return 0
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

# postgres on DIR's socket and port; waits until it answers
run_server() {
  local dir=$1 port=$2 bin
  bin=$(bindir)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -p $port -c fsync=off -c max_connections=50" \
    start >/dev/null || die "postgres did not start; see $dir/postgres.log"
  if [[ -x "$bin/pg_isready" ]]; then
    for _ in $(seq 1 100); do
      "$bin/pg_isready" -q -h "$dir" -p "$port" && break
      sleep 0.1
    done
    "$bin/pg_isready" -q -h "$dir" -p "$port" || die "postgres does not answer on $dir"
  fi
}

pause() {
  local dir=$1
  [[ -f "$dir/data/postmaster.pid" ]] || die "no server runs in $dir"
  as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
}

resume() {
  local dir=$1 port
  [[ -f "$dir/uri" ]] || die "no server was started in $dir"
  port=$(sed -n 's/.*[?&]port=\([0-9]*\).*/\1/p' "$dir/uri")
  run_server "$dir" "$port"
}

start() {
  local dir=${1:-} bin port uri
  bin=$(bindir)
  if [[ -z "$dir" ]]; then
    dir=$(mktemp -d /tmp/pg_tmp.XXXXXX)
  else
    stop "$dir" # a server left by an interrupted run
    mkdir -p "$dir"
  fi
  dir=$(cd "$dir" && pwd)
  # sun_path holds 107 bytes: DIR/.s.PGSQL.NNNNN must fit
  ((${#dir} <= 90)) || die "$dir is too long for a unix socket path (at most 90 bytes)"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
  fi
  chmod 0755 "$dir"
  as_owner test -w "$dir" || die "the server's user cannot write $dir" \
    "(as root the server runs as postgres: every folder above DIR must let it through)"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || die "initdb failed; see $dir/initdb.log"
  port=$(free_port "$dir")
  run_server "$dir" "$port"
  uri="postgresql:///postgres?host=$dir&port=$port&user=postgres"
  echo "$uri" >"$dir/uri"
  chmod 0644 "$dir/uri"
  echo "$uri"
}

case "${1:-}" in
start) start "${2:-}" ;;
stop | pause | resume)
  [[ -n "${2:-}" ]] || die "usage: $0 $1 DIR"
  "$1" "$2"
  ;;
*) die "usage: $0 start [DIR] | stop DIR | pause DIR | resume DIR" ;;
esac
