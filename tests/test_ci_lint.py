"""CI lints before it tests: .ci/run runs `ruff check .` (ruff.toml) before the README's test command,
with the ruff of requirements.lock."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ci_runs_ruff_before_the_tests():
    lines = [ln.strip() for ln in (REPO / ".ci" / "run").read_text().splitlines() if not ln.strip().startswith("#")]
    assert "set -euo pipefail" in lines
    lint = lines.index(".venv/bin/ruff check .")
    assert lint < lines.index(".venv/bin/python -m pytest tests")


def test_ruff_is_pinned_and_configured():
    assert re.search(r"^ruff==\d+\.\d+\.\d+$", (REPO / "requirements.lock").read_text(), re.M)
    config = (REPO / "ruff.toml").read_text()
    assert "line-length = 120" in config
    for rule in ('"E"', '"W"', '"F"', '"I"', '"ARG"', '"BLE"'):
        assert rule in config
