#!/bin/sh
# Fails if any C file differs from .clang-format (STYLE.md habit 16).
cd "$(dirname "$0")/.." || exit 1
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find relay signaling recorder tests -name '*.[ch]' -not -path '*/node_modules/*')
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files; then
  echo "format: run 'clang-format -i' on the files above" >&2
  exit 1
fi
