"""The node's statistics: rates and latency percentiles, and the shared counters."""
from __future__ import annotations

import math
import threading

from hpe3d_ros.node.stats import QUEUE_STAGES, STAGES, Stats, percentiles_ms, rate_hz


def test_rates_and_percentiles():
    times = [10.0 + i / 30 for i in range(91)]
    assert abs(rate_hz(times, now=13.0, span=5.0) - 30.0) < 1e-6
    assert rate_hz(times, now=100.0) == 0.0
    p50, p95, p99 = percentiles_ms([0.001 * i for i in range(1, 101)])
    assert abs(p50 - 50.5) < 1e-9 and p95 < p99 <= 100.0
    assert all(math.isnan(v) for v in percentiles_ms([]))


def test_stats_are_bounded_and_counted_under_concurrent_updates():
    s = Stats(window=10)

    def work():
        for i in range(1000):
            s.count("received")
            s.reason(f"reason{i % 100}")
            with s.lock:
                s.latency["total"].append(0.01)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = s.snapshot()
    assert snap["counts"]["received"] == 4000
    assert len(snap["reasons"]) <= 65 and sum(snap["reasons"].values()) == 4000  # 64 kinds + "other"
    assert len(snap["latency"]["total"]) == 10 and set(snap["latency"]) == set(STAGES + QUEUE_STAGES)


def test_plausible_stamps():
    from hpe3d_ros.node.stats import plausible_stamp

    now = 1_800_000_000 * 10**9
    assert plausible_stamp(now - 50_000_000, now) and plausible_stamp(now + 10**9, now)
    assert not plausible_stamp(0, now) and not plausible_stamp(1, now)
    assert not plausible_stamp(now - 61 * 10**9, now) and not plausible_stamp((2**31 - 1) * 10**9, now)
