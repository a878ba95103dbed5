#!/usr/bin/env bash
# Relay CPU per forwarded packet and memory per subscriber: one Chromium teacher at
# 1.5 Mbit/s (WHIP), then N cheap subscribers (bench_subscribers: real ICE/DTLS/SRTP,
# no decoding) for each N given. Reads the server's CPU time from /proc and its packet
# counters from /api/v1/stats over a steady window.
#   tests/bench/forward_cpu.sh [N...]        (default: 10 100 300)
# The sets of N run one after the other on one server: a later set reuses memory the earlier
# ones freed, so its RSS per subscriber reads low; for that figure, one N per run.
# SRTP_PROFILE=cm80: the subscribers offer only AES128_CM_SHA1_80 (bench_subscribers.c).
# MEDIA_PORT=1: the relay serves every peer on one port (--media-port, its default); else
# a port per peer (--media-port 0).
# WORKERS=N: media workers (--workers; default: one per core). SPREAD=N: --room-spread (default
# 64: the lesson takes the second worker from 64 subscribers on, and they share them after).
# STATS=DIR: keeps /api/v1/stats from each window's start and end (DIR/s0-N.json, s1-N.json).
# PERF=DIR: also records the relay with perf over each window, into DIR/perf-N.data.
# JOIN=1: after each window, a Chromium classroom joins 5 times with the subscribers still
# watching (join_chromium.mjs): join → first decoded frame, as the page measures it.
# HARNESS_IDLE=1: the teacher's Chromium and the subscribers run at idle priority
# (SCHED_IDLE), so on a machine they share with the relay they do not delay its workers.
# SPLIT=1: the relay keeps to core 0 and the teacher and the subscribers to the others, so
# they neither take its core nor evict its caches (with WORKERS=1: one worker, one core).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
counts=${*:-10 100 300}
port=$((20000 + RANDOM % 10000))
media=(--media-port 0)
[ -n "${MEDIA_PORT:-}" ] && media=(--media-port $((port + 1)))
[ -n "${WORKERS:-}" ] && media+=(--workers "$WORKERS")
[ -n "${SPREAD:-}" ] && media+=(--room-spread "$SPREAD")
data=$(mktemp -d)
cleanup() {
  pkill -P "$pub" 2>/dev/null || true # node and the Chromium it started
  kill "$pub" "$srv" 2>/dev/null || true
  # the publisher's own clean-up may wait for a browser already gone: 5 s, then for good
  for _ in 1 2 3 4 5; do kill -0 "$pub" 2>/dev/null || break; sleep 1; done
  kill -9 "$pub" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
relay_cpu=() harness_cpu=()
if [ -n "${SPLIT:-}" ]; then
  relay_cpu=(taskset -c 0) harness_cpu=(taskset -c "1-$(($(nproc) - 1))")
fi
"${relay_cpu[@]}" "$build"/signaling/classrelay serve --listen 127.0.0.1:$port --data "$data" --log-level warn \
  --bind-ip 127.0.0.1 "${media[@]}" >"$data/server.log" 2>&1 &
srv=$!
sleep 1
# /api/v1/stats needs a token (docs/scheduling.md); the demo room takes peers without one
token=$("$build"/signaling/classrelay token --data "$data" --role admin)
idle=("${harness_cpu[@]}")
[ -n "${HARNESS_IDLE:-}" ] && idle+=(chrt --idle 0)
secs=40 # each set of subscribers: 15 s to settle, the 20 s window, (JOIN) the joins
[ -n "${JOIN:-}" ] && secs=70
(cd tests && "${idle[@]}" node bench/publish_chromium.mjs http://127.0.0.1:$port demo 100000 1500000) \
  >"$data/pub.log" 2>&1 &
pub=$!
sleep 12 # let the teacher's encoder ramp up to its cap
hz=$(getconf CLK_TCK)
cpu() { awk -v hz="$hz" '{print ($14 + $15) / hz}' /proc/$srv/stat; }
# the media workers' threads ("cr-worker"): their CPU seconds, space-separated
worker_cpu() { /usr/bin/python3 tests/bench/relay_window.py workers "$srv"; }
rss() { awk '/VmRSS/ {print $2}' /proc/$srv/status; }
relay() { curl -s -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/stats >"$1"; }
printf '| subscribers | connected | packets forwarded/s | relay CPU %% | worker CPU %% | µs CPU per forwarded packet | KiB RSS per subscriber | forwarding delay p50 / p99 µs | datagrams per send call | handed between workers/s | refused |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for n in $counts; do
  rss0=$(rss)
  "${idle[@]}" "$build"/tests/bench/bench_subscribers 127.0.0.1:$port demo "$n" "$secs" >"$data/subs.log" 2>&1 &
  subs=$!
  sleep 15 # all connected and steady
  c0=$(cpu); w0=$(worker_cpu); relay "$data/s0.json"; t0=$(date +%s.%N)
  if [ -n "${PERF:-}" ]; then
    perf record -q -g -p "$srv" -o "$PERF/perf-$n.data" -- sleep 20 >/dev/null 2>&1
  else
    sleep 20
  fi
  c1=$(cpu); w1=$(worker_cpu); relay "$data/s1.json"; t1=$(date +%s.%N)
  rss1=$(rss)
  [ -n "${STATS:-}" ] && cp "$data/s0.json" "$STATS/s0-$n.json" && cp "$data/s1.json" "$STATS/s1-$n.json"
  up=$(tail -1 "$data/subs.log" | sed -n 's/.*connected \([0-9]*\)\/.*/\1/p')
  if [ -n "${JOIN:-}" ]; then
    (cd tests && "${idle[@]}" node bench/join_chromium.mjs http://127.0.0.1:$port demo 5) \
      >"$data/join.log" 2>&1 || true
  fi
  wait $subs || true
  /usr/bin/python3 - "$n" "$c0" "$c1" "$t0" "$t1" "$rss0" "$rss1" "$data/s0.json" "$data/s1.json" \
    "$w0" "$w1" "${up:-?}" <<'PY'
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests/bench")
from relay_window import delay_quantiles, relay
n, c0, c1, t0, t1, r0, r1, s0, s1, w0, w1, up = sys.argv[1:]
a, b = relay(s0), relay(s1)
n = int(n); dc = float(c1) - float(c0); dt = float(t1) - float(t0)
dp = b["rtp_out"] - a["rtp_out"]
workers = [float(y) - float(x) for x, y in zip(w0.split(), w1.split())]
calls = b["udp_send_calls"] - a["udp_send_calls"]  # the shared media port only
per_call = f"{(b['udp_sent'] - a['udp_sent']) / calls:.1f}" if calls else "-"
print(f"| {n} | {up} | {dp/dt:.0f} | {100*dc/dt:.1f} | {' + '.join(f'{100*w/dt:.1f}' for w in workers)} "
      f"| {1e6*dc/max(dp,1):.2f} | {(int(r1)-int(r0))/n:.0f} | {delay_quantiles(a, b)} "
      f"| {per_call} | {(b['handoff_in'] - a['handoff_in'])/dt:.0f} | {b['refused']} |")
PY
  [ -n "${JOIN:-}" ] && echo "  $n watching: $(tail -1 "$data/join.log")"
  [ -n "${JOIN:-}" ] && [ -n "${STATS:-}" ] && cp "$data/join.log" "$STATS/join-$n.log"
  sleep 3
done
