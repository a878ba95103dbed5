#!/usr/bin/python3
"""Lists circles of mutual calls between source files: strongly connected components of the
graph "file A uses a function or table defined in file B", read from the object files of a
build (nm: a symbol A leaves undefined and B defines). Calls through function pointers
handed in at run time (callback structs) are not edges: that is the point of them.

  tools/call_circles.py BUILD_DIR [--max N] [--under PATH...]

Prints every circle with more than one file; exits 1 if one has more than N files
(default 2: a natural pair such as peer.c <-> peer_rtcp.c is allowed)."""
import argparse
import collections
import os
import subprocess
import sys


def source_root(build):
    for line in open(os.path.join(build, "CMakeCache.txt")):
        if line.startswith("CMAKE_HOME_DIRECTORY:"):
            return line.split("=", 1)[1].strip()
    return None


def objects(build, under):
    src = source_root(build)
    for root, _, files in os.walk(build):
        if "CMakeFiles" not in root:
            continue
        for f in files:
            if not f.endswith(".c.o"):
                continue
            path = os.path.join(root, f)
            rel = path.split(".dir/", 1)[-1][: -len(".o")]
            subdir = os.path.relpath(root.split("/CMakeFiles/", 1)[0], build)
            if src and not os.path.exists(os.path.join(src, subdir, rel)):
                continue  # left behind by a source that was moved or deleted
            if under and not any(rel.startswith(u) or ("/" + u) in "/" + rel for u in under):
                continue
            yield rel, path


def symbols(path):
    out = subprocess.run(["nm", "-P", path], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            used.add(name)
        elif kind in "TDBRC":
            defined.add(name)
    return defined, used


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--max", type=int, default=2)
    ap.add_argument("--under", nargs="*", default=[])
    a = ap.parse_args()
    files, owner = {}, {}
    for rel, path in objects(a.build, a.under):
        if rel in files or "/tests/" in "/" + rel or rel.startswith("tests"):
            continue
        d, u = symbols(path)
        files[rel] = u
        for s in d:
            owner.setdefault(s, rel)
    graph = collections.defaultdict(set)
    for f, used in files.items():
        graph[f]
        for s in used:
            g = owner.get(s)
            if g and g != f:
                graph[f].add(g)
    worst = 0
    for comp in sorted(sccs(graph), key=len, reverse=True):
        if len(comp) > 1:
            print(f"circle of {len(comp)}: " + " ".join(comp))
            worst = max(worst, len(comp))
    if worst > a.max:
        print(f"call_circles: a circle of {worst} files (allowed: {a.max})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
