#!/usr/bin/env bash
# Installs what is missing, builds, and starts ClassRelay on embedded defaults with the
# demo lesson open: http://127.0.0.1:8080/  (extra arguments go to `classrelay serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# the server and the recorder it runs (it looks for build/recorder/classrelay-recorder)
cmake --build build -j"$(nproc)" --target classrelay classrelay-recorder
exec build/signaling/classrelay serve --listen "${CLASSRELAY_LISTEN:-127.0.0.1:8080}" \
  --data "${CLASSRELAY_DATA:-$PWD/classrelay-data}" "$@"
