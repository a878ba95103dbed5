#!/usr/bin/python3
"""What the relay did over a benchmark's window, from two /api/v1/stats answers (its start and
its end): the forwarding delay's quantiles, from the histogram's bucket counts at the end
minus those at the start (a quantile is the upper bound of the bucket holding it).
And the CPU seconds each media worker thread ("cr-worker") of a relay process has used.
Used by forward_cpu.sh and saturate.sh:

    /usr/bin/python3 tests/bench/relay_window.py delay S0.json S1.json    ->  "≤750 / ≤2000"
    /usr/bin/python3 tests/bench/relay_window.py workers PID              ->  "12.3 11.9"
"""
import glob
import os
import json
import sys


def relay(path):
    with open(path) as f:
        return json.load(f)["relay"]


def delay_quantiles(a, b, qs=(0.5, 0.99)):
    """'≤p50 / ≤p99' (µs) of the forwarding delays between stats a and b ('-': none)."""
    ha, hb = a["forward_delay_us"]["buckets"], b["forward_delay_us"]["buckets"]
    counts = [y["count"] - x["count"] for x, y in zip(ha, hb)]
    total = sum(counts)

    def quantile(q):
        seen = 0
        for bucket, c in zip(hb, counts):
            seen += c
            if total and seen >= q * total:
                return "≤%d" % bucket["le"] if bucket["le"] is not None else ">%d" % hb[-2]["le"]
        return "-"
    return " / ".join(quantile(q) for q in qs)


def worker_seconds(pid):
    """utime + stime of each worker thread of pid, in thread order."""
    hz = os.sysconf("SC_CLK_TCK")
    out = []
    for task in sorted(glob.glob("/proc/%s/task/*" % pid), key=lambda t: int(t.rsplit("/", 1)[1])):
        try:
            with open(task + "/comm") as f:
                if f.read().strip() != "cr-worker":
                    continue
            with open(task + "/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out.append((int(fields[11]) + int(fields[12])) / hz)  # utime, stime: fields 14, 15
    return out


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "delay":
        print(delay_quantiles(relay(sys.argv[2]), relay(sys.argv[3])))
    elif len(sys.argv) == 3 and sys.argv[1] == "workers":
        print(" ".join("%.2f" % s for s in worker_seconds(sys.argv[2])))
    else:
        sys.exit(__doc__)
