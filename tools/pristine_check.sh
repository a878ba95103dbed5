#!/usr/bin/env bash
# Runs the README's commands on a pristine Debian 12, as a new user's machine has it: a
# debootstrap minbase root (ca-certificates, git and sudo added, nothing else), the project
# cloned inside from this repository's committed HEAD, and the command run under chroot with
# a clean environment (env -i: PATH and HOME only). See docs/testing.md.
#
#   tools/pristine_check.sh serve   deploy/serve.sh: waits until the page answers and the
#                                   recorder runs (the stats say so), then stops the server
#   tools/pristine_check.sh test    deploy/test.sh: the whole suite (30-60 min on 2 cores)
#   tools/pristine_check.sh install deploy/install.sh (docs/install.md; systemd is not PID 1
#                                   in a chroot, so it must say so and install all the same),
#                                   then the installed server as the user classrelay with the
#                                   installed configuration (on a loopback port, plain HTTP:
#                                   HTTPS is not this check's) must serve the installed pages
#                                   and run the installed recorder
#
# Environment:
#   PRISTINE_DIR      cache folder (default /var/tmp/classrelay-pristine): base/ is the
#                     debootstrap root, made once and never changed; each run works in a
#                     copy, runs/<mode>-<time>/, and writes runs/<mode>-<time>.log
#   PRISTINE_KEEP=1   keep the run's copy afterwards (to look inside)
#   PRISTINE_PORT     serve mode: the port to listen on (default: a free one)
#   PRISTINE_WAIT     serve mode: seconds to wait for install + build + start (default 2400)
#   PRISTINE_NICE     niceness of the run (default 10: the machine is shared)
# Needs root (debootstrap, chroot, mounts). Uncommitted changes are not part of the check.
set -euo pipefail

mode=${1:-}
case "$mode" in serve | test | install) ;; *)
  echo "usage: $0 serve|test|install" >&2
  exit 2
  ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (debootstrap, chroot, mount)" >&2; exit 2; }

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
dir=${PRISTINE_DIR:-/var/tmp/classrelay-pristine}
sources=/etc/apt/sources.list.d/debian.sources
mirror=$(awk '/^URIs:/ {print $2; exit}' "$sources")
[ -n "$mirror" ] || { echo "$0: no mirror (URIs:) in $sources" >&2; exit 2; }
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
  echo "note: uncommitted changes in $repo are not part of this check (it uses $commit)"

say() { echo "pristine: $*"; }

# ---- the base root, made once ----
base=$dir/base
if [ ! -f "$base/.pristine-complete" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap
  rm -rf "$base.partial"
  mkdir -p "$dir"
  say "debootstrap bookworm from $mirror into $base (about 2 minutes)"
  debootstrap --variant=minbase --include=ca-certificates,git,sudo bookworm "$base.partial" \
    "$mirror" >"$dir/debootstrap.log" 2>&1 ||
    { tail -n 30 "$dir/debootstrap.log"; exit 1; }
  # apt inside reads the same sources as this machine (deb822, with the security suite)
  rm -f "$base.partial/etc/apt/sources.list"
  cp "$sources" "$base.partial/etc/apt/sources.list.d/debian.sources"
  touch "$base.partial/.pristine-complete"
  mv "$base.partial" "$base"
fi

# ---- this run's copy ----
stamp=$(date +%Y%m%d-%H%M%S)
root=$dir/runs/$mode-$stamp
log=$dir/runs/$mode-$stamp.log
mkdir -p "$dir/runs"
say "copying the base root to $root"
cp -a "$base" "$root"

cleanup() {
  local rc=$?
  # the processes this run started inside the root (the server, a browser left over)
  local pids=()
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && pids+=("${p#/proc/}")
  done
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    sleep 3
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  # proc, sys, dev and whatever the tests left mounted inside (netns, tmpfs), deepest first
  awk -v r="$root/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  mountpoint -q "$root" && { umount "$root" 2>/dev/null || umount -l "$root"; }
  if [ "${PRISTINE_KEEP:-}" = 1 ]; then
    say "kept $root"
  else
    rm -rf --one-file-system "$root"
  fi
  say "log: $log"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# THE SANDBOX, NOT THE PROJECT: a machine's / is a mount point, a chroot folder is not, and
# `ip netns exec` / `ip -n` (weak_links, netem/selftest) fail with "mount --make-rslave /"
# failed: Invalid argument. Binding the root onto itself makes it one.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# ---- THE NETWORK, NOT THE PROJECT ----
# This network inspects TLS with its own CA: apt (plain http) works without it, but npm
# fails with SELF_SIGNED_CERT_IN_CHAIN. A user's machine on an ordinary network needs none
# of this, so it lives here and never in deploy/install-deps.sh.
extra_ca=(/usr/local/share/ca-certificates/*.crt)
net_env=()
if [ -e "${extra_ca[0]}" ]; then
  cp "${extra_ca[@]}" "$root/usr/local/share/ca-certificates/"
  chroot "$root" /usr/sbin/update-ca-certificates >/dev/null
  net_env=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi

# ---- the project, cloned inside with the root's own git ----
git -C "$repo" bundle create "$root/tmp/classrelay.bundle" HEAD 2>/dev/null
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root \
  git clone -q /tmp/classrelay.bundle /root/classrelay
chroot "$root" /usr/bin/git -C /root/classrelay -c advice.detachedHead=false checkout -q --detach "$commit"
rm -f "$root/tmp/classrelay.bundle"
say "$mode at $commit in $root"

# A clean environment: what a root login on a fresh machine has, plus the network's CA.
in_root() {
  nice -n "${PRISTINE_NICE:-10}" chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    "${net_env[@]}" "$@"
}

if [ "$mode" = test ]; then
  t0=$(date +%s)
  set +e
  in_root /bin/bash -c 'cd /root/classrelay && deploy/test.sh' 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  say "deploy/test.sh exited $rc after $(($(date +%s) - t0)) s"
  exit "$rc"
fi

# ---- install: deploy/install.sh, then the installed server as the service runs it ----
if [ "$mode" = install ]; then
  t0=$(date +%s)
  in_root /bin/bash -c 'cd /root/classrelay && deploy/install.sh' >"$log" 2>&1 ||
    { tail -n 40 "$log"; say "FAIL: deploy/install.sh exited non-zero"; exit 1; }
  say "deploy/install.sh done after $(($(date +%s) - t0)) s"
  grep -q 'systemd is not PID 1' "$log" || { say "FAIL: no word about systemd"; exit 1; }
  for f in /usr/local/bin/classrelay /usr/local/bin/classrelay-recorder \
    /usr/local/share/classrelay/web/classroom.html /etc/classrelay/classrelay.conf \
    /etc/systemd/system/classrelay.service; do
    [ -e "$root$f" ] || { say "FAIL: $f was not installed"; exit 1; }
  done
  grep -q '^classrelay:' "$root/etc/passwd" || { say "FAIL: no user classrelay"; exit 1; }
  # the web pages must not come from the checkout: move it away
  mv "$root/root/classrelay" "$root/root/classrelay.moved"
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  setsid chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin \
    CLASSRELAY_HTTP_REDIRECT= /usr/sbin/runuser -u classrelay -- /usr/local/bin/classrelay serve \
    --config /etc/classrelay/classrelay.conf --data /var/lib/classrelay \
    --listen "127.0.0.1:$port" --no-tls --media-port 0 >>"$log" 2>&1 &
  for _ in $(seq 30); do curl -fs -o /dev/null "http://127.0.0.1:$port/classroom.html" && break; sleep 1; done
  curl -fsS -o /dev/null "http://127.0.0.1:$port/classroom.html" || { tail -n 30 "$log"; say "FAIL: no page"; exit 1; }
  curl -fsS -o /dev/null "http://127.0.0.1:$port/node_modules/hls.js/dist/hls.min.js" ||
    { say "FAIL: hls.js is not installed with the pages"; exit 1; }
  grep -q 'child: started /usr/local/bin/classrelay-recorder' "$log" ||
    { tail -n 30 "$log"; say "FAIL: the installed recorder did not start"; exit 1; }
  owner=$(stat -c %u "$root/var/lib/classrelay/secret.key")
  [ "$owner" = "$(chroot "$root" id -u classrelay)" ] || { say "FAIL: DATA is written by uid $owner"; exit 1; }
  say "PASS install: installed in $(($(date +%s) - t0)) s; the installed server runs as classrelay," \
    "serves the installed pages and runs the installed recorder"
  exit 0
fi

# ---- serve: start, wait for the page and the recorder, stop ----
port=${PRISTINE_PORT:-$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
url=http://127.0.0.1:$port
t0=$(date +%s)
setsid chroot "$root" /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  "${net_env[@]}" CLASSRELAY_LISTEN="127.0.0.1:$port" \
  nice -n "${PRISTINE_NICE:-10}" /bin/bash -c 'cd /root/classrelay && exec deploy/serve.sh' \
  >"$log" 2>&1 &
pid=$!
deadline=$((t0 + ${PRISTINE_WAIT:-2400}))
fail() { say "FAIL: $*"; tail -n 40 "$log"; exit 1; }
until curl -fs -o /dev/null "$url/"; do
  kill -0 "$pid" 2>/dev/null || fail "deploy/serve.sh exited before $url/ answered"
  [ "$(date +%s)" -lt "$deadline" ] || fail "$url/ did not answer in ${PRISTINE_WAIT:-2400} s"
  sleep 5
done
say "$url/ answers after $(($(date +%s) - t0)) s"
grep -q 'child: started .*classrelay-recorder' "$log" ||
  fail "the log does not show the recorder started"
# the recorder must also be running and answering: the server's stats say so
token=$(in_root /root/classrelay/build/signaling/classrelay token \
  --data /root/classrelay/classrelay-data --role admin --ttl 600)
running=false
for _ in $(seq 30); do
  stats=$(curl -fsS -H "Authorization: Bearer $token" "$url/api/v1/stats")
  running=$(printf '%s' "$stats" | /usr/bin/python3 -c \
    'import json, sys; print(str(json.load(sys.stdin).get("recording", {}).get("recorder_running")).lower())')
  [ "$running" = true ] && break
  sleep 1
done
[ "$running" = true ] || fail "the stats say the recorder is not running: $stats"
for page in teacher.html classroom.html replay.html; do
  curl -fsS -o /dev/null "$url/$page" || fail "$url/$page does not answer"
done
say "PASS serve: $url/ answers, the recorder runs ($(($(date +%s) - t0)) s from a pristine root)"
kill -TERM -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
