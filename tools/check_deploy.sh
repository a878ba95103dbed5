#!/usr/bin/env bash
# Checks what deploy/ installs (docs/install.md, docs/cluster.md "Running a cluster"):
#   - the systemd units, with systemd-analyze verify: deploy/classrelay.service (its
#     /usr/local/ paths pointing at this build, as deploy/install.sh rewrites them for its
#     prefix) with the cluster's drop-in, and deploy/cluster's Redis and mount units;
#   - the cluster's example node configurations: classrelay reads each to the end (an unknown
#     key or a bad value exits 2; the key file it then fails to read exits 1);
#   - the cluster's Redis configuration: redis-server starts with it and answers.
#
#   tools/check_deploy.sh BUILD_DIR     (ctest: unit/check_deploy)
# Needs systemd-analyze (systemd) and redis-server; without them it says so and skips those.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
  echo "check_deploy: $*" >&2
  fail=1
}

# ---- systemd units ----
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/units/bin" "$tmp/units/classrelay.service.d"
  ln -s "$build/signaling/classrelay" "$tmp/units/bin/classrelay"
  sed "s|/usr/local/|$tmp/units/|g" "$root/deploy/classrelay.service" >"$tmp/units/classrelay.service"
  cp "$root/deploy/cluster/classrelay.service.d/"*.conf "$tmp/units/classrelay.service.d/"
  cp "$root/deploy/cluster/"*.service "$root/deploy/cluster/"*.mount "$tmp/units/"
  for unit in "$tmp/units/"*.service "$tmp/units/"*.mount; do
    out=$(cd "$tmp/units" && systemd-analyze verify "$unit" 2>&1) || bad "$(basename "$unit"): $out"
    [ -z "$out" ] || bad "$(basename "$unit"): $out"
  done
else
  echo "check_deploy: no systemd-analyze here: units not checked"
fi

# ---- the example node configurations ----
for conf in "$root/deploy/cluster/"node-*.conf; do
  rc=0
  out=$("$build/signaling/classrelay" serve --config "$conf" --data "$tmp/data" \
    --secret-file "$tmp/no-such.key" 2>&1) || rc=$?
  case $rc in
  1) grep -q "no-such.key does not exist" <<<"$out" || bad "$(basename "$conf"): $out" ;;
  *) bad "$(basename "$conf"): exit $rc: $out" ;;
  esac
done

# ---- the Redis configuration ----
if command -v redis-server >/dev/null; then
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # its own folder here (redis-server changes into dir as it reads the line)
  sed "s|^dir .*|dir $tmp|" "$root/deploy/cluster/redis.conf" >"$tmp/redis.conf"
  redis-server "$tmp/redis.conf" --bind 127.0.0.1 --port "$port" --daemonize yes --pidfile "$tmp/redis.pid" >"$tmp/redis.out" 2>&1 || bad "redis.conf: $(cat "$tmp/redis.out")"
  for _ in $(seq 50); do
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
  [ "$(redis-cli -p "$port" config get save | tail -n 1)" = "" ] || bad "redis.conf: it saves"
  redis-cli -p "$port" ping >/dev/null 2>&1 || bad "redis.conf: redis-server does not answer"
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
else
  echo "check_deploy: no redis-server here: redis.conf not checked"
fi
[ "$fail" = 0 ] && echo "check_deploy: deploy/ units and configurations are sound"
exit "$fail"
