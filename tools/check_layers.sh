#!/bin/sh
# Fails when a relay/ layer includes a header of a layer above it (docs/architecture.md).
# Layers, lowest first: base wire net media route, then worker.c and api.c at relay/'s top.
# include/classrelay/ is the public API: it includes nothing of the relay but its own types.
#   tools/check_layers.sh [relay-dir]       (tests/unit/check_layers_test.sh tests it)
root=${1:-relay}
fail=0
check() { # folder, forbidden include prefixes
  dir=$1; shift
  for f in "$root/$dir"/*.[ch]; do
    [ -e "$f" ] || continue
    for bad in "$@"; do
      if grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]($bad)" "$f"; then
        echo "layering: $f includes '$bad', above its layer" >&2
        fail=1
      fi
    done
  done
}
top='worker\.h|api\.h|classrelay/relay\.h|route/|\.\./'
check base 'wire/' 'net/' 'media/' "$top" 'classrelay/'
check wire 'net/' 'media/' "$top" 'classrelay/'
check net 'media/' "$top" 'classrelay/'
check media 'net/' "$top" 'classrelay/'
# route/ may use the shared types (classrelay/types.h), never the API or the worker
check route 'worker\.h' 'api\.h' 'classrelay/relay\.h' '\.\./'
check include/classrelay 'base/' 'wire/' 'net/' 'media/' 'route/' 'worker\.h' 'api\.h'
exit $fail
