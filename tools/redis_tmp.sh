#!/bin/sh
# A throw-away redis-server for the tests (docs/cluster.md, docs/testing.md): no disk
# persistence, loopback only, its files in DIR.
#   tools/redis_tmp.sh start DIR   starts it (again on the same port if DIR had one) and
#                                  prints redis://127.0.0.1:PORT (also in DIR/redis.url)
#   tools/redis_tmp.sh kill DIR    SIGKILL (a crash: the data is gone, as on a restart)
#   tools/redis_tmp.sh stop DIR    stops it (SIGTERM, then SIGKILL) and removes nothing
set -eu
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|kill|stop DIR" >&2; exit 2; }
pidf=$dir/redis.pid

running() { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case $cmd in
start)
  mkdir -p "$dir"
  if running; then cat "$dir/redis.url"; exit 0; fi
  [ -f "$dir/redis.port" ] || free_port > "$dir/redis.port"
  port=$(cat "$dir/redis.port")
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --daemonize yes --pidfile "$pidf" --logfile "$dir/redis.log" >/dev/null
  i=0
  until redis-cli -p "$port" ping >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "redis_tmp: redis-server did not answer on $port" >&2; exit 1; }
    sleep 0.05
  done
  echo "redis://127.0.0.1:$port" | tee "$dir/redis.url"
  ;;
kill)
  if running; then kill -9 "$(cat "$pidf")"; fi
  rm -f "$pidf"
  ;;
stop)
  if running; then
    pid=$(cat "$pidf")
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 40 ]; do i=$((i + 1)); sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidf"
  ;;
*)
  echo "usage: $0 start|kill|stop DIR" >&2
  exit 2
  ;;
esac
