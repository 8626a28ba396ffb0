"""Fixtures of the node tests."""
from __future__ import annotations

import pytest

from .ros_harness import fixture_frames


@pytest.fixture(scope="module")
def frames():
    """Up to three (name, RGB frame) with people; the test skips without them."""
    f = fixture_frames(3)
    if not f:
        pytest.skip("no frame with people: neither tests/fixtures/media nor ../shared/media is available")
    return f
