#!/usr/bin/python3
"""Fails when a C file of the product is longer than 1,000 lines or one of its functions
longer than 100 (STYLE.md habit 15). A function is counted from the line of its opening
brace at column 0 to its closing brace at column 0, as clang-format lays them out.

  tools/check_sizes.py [ROOT]          ROOT: the source tree (default: .)"""
import os
import re
import sys

MAX_FILE, MAX_FUNC = 1000, 100
DIRS = ("relay", "signaling", "recorder")


def functions(lines):
    start, name = None, None
    for i, line in enumerate(lines):
        if line.startswith("{") and start is None:
            start = i
            head = " ".join(lines[max(0, i - 3) : i])
            m = re.findall(r"(\w+)\s*\(", head)
            name = m[-1] if m else "?"
        elif line.startswith("}") and start is not None:
            yield name, start + 1, i - start + 1
            start = None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = 0
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
                if len(lines) > MAX_FILE:
                    print(f"{path}: {len(lines)} lines (at most {MAX_FILE})")
                    bad += 1
                for name, at, n in functions(lines):
                    if n > MAX_FUNC:
                        print(f"{path}:{at}: {name}() is {n} lines (at most {MAX_FUNC})")
                        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
