#!/usr/bin/env bash
# Runs libFuzzer campaigns on the entry points in tests/fuzz/ (docs/testing.md, "Fuzzing").
#   tools/fuzz.sh --list                            the targets
#   tools/fuzz.sh TARGET SECONDS [-- libFuzzer args] one campaign (TARGET: rtp or fuzz_rtp)
#   tools/fuzz.sh all SECONDS [-- libFuzzer args]    every target in turn, SECONDS each
# Builds every fuzz target with clang, libFuzzer, ASan and UBSan into $FUZZ_BUILD (default
# build-fuzz; `deploy/install-deps.sh --fuzz` installs clang and its runtimes), then fuzzes
# at nice 19 with tests/fuzz/corpus/<name>/ as the seed corpus. New inputs go to a scratch
# corpus; at the end old and new inputs are minimized together into the corpus with
# -set_cover_merge=1 (see minimize). Crashers are saved into the corpus dir as crash-*, so
# the replay in `ctest -L fuzz` keeps running them. Exits 1 if any campaign found a crash,
# 2 on misuse. Each campaign's log: $FUZZ_BUILD/fuzz-logs/<name>.log. FUZZ_NO_BUILD=1
# runs the targets as last built (one build for a series of campaigns while the tree
# changes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-2}
fuzz_dir=$root/tests/fuzz

usage() {
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

targets() {
  for f in "$fuzz_dir"/fuzz_*.c; do
    f=${f##*/fuzz_}
    echo "${f%.c}"
  done
}

# The longest input worth generating: a datagram for packet parsers, more for text.
max_len() {
  case $1 in
  sdp | sig_config | sig_rpc | sig_sdpscan | sig_rest_json | sig_channels) echo 65536 ;;
  sig_token | sig_auth_token | sig_note_json) echo 8192 ;;
  net_dtls_record) echo 4096 ;;
  rtcp | route_rtcp) echo 2048 ;;
  sig_range) echo 1024 ;;
  *) echo 1500 ;;
  esac
}

build_all() {
  command -v clang >/dev/null || { echo "fuzz: no clang: run deploy/install-deps.sh --fuzz" >&2; exit 2; }
  # configured every time, so a new tests/fuzz/fuzz_*.c becomes a target
  cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCR_LIBFUZZER=ON -DCR_SANITIZE=ON >/dev/null
  local t list=()
  for t in $(targets); do list+=("fuzz_$t"); done
  nice -n 19 cmake --build "$build" -j"$jobs" --target "${list[@]}" >"$build/fuzz-build.log" 2>&1 ||
    { tail -30 "$build/fuzz-build.log" >&2; echo "fuzz: build failed" >&2; exit 2; }
}

# minimize NAME BIN CORPUS SCRATCH LOG: the corpus becomes its named seeds and crashers
# (any file not named by its SHA-1) plus a small set of inputs, old or new, that keeps every
# feature (-set_cover_merge=1: greedy set cover), so it grows only with coverage.
minimize() {
  local name=$1 bin=$2 corpus=$3 scratch=$4 log=$5 f
  mkdir -p "$scratch/min"
  for f in "$corpus"/*; do
    [ -f "$f" ] || continue
    [[ ${f##*/} =~ ^[0-9a-f]{40}$ ]] || cp "$f" "$scratch/min/"
  done
  local edges=() # sig_rpc's inputs are whole sessions: keep edges, not hit counts, < 1 MB
  [ "$name" != sig_rpc ] || edges=(-use_counters=0)
  if nice -n 19 "$bin" -set_cover_merge=1 "${edges[@]}" -max_len="$(max_len "$name")" -timeout=10 \
    -artifact_prefix="$scratch/art/merge-" "$scratch/min" "$corpus" "$scratch/new" >"$log" 2>&1; then
    find "$corpus" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
    cp "$scratch"/min/* "$corpus"/
  else
    echo "fuzz: merge for $name failed, corpus left as it was, see $log" >&2
  fi
}

summary=()
crashed=0

# campaign NAME SECONDS [libFuzzer args...]
campaign() {
  local name=$1 secs=$2
  shift 2
  local bin=$build/tests/fuzz_$name corpus=$fuzz_dir/corpus/$name
  local scratch log=$build/fuzz-logs/$name.log
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX")
  mkdir -p "$corpus" "$scratch/new" "$scratch/art" "$build/fuzz-logs"
  local before_n before_kb t0 t1 rc=0
  before_n=$(find "$corpus" -type f | wc -l)
  before_kb=$(du -sk "$corpus" | cut -f1)
  echo "== $name: ${secs}s, corpus $before_n files, ${before_kb} KB"
  t0=$(date +%s)
  # libFuzzer writes new inputs into the first dir (the scratch one) and reads the rest.
  nice -n 19 "$bin" -max_total_time="$secs" -print_final_stats=1 -max_len="$(max_len "$name")" \
    -timeout=10 -artifact_prefix="$scratch/art/" "$@" "$scratch/new" "$corpus" >"$log" 2>&1 || rc=$?
  t1=$(date +%s)
  minimize "$name" "$bin" "$corpus" "$scratch" "$log.merge"
  local art found=0
  for art in "$scratch"/art/*; do
    [ -f "$art" ] || continue
    case ${art##*/} in
    crash-* | leak-* | timeout-* | oom-* | slow-unit-*) ;;
    *) continue ;;
    esac
    case ${art##*/} in
    slow-unit-*) continue ;; # slow but correct: not a failure
    crash-*) cp "$art" "$corpus/${art##*/}" ;;
    *) cp "$art" "$corpus/crash-${art##*/}" ;;
    esac
    found=$((found + 1))
    echo "   saved $corpus/$(basename "$art")" >&2
  done
  if [ "$found" -eq 0 ] && [ "$rc" -ne 0 ]; then
    echo "fuzz: $name exited $rc without an artifact, see $log" >&2
    found=1
  fi
  local execs eps cov ft after_n after_kb
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  after_n=$(find "$corpus" -type f | wc -l)
  after_kb=$(du -sk "$corpus" | cut -f1)
  ft=${cov##*ft: }
  cov=${cov#cov: }
  cov=${cov%% ft:*}
  grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 || true
  summary+=("$(printf '%-20s %12s %6ss %9s %7s %8s %5s->%-5s %6s KB %s' "$name" "${execs:-?}" \
    "$((t1 - t0))" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$before_n" "$after_n" "$after_kb" "$found")")
  [ "$found" -eq 0 ] || crashed=1
  rm -rf "$scratch"
}

[ $# -ge 1 ] || usage
if [ "$1" = "--list" ]; then
  targets
  exit 0
fi
[ $# -ge 2 ] || usage
what=${1#fuzz_} secs=$2
shift 2
if [ $# -gt 0 ]; then
  [ "$1" = "--" ] || usage
  shift
fi
case $secs in '' | *[!0-9]*) usage ;; esac
if [ "$what" = all ]; then
  names=$(targets)
else
  targets | grep -qx "$what" || { echo "fuzz: no target $what (see --list)" >&2; exit 2; }
  names=$what
fi

[ "${FUZZ_NO_BUILD:-}" = 1 ] || build_all
for n in $names; do
  campaign "$n" "$secs" "$@"
done
printf '\n%-20s %12s %7s %9s %7s %8s %12s %9s %s\n' target executions time exec/s cov ft \
  corpus size crashes
printf '%s\n' "${summary[@]}"
exit $crashed
