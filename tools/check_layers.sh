#!/bin/sh
# Fails when a layer includes a header of a layer above it (docs/architecture.md).
#   tools/check_layers.sh [ROOT]     ROOT: the source tree (default: .)
# relay/, lowest first: base wire net media (routing = relay/*.c, api.h).
# signaling/, lowest first: store, core, access | transport, lesson, front, then the
# composition root (server.c, routes.c, main.c, token_cmd.c) that alone knows them all.
# signaling/ sees only relay's public header (api.h) and relay/base.
root=${1:-.}
[ -d "$root/relay" ] || { echo "check_layers: no relay/ under $root" >&2; exit 2; }
fail=0
check() { # dir, forbidden include prefixes
  dir=$1; shift
  for f in "$root/$dir"/*.[ch]; do
    [ -e "$f" ] || continue
    for bad in "$@"; do
      if grep -nE "^#include \"($bad)" "$f"; then
        echo "layering: $f includes a header of '$bad', which $dir/ may not use" >&2
        fail=1
      fi
    done
  done
}
routing='api.h peer.h room.h worker.h producer.h consumer.h quality.h'
check relay/base 'wire/' 'net/' 'media/' $routing
check relay/wire 'net/' 'media/' $routing
check relay/net 'media/' $routing
check relay/media 'net/' $routing

relay_inner='wire/ net/ media/ route/ peer.h room.h worker.h producer.h consumer.h'
check signaling/store 'core/' 'access/' 'transport/' 'lesson/' 'front/' 'api.h' server.h routes.h $relay_inner
check signaling/core 'store/' 'access/' 'transport/' 'lesson/' 'front/' server.h routes.h $relay_inner
check signaling/access 'transport/' 'lesson/' 'front/' server.h routes.h $relay_inner
check signaling/transport 'store/' 'access/' 'lesson/' 'front/' server.h routes.h $relay_inner
check signaling/lesson 'transport/' 'front/' server.h routes.h $relay_inner
check signaling/front server.h routes.h token_cmd.h $relay_inner
check signaling $relay_inner
exit $fail
