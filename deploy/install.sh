#!/usr/bin/env bash
# Installs ClassRelay on a Debian 12 server (docs/install.md): the build and run
# dependencies (deploy/install-deps.sh), a build, the server, its recorder and the pages
# under PREFIX (cmake --install), the system user classrelay, a default configuration
# /etc/classrelay/classrelay.conf when there is none, and the systemd unit
# (deploy/classrelay.service), enabled and started when systemd runs the machine.
# Safe to run again: an upgrade rebuilds, reinstalls and restarts; the configuration and
# DATA (/var/lib/classrelay) are kept.
#
#   sudo deploy/install.sh [--prefix DIR] [--destdir DIR] [--no-deps] [--no-start]
#     --prefix DIR   where the programs and pages go (default /usr/local)
#     --destdir DIR  stage everything under DIR instead of / (packaging, tests): no user is
#                    made, nothing is started, and the programs still look in PREFIX
#     --no-deps      do not run deploy/install-deps.sh
#     --no-start     install and enable, but do not start or restart
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
destdir=
deps=1
start=1
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
    --no-deps) deps=0; shift ;;
    --no-start) start=0; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $prefix in /*) ;; *) echo "install.sh: --prefix must be an absolute path" >&2; exit 2 ;; esac
if [ -n "$destdir" ]; then
  mkdir -p "$destdir"
  destdir=$(cd "$destdir" && pwd)
elif [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo), or stage with --destdir DIR" >&2
  exit 1
fi

say() { printf '\n== %s\n' "$*"; }

if [ "$deps" = 1 ]; then
  say "dependencies (deploy/install-deps.sh)"
  "$here/deploy/install-deps.sh"
fi

say "building in $here/build-install"
web_dir=$prefix/share/classrelay/web
cmake -S "$here" -B "$here/build-install" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCR_WEB_DIR="$web_dir" >/dev/null
nice -n 10 cmake --build "$here/build-install" -j"$(nproc)" --target classrelay classrelay-recorder

say "installing under ${destdir}${prefix}"
DESTDIR=$destdir cmake --install "$here/build-install" >/dev/null
install -D -m 0644 "$here/docs/install.md" "$destdir$prefix/share/doc/classrelay/install.md"
install -D -m 0644 "$here/docs/configuration.md" "$destdir$prefix/share/doc/classrelay/configuration.md"

unit=$destdir/etc/systemd/system/classrelay.service
mkdir -p "$(dirname "$unit")"
sed "s|/usr/local/|$prefix/|g" "$here/deploy/classrelay.service" >"$unit.tmp"
chmod 0644 "$unit.tmp"
mv "$unit.tmp" "$unit"
echo "unit: $unit"

if [ -z "$destdir" ] && ! getent passwd classrelay >/dev/null; then
  say "system user classrelay"
  useradd --system --user-group --home-dir /var/lib/classrelay --no-create-home \
    --shell /usr/sbin/nologin --comment "ClassRelay server" classrelay
fi

conf=$destdir/etc/classrelay/classrelay.conf
if [ -e "$conf" ]; then
  echo "config: $conf kept as it is"
else
  mkdir -p "$(dirname "$conf")"
  cat >"$conf.tmp" <<CONF
# ClassRelay configuration: key = value, one a line (docs/configuration.md lists every key).
# Written once by deploy/install.sh, never overwritten; after a change:
#   systemctl restart classrelay

# HTTPS and WSS on every address (browsers give the camera only to secure pages). Without
# tls_cert/tls_key, the first start makes a self-signed certificate in /var/lib/classrelay/tls
# and logs its SHA-256 fingerprint, to trust once on the school's PCs.
listen = 0.0.0.0:443
tls = on
# plain HTTP on port 80 only redirects to https://
http_redirect = 0.0.0.0:80
#tls_cert = /etc/classrelay/cert.pem
#tls_key = /etc/classrelay/key.pem

# every peer's media on one UDP (and ICE-TCP) port per worker: open 40000 and up in the
# firewall, one port per core
media_port = 40000
# a server behind 1:1 NAT announces its public address
#public_ip = 203.0.113.7

# the room "demo" is open to anyone without a token: off on a real server
demo = false

web_dir = $web_dir
CONF
  chmod 0640 "$conf.tmp"
  mv "$conf.tmp" "$conf"
  [ -n "$destdir" ] || chown root:classrelay "$conf"
  echo "config: wrote $conf"
fi

if [ -n "$destdir" ]; then
  say "staged under $destdir: no user made, nothing started"
  exit 0
fi

# what systemd's StateDirectory= makes at start, made now too for a start by hand
install -d -o classrelay -g classrelay -m 0750 /var/lib/classrelay

if [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
  say "systemd: enabling classrelay.service"
  systemctl daemon-reload
  systemctl enable classrelay.service
  if [ "$start" = 1 ]; then
    systemctl restart classrelay.service
    sleep 2
    systemctl --no-pager --lines=15 status classrelay.service || true
    echo "The first start logs the admin's password: journalctl -u classrelay | grep -i password"
  fi
else
  say "systemd is not PID 1 here (a container or chroot?): installed, not started"
  if command -v systemctl >/dev/null 2>&1 && systemctl enable classrelay.service 2>/dev/null; then
    echo "classrelay.service is enabled: it starts when this system boots with systemd."
  fi
  echo "Start it by hand as the classrelay user, for example:"
  echo "  runuser -u classrelay -- $prefix/bin/classrelay serve --config /etc/classrelay/classrelay.conf --data /var/lib/classrelay"
fi
