"""docs/architecture.md stays true: every file or folder it names exists, and the three "adding ..."
recipes name at most three files each."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "architecture.md"
PATH = re.compile(r"(?<![\w/.-])((?:hpe3d_ros|training|config|docs|tests|engines)/[\w./<>-]*[\w>]/?)")


def _named_paths(text: str) -> set[str]:
    return {m.group(1) for m in PATH.finditer(text) if "<" not in m.group(1)}


def test_every_named_path_exists():
    text = DOC.read_text()
    paths = _named_paths(text)
    assert len(paths) > 30
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert missing == [], f"docs/architecture.md names files that do not exist: {missing}"


def test_each_recipe_touches_at_most_three_files():
    text = DOC.read_text()
    for title in ("## Adding a 2D detector", "## Adding a lifter method", "## Adding an output format"):
        section = text.split(title, 1)[1].split("\n## ", 1)[0]
        steps = re.findall(r"^\d\. ", section, re.M)
        assert 1 <= len(steps) <= 3, title
        assert "Test:" in section and "Config:" in section, title
