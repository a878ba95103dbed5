#!/usr/bin/env bash
# The relay's workers at saturation: what one worker and two forward when a lesson has more
# subscribers than they can serve. On this 2-core machine the clients must not take the
# cores the workers are measured on, so they run in a network namespace of their own,
# joined to the relay by a veth pair, and cost almost nothing:
#   - the teacher is publish_clip.py (webrtcbin sending a pre-encoded 720p VP8 clip, no
#     encoder);
#   - the subscribers are bench_subscribers (real ICE, DTLS-SRTP, RTCP), and an nftables rule
#     at the namespace's ingress drops the RTP the relay sends them (RTCP, STUN and DTLS
#     pass), so no client process is woken per packet.
# The relay does all its work per packet (rewrite, SRTP, sendmmsg onto the veth); what it
# saves against forward_cpu.sh is the loopback delivery into a client socket and the wakeup
# of the client, which a real network card does not cost the server either.
#   tests/bench/saturate.sh [N]          (default 1000 subscribers; WORKERS="1 2" by default)
# SRTP_PROFILE=cm80: the subscribers offer only AES128_CM_SHA1_80. TEACHER=chromium: the
# teacher is headless Chromium's fake camera instead (publish_chromium.mjs, at idle
# priority: it paces its packets as browsers do, but its encoder takes CPU). Keep N within what the
# workers carry (about 1000 a worker here): past it the relay falls behind, classrooms lose
# consent, and the stats cannot be read.
# Needs root (ip netns, nft). Prints one row per worker count; docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
n=${1:-1000}
ns=crsat$$
net=10.231.$((RANDOM % 200 + 1))
host=$net.1 leaf=$net.2
data=$(mktemp -d)
srv='' pub='' subs=''
stop() {
  if [ -n "$pub" ]; then pkill -P "$pub" 2>/dev/null || true; fi # the teacher's browser
  for p in $subs $pub $srv; do kill "$p" 2>/dev/null || true; done
  for p in $subs $pub $srv; do wait "$p" 2>/dev/null || true; done
  srv='' pub='' subs=''
}
cleanup() {
  set +e # everything goes, whatever fails
  stop
  ip netns del "$ns" 2>/dev/null || true
  ip link del "${ns}a" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $data"; else rm -rf "$data"; fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" # a socket or two per subscriber
ip netns add "$ns"
ip link add "${ns}a" type veth peer name "${ns}b"
ip link set "${ns}b" netns "$ns"
ip addr add "$host/30" dev "${ns}a"
ip link set "${ns}a" up
ip -n "$ns" addr add "$leaf/30" dev "${ns}b"
ip -n "$ns" link set "${ns}b" up
ip -n "$ns" link set lo up
# RTP from the relay (version 2, payload type outside RTCP's 72-78 once the marker bit is
# set aside: RFC 5761 §4) is dropped as it enters the namespace
ip netns exec "$ns" nft -f - <<EOF
table ip sink {
  chain in {
    type filter hook prerouting priority raw; policy accept;
    ip saddr $host udp length > 8 @th,64,2 2 @th,73,7 != 72-78 counter drop
  }
}
EOF
worker_cpu() { /usr/bin/python3 tests/bench/relay_window.py workers "$srv"; }
printf '| workers | subscribers | connected | offered pkts/s | forwarded pkts/s | worker CPU %% | µs CPU per forwarded packet | forwarding delay p50 / p99 µs | handed between workers/s |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for w in ${WORKERS:-1 2}; do
  port=$((20000 + RANDOM % 10000))
  rm -rf "${data:?}"/*
  spread=0 # one worker; with several, the lesson spreads evenly over them
  [ "$w" -gt 1 ] && spread=$((n / w + 1))
  "$build"/signaling/classrelay serve --listen "$host:$port" --data "$data" --log-level warn --no-tls \
    --bind-ip "$host" --media-port $((port + 1)) --workers "$w" --room-spread "$spread" \
    --no-record --max-load 0 >"$data/server.log" 2>&1 &
  srv=$!
  sleep 1
  token=$("$build"/signaling/classrelay token --data "$data" --role admin)
  secs=$((n / 20 + 60)) # joining, then the teacher's 40 s
  BENCH_LOCAL_IP=$leaf ip netns exec "$ns" "$build"/tests/bench/bench_subscribers \
    "$host:$port" demo "$n" "$secs" >"$data/subs.log" 2>&1 &
  subs=$!
  until grep -q "connected $n/$n" "$data/subs.log" 2>/dev/null || ! kill -0 "$subs" 2>/dev/null; do
    sleep 1
  done
  # the teacher comes once every classroom is in (the clip lasts 75 s)
  if [ "${TEACHER:-clip}" = chromium ]; then # its encoder ramps up over about 10 s
    (cd tests && exec ip netns exec "$ns" chrt --idle 0 node bench/publish_chromium.mjs \
      "http://$host:$port" demo 50 1500000) >"$data/pub.log" 2>&1 &
    pub=$!
    sleep 22
  else
    ip netns exec "$ns" /usr/bin/python3 tests/bench/publish_clip.py "http://$host:$port" demo \
      40 "$leaf" >"$data/pub.log" 2>&1 &
    pub=$!
    sleep 12
  fi
  stats() { curl -s -H "Authorization: Bearer $token" "http://$host:$port/api/v1/stats"; }
  stats >"$data/s0.json"
  w0=$(worker_cpu) t0=$(date +%s.%N)
  sleep 20
  stats >"$data/s1.json"
  w1=$(worker_cpu) t1=$(date +%s.%N)
  up=$(tail -1 "$data/subs.log" | sed -n 's/.*connected \([0-9]*\)\/.*/\1/p')
  /usr/bin/python3 - "$w" "$n" "${up:-?}" "$t0" "$t1" "$w0" "$w1" "$data/s0.json" "$data/s1.json" <<'PY'
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests/bench")
from relay_window import delay_quantiles, relay
w, n, up, t0, t1, w0, w1, a, b = sys.argv[1:]
a, b = relay(a), relay(b)
dt = float(t1) - float(t0)
fwd = (b["rtp_out"] - a["rtp_out"]) / dt
offered = (b["rtp_in"] - a["rtp_in"]) / dt * int(up if up != "?" else n)
cpu = [float(y) - float(x) for x, y in zip(w0.split(), w1.split())]
handed = (b["handoff_in"] - a["handoff_in"]) / dt
print(f"| {w} | {n} | {up} | {offered:.0f} | {fwd:.0f} | {' + '.join(f'{100*c/dt:.1f}' for c in cpu)} "
      f"| {1e6*sum(cpu)/max(fwd*dt,1):.2f} | {delay_quantiles(a, b)} | {handed:.0f} |")
PY
  stop
  sleep 2
done
