#!/bin/sh
# Fails when a layer includes a header of a layer above it (docs/architecture.md).
#   tools/check_layers.sh [ROOT]     ROOT: the source tree (default: .); its relay/ and
#                                    signaling/ are checked (tests/unit/check_layers_test.sh)
# relay/, lowest first: base wire net media route, then worker.c and api.c at relay/'s top.
# include/classrelay/ is the public API: it includes nothing of the relay but its own types.
# signaling/, lowest first: store, core, access | transport, cluster, lesson, front, then the
# composition root (server.c, routes.c, main.c, token_cmd.c) that alone knows them all.
# signaling/ sees only relay's public header (classrelay/relay.h) and relay/base.
root=${1:-.}
[ -d "$root/relay" ] || { echo "check_layers: no relay/ under $root" >&2; exit 2; }
fail=0
check() { # folder, forbidden include prefixes (extended regular expressions)
  dir=$1; shift
  set -- "$root/$dir"/*.[ch] -- "$@"
  files=""
  while [ "$1" != "--" ]; do
    [ -e "$1" ] && files="$files $1"
    shift
  done
  shift
  [ -n "$files" ] || return 0
  bad=$(printf '%s|' "$@")
  # shellcheck disable=SC2086
  if grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<](${bad%|})" $files; then
    echo "layering: the files above in $dir/ include a header above their layer" >&2
    fail=1
  fi
}
top='worker\.h|api\.h|classrelay/relay\.h|route/|\.\./'
check relay/base 'wire/' 'net/' 'media/' "$top" 'classrelay/'
check relay/wire 'net/' 'media/' "$top" 'classrelay/'
check relay/net 'media/' "$top" 'classrelay/'
check relay/media 'net/' "$top" 'classrelay/'
# route/ may use the shared types (classrelay/types.h), never the API or the worker
check relay/route 'worker\.h' 'api\.h' 'classrelay/relay\.h' '\.\./'
check relay/include/classrelay 'base/' 'wire/' 'net/' 'media/' 'route/' 'worker\.h' 'api\.h'

# signaling/: only the relay's public header and relay/base below it
relay='wire/|net/|media/|route/|worker\.h|api\.h|\.\./'
root_h='server\.h|routes\.h|token_cmd\.h'
check signaling/store 'core/' 'access/' 'transport/' 'cluster/' 'lesson/' 'front/' 'classrelay/' "$root_h" "$relay"
check signaling/core 'store/' 'access/' 'transport/' 'cluster/' 'lesson/' 'front/' "$root_h" "$relay"
check signaling/access 'transport/' 'cluster/' 'lesson/' 'front/' "$root_h" "$relay"
check signaling/transport 'store/' 'access/' 'cluster/' 'lesson/' 'front/' "$root_h" "$relay"
# cluster/ (the directory, Redis) sees core, access, store and relay/base only
check signaling/cluster 'transport/' 'lesson/' 'front/' 'classrelay/' "$root_h" "$relay"
check signaling/lesson 'transport/' 'front/' "$root_h" "$relay"
check signaling/front "$root_h" "$relay"
check signaling "$relay"
exit $fail
