"""The recorder's topic patterns (per-person topics subscribed to as they appear)."""
from __future__ import annotations

from hpe3d_ros.replay.recorder import pattern_regex


def test_a_star_matches_within_one_name_token():
    r = pattern_regex("/humans/bodies/*/position")
    assert r.match("/humans/bodies/b3/position") and r.match("/humans/bodies/b12345/position")
    assert not r.match("/humans/bodies/b3/extra/position") and not r.match("/humans/bodies/b3/positions")
    assert not r.match("/robot/humans/bodies/b3/position")
    assert pattern_regex("/a.b/*").match("/a.b/x") and not pattern_regex("/a.b/*").match("/aXb/x")  # dots literal
