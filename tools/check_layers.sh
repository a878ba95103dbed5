#!/bin/sh
# Fails when a relay/ layer includes a header of a layer above it.
# Layers, lowest first: base wire net media (routing = relay/*.c, api.h).
root=${1:-relay}
fail=0
check() { # layer, forbidden include prefixes
  layer=$1; shift
  for f in "$root/$layer"/*.[ch]; do
    [ -e "$f" ] || continue
    for bad in "$@"; do
      if grep -nE "^#include \"($bad)" "$f"; then
        echo "layering: $f includes a header of the higher layer '$bad'" >&2
        fail=1
      fi
    done
  done
}
check base 'wire/' 'net/' 'media/' 'api.h' 'peer.h' 'room.h' 'worker.h' 'producer.h' 'consumer.h'
check wire 'net/' 'media/' 'api.h' 'peer.h' 'room.h' 'worker.h' 'producer.h' 'consumer.h'
check net 'media/' 'api.h' 'peer.h' 'room.h' 'worker.h' 'producer.h' 'consumer.h'
check media 'net/' 'api.h' 'peer.h' 'room.h' 'worker.h' 'producer.h' 'consumer.h'
exit $fail
