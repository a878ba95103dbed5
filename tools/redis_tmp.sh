#!/bin/sh
# A throw-away redis-server for the tests (docs/cluster.md, docs/testing.md): no disk
# persistence, loopback only unless told, its files in DIR.
#   tools/redis_tmp.sh start DIR [ADDR]
#                                  starts it (again on the same port and address if DIR had
#                                  them) and prints redis://ADDR:PORT (also in DIR/redis.url);
#                                  ADDR 127.0.0.1 by default, 0.0.0.0 every address of the
#                                  network namespace it runs in (tests/integration/
#                                  cluster_nodes.mjs runs it in one with ip netns exec)
#   tools/redis_tmp.sh kill DIR    SIGKILL (a crash: the data is gone, as on a restart)
#   tools/redis_tmp.sh stop DIR    stops it (SIGTERM, then SIGKILL) and removes nothing
set -eu
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR [ADDR] | kill|stop DIR" >&2; exit 2; }
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
  [ -z "${3:-}" ] || echo "$3" > "$dir/redis.bind"
  bind=$(cat "$dir/redis.bind" 2>/dev/null || echo 127.0.0.1)
  host=$bind
  [ "$host" != 0.0.0.0 ] || host=127.0.0.1
  # protected mode refuses every client not on loopback when Redis listens everywhere
  # without a password: ADDR is for a network namespace of the test's own
  protected=yes
  [ "$bind" = 127.0.0.1 ] || protected=no
  redis-server --port "$port" --bind "$bind" --protected-mode "$protected" --dir "$dir" --save "" --appendonly no \
    --daemonize yes --pidfile "$pidf" --logfile "$dir/redis.log" >/dev/null
  i=0
  until redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "redis_tmp: redis-server did not answer on $port" >&2; exit 1; }
    sleep 0.05
  done
  echo "redis://$host:$port" | tee "$dir/redis.url"
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
  echo "usage: $0 start DIR [ADDR] | kill|stop DIR" >&2
  exit 2
  ;;
esac
