#!/bin/sh
# tools/check_layers.sh passes on the relay tree as it is, and refuses each kind of upward
# include: a probe file that includes a higher layer is dropped into a copy of the tree.
#   tests/unit/check_layers_test.sh [source-root]
src=${1:-$(dirname "$0")/../..}
check="$src/tools/check_layers.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fresh_copy() {
  rm -rf "$tmp/relay"
  mkdir -p "$tmp/relay"
  (cd "$src/relay" && find . -name '*.[ch]' | while read -r f; do
    mkdir -p "$tmp/relay/$(dirname "$f")" && cp "$f" "$tmp/relay/$f"
  done)
}

expect() { # pass|fail, what
  if sh "$check" "$tmp/relay" >/dev/null 2>&1; then got=pass; else got=fail; fi
  if [ "$got" = "$1" ]; then
    echo "ok: $2"
  else
    echo "FAILED: $2 (expected $1, got $got)" >&2
    failures=$((failures + 1))
  fi
}

probe() { # folder, included header
  fresh_copy
  printf '/* probe */\n#include "%s"\n' "$2" >"$tmp/relay/$1/zz_probe.c"
  expect fail "$1/ including \"$2\" is refused"
}

fresh_copy
expect pass "the tree as it is"
probe route worker.h
probe route classrelay/relay.h
probe route api.h
probe media route/peer.h
probe net route/consumer.h
probe wire media/bwe.h
probe base classrelay/relay.h
probe include/classrelay route/room.h
fresh_copy
printf '#include "classrelay/types.h"\n#include "media/bwe.h"\n' >"$tmp/relay/route/zz_probe.c"
expect pass "route/ including the shared types and media/ is allowed"

[ "$failures" -eq 0 ] || exit 1
