"""Shared fixtures: paths to ../shared material that skip with a reason when it is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

from hpe3d_ros import paths

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    d = paths.shared_dir()
    if d is None:
        pytest.skip("../shared is not beside this checkout (fresh clone without shared data)")
    return d


@pytest.fixture(scope="session")
def bandai_dir() -> Path:
    d = paths.bandai_dir()
    if d is None:
        pytest.skip("../shared/data/bandai-namco is not available")
    return d


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
