"""The README's commands run literally: the INSTALLED console script (the venv's bin/hpe3d, not
``python -m``, not the checkout) from a fresh directory, with relative paths, as a new user runs them.

Each test checks that the outputs land in the user's directory and that nothing was written under the
venv (its file list, sizes and modification times before and after; Python's own bytecode caches
aside) or into the checkout. They skip when the package is not installed in the venv of the running
interpreter, or when the installed copy differs from this checkout (reinstall: ``.venv/bin/pip
install --no-deps .``); .ci/run installs it first, so there they run.
"""
from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
HPE3D = VENV / "bin" / "hpe3d"
SAMPLE_CLIP = REPO / "hpe3d_ros" / "data" / "vtest-10s.mp4"


def _not_installed_reason() -> str | None:
    """Why the installed-command tests cannot run here, or None."""
    if sys.prefix == sys.base_prefix:
        return f"not running in a virtual environment ({sys.executable}): the README's commands use .venv/bin/hpe3d"
    if not HPE3D.is_file():
        return f"{HPE3D} does not exist: hpe3d_ros is not installed in this venv (.venv/bin/pip install --no-deps .)"
    installed = Path(sysconfig.get_paths()["purelib"]) / "hpe3d_ros"
    if not (installed / "__init__.py").is_file():
        return (f"no hpe3d_ros package under {installed.parent}: not installed in this venv "
                "(.venv/bin/pip install --no-deps .)")
    differ = []
    for package in ("hpe3d_ros", "training"):  # training: make-bag, train, eval, export, ingest are its commands
        for src in sorted((REPO / package).rglob("*.py")):
            copy = installed.parent / package / src.relative_to(REPO / package)
            if "__pycache__" not in src.parts and not (copy.is_file() and filecmp.cmp(src, copy, shallow=False)):
                differ.append(str(src.relative_to(REPO)))
    share = VENV / "share" / "hpe3d_ros"
    differ += [
        name
        for name in ("config/lift.yaml", "engines/ours_bandai.onnx", "engines/ours_bandai.json")
        if not (share / name).is_file() or not filecmp.cmp(REPO / name, share / name, shallow=False)
    ]
    if differ:
        return (
            "the installed hpe3d_ros differs from this checkout "
            f"({', '.join(differ[:3])}{' ...' if len(differ) > 3 else ''}): "
            "reinstall with .venv/bin/pip install --no-deps ."
        )
    return None


@pytest.fixture(scope="module")
def installed() -> Path:
    reason = _not_installed_reason()
    if reason:
        pytest.skip(reason)
    return HPE3D


def _snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file under ``root``; Python's bytecode caches and ``skip`` aside."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and os.path.join(dirpath, d) not in skip]
        for name in filenames:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            out[p] = (st.st_size, st.st_mtime_ns)
    return out


class Untouched:
    """Snapshots of the venv and the checkout; ``check()`` names what a command wrote there."""

    def __init__(self):
        self.venv = _snapshot(VENV)
        skip = tuple(str(REPO / d) for d in (".venv", ".git", ".pytest_cache", ".cache"))
        self.repo_skip = skip
        self.repo = _snapshot(REPO, skip)

    def check(self) -> None:
        for name, before, after in (
            ("the venv", self.venv, _snapshot(VENV)),
            ("the checkout", self.repo, _snapshot(REPO, self.repo_skip)),
        ):
            added = sorted(set(after) - set(before))
            changed = sorted(p for p in set(after) & set(before) if after[p] != before[p])
            assert not added and not changed, f"written into {name}: new {added[:10]}, changed {changed[:10]}"


def _env() -> dict[str, str]:
    """The user's environment: nothing that would import the checkout instead of the install."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "HPE3D_NATIVE_LOGS")}
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"  # as every test: ROS traffic stays on this machine
    return env


def _run(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(HPE3D), *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"hpe3d {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


def test_readme_demo_from_a_fresh_directory(installed, tmp_path):
    """`.venv/bin/hpe3d demo`, exactly as the README gives it, from a directory outside the clone."""
    user = tmp_path / "user"
    user.mkdir()
    untouched = Untouched()
    proc = subprocess.run([str(installed), "demo"], cwd=user, env=_env(), capture_output=True, text=True, timeout=400)
    logs = user / "out" / "demo" / "logs"
    detail = (
        "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in sorted(logs.glob("*.log")))
        if logs.is_dir()
        else ""
    )
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}\n{detail}"
    out = user / "out" / "demo"
    assert (out / "bag" / "metadata.yaml").is_file() and list((out / "bag").glob("*.mcap")), (
        "no output bag in ./out/demo/bag"
    )
    assert (out / "demo.mp4").stat().st_size > 100_000, "no video in ./out/demo/demo.mp4"
    assert (out / "preview.png").stat().st_size > 10_000, "no preview in ./out/demo/preview.png"
    assert (out / "report" / "report.md").is_file() and (out / "report" / "report.json").is_file(), (
        "no report in ./out/demo/report"
    )
    for line in (
        "output bag: " + str(out / "bag"),
        "video:      " + str(out / "demo.mp4"),
        "preview:    " + str(out / "preview.png"),
        "report:     " + str(out / "report" / "report.md"),
    ):
        assert line in proc.stdout, proc.stdout
    assert "W0000" not in proc.stderr
    untouched.check()
    assert not (VENV / "share" / "hpe3d_ros" / "out").exists()


@pytest.mark.usefixtures("installed")
def test_readme_replay_collect_and_lift_with_relative_paths(tmp_path):
    """make-bag, replay, collect and lift from the user's directory with relative paths and defaults."""
    user = tmp_path / "user"
    user.mkdir()
    shutil.copy(SAMPLE_CLIP, user / "clip.mp4")
    untouched = Untouched()
    _run(user, "make-bag", "--video", "clip.mp4", "--out", "in_bag", "--max-frames", "6")
    assert (user / "in_bag" / "metadata.yaml").is_file()
    replay = _run(user, "replay", "--bag", "in_bag", "--out", "out_bag")
    assert (user / "out_bag" / "metadata.yaml").is_file() and (user / "out_bag-report" / "report.md").is_file()
    assert "replayed 6 frames" in replay.stdout, replay.stdout
    assert "W0000" not in replay.stderr and "XNNPACK" not in replay.stderr, replay.stderr  # MediaPipe's lines, hidden
    _run(user, "collect", "--video", "clip.mp4", "--out", "poses2d.npz", "--hfov", "70", "--max-frames", "6")
    with np.load(user / "poses2d.npz") as f:
        n = f["keypoints"].shape[0]
        assert n >= 1 and f["keypoints"].shape == (n, 16, 2) and f["intrinsics"].shape[-2:] == (3, 3)
    lift = _run(user, "lift", "--input", "poses2d.npz", "--output", "poses3d.npz")  # the shipped default model
    with np.load(user / "poses3d.npz") as f:
        assert f["joints3d"].shape == (n, 16, 3) and np.isfinite(f["joints3d"]).all() and float(f["height_m"]) == 1.70
    assert "poses3d.npz" in lift.stdout
    untouched.check()
