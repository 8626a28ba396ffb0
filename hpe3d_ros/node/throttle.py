"""Throttled warnings: at most one message per kind every ``period`` seconds, the rest counted."""
from __future__ import annotations

import time


class Throttle:
    """At most one message per key every ``period`` seconds; counts what it swallowed."""

    MAX_KEYS = 256  # bounded memory whatever the input (encodings are free text)

    def __init__(self, period: float):
        self.period = period
        self.last: dict[str, float] = {}
        self.suppressed: dict[str, int] = {}

    def __call__(self, key: str) -> tuple[bool, int]:
        """(show this message now, how many of its kind were swallowed since the last one shown)."""
        now = time.monotonic()
        if key not in self.last and len(self.last) >= self.MAX_KEYS:
            key = "other"
        if now - self.last.get(key, -1e18) >= self.period:
            self.last[key] = now
            return True, self.suppressed.pop(key, 0)
        self.suppressed[key] = self.suppressed.get(key, 0) + 1
        return False, 0
