"""Mocap ingest, cache and split on the bundled Bandai clips (and the full data when present)."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import skeleton
from training.data import mocap
from training.data.bvh import BvhError


@pytest.fixture()
def data_root(fixtures_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "bandai"
    shutil.copytree(fixtures_dir / "bandai", root)
    return root


def test_parse_clip_name_and_labels(fixtures_dir: Path):
    contents, styles = mocap.read_labels(fixtures_dir / "bandai" / "dataset-2")
    assert "walk-turn-left" in contents and "elderly" in styles
    info = mocap.parse_clip_name("x/dataset-2_walk-turn-left_elderly_004.bvh.gz", contents, styles)
    assert info == {"name": "dataset-2_walk-turn-left_elderly_004", "dataset": "dataset-2",
                    "content": "walk-turn-left", "style": "elderly", "index": 4}
    with pytest.raises(mocap.MocapError, match="dataset-2_swim_elderly_001.bvh.gz: content 'swim'"):
        mocap.parse_clip_name("dataset-2_swim_elderly_001.bvh.gz", contents, styles)
    with pytest.raises(mocap.MocapError, match="does not follow"):
        mocap.parse_clip_name("walk.bvh")


def test_split_rules_hold_out_styles_and_contents():
    rules = mocap.load_split_rules()
    assert mocap.assign_split({"dataset": "dataset-2", "content": "walk", "style": "elderly"}, rules) == "test"
    assert mocap.assign_split({"dataset": "dataset-1", "content": "bow", "style": "happy"}, rules) == "test"
    assert mocap.assign_split({"dataset": "dataset-1", "content": "guide", "style": "old"}, rules) == "test"
    assert mocap.assign_split({"dataset": "dataset-2", "content": "run", "style": "exhausted"}, rules) == "val"
    assert mocap.assign_split({"dataset": "dataset-1", "content": "guide", "style": "happy"}, rules) == "val"
    assert mocap.assign_split({"dataset": "dataset-2", "content": "run", "style": "normal"}, rules) == "train"


def test_bad_split_config_is_named(tmp_path: Path):
    p = tmp_path / "split.yaml"
    p.write_text("test:\n  - {dataset: dataset-2, colour: [red]}\n")
    with pytest.raises(mocap.MocapError, match=r"split.yaml: test\[0\] has unknown keys \['colour'\]"):
        mocap.load_split_rules(p)


def test_ingest_caches_and_reuses(data_root: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    npz, meta_path, rebuilt = mocap.ingest(data_root, cache)
    assert rebuilt and npz.is_file() and meta_path.is_file()
    meta = json.loads(meta_path.read_text())
    assert [c["frames"] for c in meta["clips"]] == [20, 105, 19]  # sorted by name
    assert not list(npz.parent.glob("*.tmp*")), "temporary files left behind"
    _, _, rebuilt = mocap.ingest(data_root, cache)
    assert not rebuilt, "valid cache was not re-used"
    # a changed source invalidates the cache
    extra = data_root / "dataset-1" / "data" / "dataset-1_run_normal_009.bvh.gz"
    shutil.copy(data_root / "dataset-1" / "data" / "dataset-1_dash_normal_001.bvh.gz", extra)
    _, _, rebuilt = mocap.ingest(data_root, cache)
    assert rebuilt


def test_load_split_arrays(data_root: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    everything = mocap.load_split("all", data_root=data_root, cache=cache)
    assert everything.joints.shape == (144, skeleton.NUM_JOINTS, 3) and everything.joints.dtype == np.float32
    assert len(everything.clips) == 3 and everything.clip.shape == (144,)
    assert {c["split"] for c in everything.clips} == {"train", "test"}
    train = mocap.load_split("train", data_root=data_root, cache=cache)
    test = mocap.load_split("test", data_root=data_root, cache=cache)
    assert len(train) == 39 and len(test) == 105
    assert [c["style"] for c in test.clips] == ["elderly"] and set(test.clip) == {0}
    assert set(train.clip) == {0, 1} and {c["dataset"] for c in train.clips} == {"dataset-1", "dataset-2"}
    sub = mocap.load_split("test", subsample=10, data_root=data_root, cache=cache)
    assert len(sub) == 11 and np.all(sub.frame % 10 == 0)
    np.testing.assert_array_equal(sub.joints, test.joints[::10])
    assert list(test.content()) == ["walk-turn-left"] * 105
    # callers get their own arrays: editing one does not change the next load
    everything.joints[:] = 0.0
    assert np.abs(mocap.load_split("all", data_root=data_root, cache=cache).joints).max() > 0.5
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        mocap.load_split("dev", data_root=data_root, cache=cache)


def test_cache_alone_serves_without_the_data(data_root: Path, tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    mocap.ingest(data_root, cache)
    monkeypatch.setattr(mocap.paths, "bandai_dir", lambda: None)
    d = mocap.load_split("all", cache=cache)
    assert len(d) == 144
    with pytest.raises(mocap.MocapError, match="no mocap cache"):
        mocap.load_split("all", cache=tmp_path / "empty")


def test_unknown_joint_names_name_the_file(data_root: Path, tmp_path: Path):
    src = data_root / "dataset-1" / "data" / "dataset-1_dash_normal_001.bvh.gz"
    text = gzip.open(src, "rt").read().replace("UpperArm_L", "Arm_Upper_L")
    with gzip.open(src, "wt") as f:
        f.write(text)
    with pytest.raises(BvhError, match=r"dataset-1_dash_normal_001.bvh.gz: .*UpperArm_L"):
        mocap.ingest(data_root, tmp_path / "cache")


def test_truncated_clip_stops_ingest_and_leaves_no_cache(data_root: Path, tmp_path: Path):
    src = data_root / "dataset-2" / "data" / "dataset-2_walk-turn-left_elderly_004.bvh.gz"
    lines = gzip.open(src, "rt").read().splitlines()
    with gzip.open(src, "wt") as f:
        f.write("\n".join(lines[:-10]) + "\n")
    with pytest.raises(BvhError, match="dataset-2_walk-turn-left_elderly_004.bvh.gz:.*truncated"):
        mocap.ingest(data_root, tmp_path / "cache")
    npz, meta, = mocap.cache_paths(tmp_path / "cache")
    assert not npz.exists() and not meta.exists()


def test_full_data_split(bandai_dir: Path):
    """The documented split over all 3076 clips (docs/data.md): counts and no clip in two splits."""
    data = mocap.load_all(bandai_dir)
    assert len(data.clips) == 3076 and len(data) == 416845
    summary = mocap.split_summary(data)
    assert summary == {
        "train": {"clips": 2357, "frames": 294812},
        "val": {"clips": 378, "frames": 56786},
        "test": {"clips": 341, "frames": 65247},
    }
    test_styles = {c["style"] for c in data.clips if c["split"] == "test" and c["dataset"] == "dataset-2"}
    train_styles = {c["style"] for c in data.clips if c["split"] == "train" and c["dataset"] == "dataset-2"}
    assert test_styles == {"elderly"} and "elderly" not in train_styles
    assert np.isfinite(data.joints).all()
