#!/bin/sh
# tools/check_layers.sh passes on the relay/ and signaling/ trees as they are, and refuses
# each kind of upward include: a probe file that includes a higher layer is dropped into a
# copy of the trees.
#   tests/unit/check_layers_test.sh [source-root]
src=${1:-$(dirname "$0")/../..}
check="$src/tools/check_layers.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fresh_copy() {
  for tree in relay signaling; do
    rm -rf "${tmp:?}/$tree"
    mkdir -p "$tmp/$tree"
    (cd "$src/$tree" && find . -name '*.[ch]' | while read -r f; do
      mkdir -p "$tmp/$tree/$(dirname "$f")" && cp "$f" "$tmp/$tree/$f"
    done)
  done
}

expect() { # pass|fail, what
  if sh "$check" "$tmp" >/dev/null 2>&1; then got=pass; else got=fail; fi
  if [ "$got" = "$1" ]; then
    echo "ok: $2"
  else
    echo "FAILED: $2 (expected $1, got $got)" >&2
    failures=$((failures + 1))
  fi
}

probe() { # folder under the root, included header
  printf '/* probe */\n#include "%s"\n' "$2" >"$tmp/$1/zz_probe.c"
  expect fail "$1/ including \"$2\" is refused"
  rm -f "$tmp/$1/zz_probe.c"
}

fresh_copy
expect pass "the tree as it is"
probe relay/route worker.h
probe relay/route classrelay/relay.h
probe relay/route api.h
probe relay/media route/peer.h
probe relay/net route/consumer.h
probe relay/wire media/bwe.h
probe relay/base classrelay/relay.h
probe relay/include/classrelay route/room.h
probe signaling/store core/context.h
probe signaling/core access/auth.h
probe signaling/access lesson/rooms.h
probe signaling/transport front/rpc.h
probe signaling/lesson front/whip.h
probe signaling/front server.h
probe signaling/front route/peer.h
probe signaling worker.h
fresh_copy
printf '#include "lesson/rooms.h"\n#include "transport/http.h"\n' >"$tmp/signaling/front/zz_probe.c"
expect pass "front/ including lesson/ and transport/ is allowed"
fresh_copy
printf '#include "classrelay/types.h"\n#include "media/bwe.h"\n' >"$tmp/relay/route/zz_probe.c"
expect pass "route/ including the shared types and media/ is allowed"

[ "$failures" -eq 0 ] || exit 1
