"""Where things are: the shared data beside a checkout, caches, the installed share directory."""
from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path | None:
    """The source checkout holding this package, or None when running from an install."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "package.xml").is_file() and (root / "training").is_dir() else None


def shared_dir() -> Path | None:
    """The read-only shared material: $HPE3D_SHARED, else ../shared beside the checkout or the
    working directory; None when there is none (a fresh clone elsewhere)."""
    candidates = []
    if os.environ.get("HPE3D_SHARED"):
        candidates.append(Path(os.environ["HPE3D_SHARED"]))
    if repo_root() is not None:
        candidates.append(repo_root().parent / "shared")
    candidates.append(Path.cwd().parent / "shared")
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    return None


def bandai_dir() -> Path | None:
    """The Bandai Namco mocap datasets (dataset-1, dataset-2), or None."""
    s = shared_dir()
    d = s / "data" / "bandai-namco" if s else None
    return d if d is not None and d.is_dir() else None


def cache_dir() -> Path:
    """Cache for parsed mocap and built engines: $HPE3D_CACHE, else <checkout>/.cache, else ~/.cache/hpe3d_ros."""
    if os.environ.get("HPE3D_CACHE"):
        d = Path(os.environ["HPE3D_CACHE"])
    elif repo_root() is not None:
        d = repo_root() / ".cache"
    else:
        d = Path.home() / ".cache" / "hpe3d_ros"
    d.mkdir(parents=True, exist_ok=True)
    return d


def share_dir() -> Path:
    """The package's share directory (config/, engines/, launch/, rviz/): the checkout when run from
    source, else the ament index of the install."""
    if repo_root() is not None:
        return repo_root()
    import sys

    venv_share = Path(sys.prefix) / "share" / "hpe3d_ros"  # `pip install .` into a venv without a sourced ROS setup
    if not os.environ.get("AMENT_PREFIX_PATH") and (venv_share / "package.xml").is_file():
        return venv_share
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory("hpe3d_ros"))


def package_data_dir() -> Path:
    """Small data bundled inside the Python package (fixtures for the embedded default)."""
    return Path(__file__).resolve().parent / "data"
