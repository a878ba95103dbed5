#!/usr/bin/env python3
"""Writes cellular_weak.mahi: a Mahimahi-format link trace (one line per 1500-byte delivery
opportunity, in ms; the trace repeats) shaped like a weak 3G/4G school uplink: capacity
wandering between ~0.3 and ~1.6 Mbit/s (a random walk in log space, changing every 500 ms),
deliveries bunched into 1-4 ms scheduler bursts, and two short outages (a handover, a fade).
Deterministic (seeded); rerun only to change the trace: python3 gen_cellular.py > cellular_weak.mahi"""
import math
import random

random.seed(2024)
DURATION_MS = 60000
level = math.log(900e3)
lo, hi = math.log(300e3), math.log(1.6e6)
outages = [(17000, 17400), (41000, 41250)]
t = 0.0
print("# Mahimahi-style trace: ms of each 1500-byte delivery opportunity (gen_cellular.py)")
while t < DURATION_MS:
    seg_end = t + 500
    level += random.gauss(0, 0.18)
    level = min(max(level, lo), hi)
    rate = math.exp(level)
    per_ms = rate / 8 / 1500 / 1000  # opportunities per ms
    while t < seg_end:
        burst = random.choice([1, 1, 2, 2, 3, 4])  # a scheduler grant of a few ms' worth
        t += random.expovariate(per_ms / burst)
        ms = int(t)
        if any(a <= ms < b for a, b in outages):
            continue
        if ms >= DURATION_MS:
            break
        for _ in range(burst):
            print(ms)
