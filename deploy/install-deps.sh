#!/usr/bin/env bash
# Installs every build, run and test dependency of ClassRelay on Debian 12.
# Safe to run again: it installs only what is missing.
#   deploy/install-deps.sh          build + run dependencies
#   deploy/install-deps.sh --test   also the test peers (Chromium, aiortc, GStreamer, npm)
#   deploy/install-deps.sh --fuzz   also clang with libFuzzer and its sanitizers (tools/fuzz.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

build_pkgs=(build-essential cmake pkg-config git
  libnice-dev libsrtp2-dev libusrsctp-dev libwebsockets-dev libssl-dev
  libglib2.0-dev libjansson-dev libsqlite3-dev zlib1g-dev
  # a cluster (issue 14): the directory on Redis, the store on PostgreSQL
  libhiredis-dev libpq-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  # the recorder's RTSP ingest: webrtcbin's headers (gstreamer-webrtc-1.0) and ICE
  libgstreamer-plugins-bad1.0-dev gstreamer1.0-nice
  # the recorder: RTP depayloaders, Matroska, x264, AAC, HLS
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav)
test_pkgs=(chromium python3-aiortc python3-gi python3-gst-1.0 gir1.2-gst-plugins-base-1.0
  gir1.2-gst-plugins-bad-1.0
  gstreamer1.0-tools gstreamer1.0-nice
  iproute2 nftables curl clang-format
  # issue 13: TURN (coturn), an RTSP camera (gst-rtsp-server), a Prometheus parser, ffprobe
  coturn gir1.2-gst-rtsp-server-1.0 python3-prometheus-client ffmpeg
  # issue 14: the servers a cluster runs on, started by the tests in temporary folders
  redis-server postgresql)
# libclang-rt-14-dev holds libFuzzer and clang's ASan/UBSan; clang only recommends it
fuzz_pkgs=(clang libclang-rt-14-dev)

want=("${build_pkgs[@]}")
mode=${1:-}
[ "$mode" = "--test" ] && want+=("${test_pkgs[@]}")
[ "$mode" = "--fuzz" ] && want+=("${fuzz_pkgs[@]}")
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # coturn as a test peer: the tests start their own in a namespace; Debian's service,
  # started by the package with its default configuration, is left stopped and disabled
  # (and so are Redis and PostgreSQL: the tests run their own servers)
  if [ "$mode" = "--test" ]; then
    for svc in coturn redis-server postgresql; do
      [[ " ${missing[*]} " == *" $svc "* ]] || continue
      if [ -d /run/systemd/system ]; then
        $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
      else
        $sudo service "$svc" stop >/dev/null 2>&1 || true
      fi
    done
  fi
fi

# npm packages as package-lock.json pins them: installed again when missing or when the
# installed version is not the locked one (an older checkout's node_modules).
npm_deps() {
  local dir=$1
  if ! (cd "$dir" && node -e '
      const lock = require("./package-lock.json").packages;
      for (const [k, v] of Object.entries(lock)) {
        if (!k) continue;
        let got = null;
        try { got = require("./" + k + "/package.json").version; } catch {}
        if (got !== v.version) process.exit(1);
      }' 2>/dev/null); then
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
}

# the replay page's HLS player (hls.js), served from web/node_modules
npm_deps "$here/web"
# the browser tests' playwright-core (pinned to a release that runs on Debian 12's Node 18)
if [ "$mode" = "--test" ]; then npm_deps "$here/tests"; fi
