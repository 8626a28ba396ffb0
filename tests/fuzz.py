"""Settings of the fuzz tests (hypothesis): deterministic (the same examples on every run, so CI cannot
flake), no example database written into the checkout, no per-example deadline (the CPU is shared)."""
from __future__ import annotations

from hypothesis import HealthCheck, settings


def fuzz(max_examples: int = 200):
    """``@fuzz(n)``: a deterministic hypothesis test of ``n`` examples."""
    return settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
