"""Throttled warnings: one per kind and period, the rest counted, bounded memory."""
from __future__ import annotations

from hpe3d_ros.node.throttle import Throttle


def test_throttle_shows_one_message_per_period_and_counts_the_rest():
    t = Throttle(3600.0)
    assert t("a") == (True, 0)
    assert t("a") == (False, 0) and t("a") == (False, 0)
    assert t("b") == (True, 0)  # kinds are throttled separately
    t.period = 0.0
    assert t("a") == (True, 2)
    for i in range(1000):  # free-text keys (e.g. encodings) cannot grow it without bound
        t(f"encoding:{i}")
    assert len(t.last) <= Throttle.MAX_KEYS + 1
