"""`hpe3d ingest` end to end on the bundled clips; the reference-body measurement."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hpe3d_ros import cli, skeleton
from training.data import body


def test_ingest_cli_json_and_reuse(fixtures_dir: Path, tmp_path: Path, capsys):
    root = tmp_path / "bandai"
    shutil.copytree(fixtures_dir / "bandai", root)
    args = ["ingest", "--data-root", str(root), "--cache", str(tmp_path / "cache"), "--json", "--eval-sets"]
    assert cli.main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rebuilt"] is True and out["clips"] == 3 and out["frames"] == 144
    assert out["splits"]["train"] == {"clips": 2, "frames": 39} and out["splits"]["test"] == {"clips": 1, "frames": 105}
    assert out["eval_sets"]["test"] == 11
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out)["rebuilt"] is False
    fx = tmp_path / "fx.npz"
    assert (
        cli.main(["ingest", "--data-root", str(root), "--cache", str(tmp_path / "cache"), "--make-fixture", str(fx)])
        == 0
    )
    assert "fixture:" in capsys.readouterr().out and fx.is_file()
    # the bundled clips hold no standing frame: the measurement says so instead of guessing
    assert cli.main(["ingest", "--data-root", str(root), "--cache", str(tmp_path / "cache"), "--measure-body"]) == 1
    assert "no standing frames" in capsys.readouterr().err


def test_measure_body_on_full_data(bandai_dir: Path):
    from training.data import mocap

    m = body.measure_reference_body(mocap.load_all(bandai_dir).joints)
    assert m["bone_sum_m_mean"] == pytest.approx(skeleton.REFERENCE_BONE_SUM_M, abs=5e-4)
    assert m["height_m"] == pytest.approx(skeleton.REFERENCE_HEIGHT_M, abs=0.01)


def test_ingest_cli_missing_data_is_a_clear_error(tmp_path: Path, capsys):
    assert cli.main(["ingest", "--data-root", str(tmp_path / "nowhere"), "--cache", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert "hpe3d ingest: error:" in err and "nowhere: mocap data directory not found" in err


def standing_person(n: int, height_head: float = 1.4) -> np.ndarray:
    """Straight-legged upright poses, ankles at 0.1 m, head joint at ``height_head``."""
    j = np.zeros((n, skeleton.NUM_JOINTS, 3))
    names = skeleton.JOINT_NAMES
    for side, y in (("left", 0.1), ("right", -0.1)):
        j[:, names.index(f"{side}_hip")] = [0, y, 0.9]
        j[:, names.index(f"{side}_knee")] = [0, y, 0.5]
        j[:, names.index(f"{side}_ankle")] = [0, y, 0.1]
        j[:, names.index(f"{side}_shoulder")] = [0, 2 * y, 1.3]
        j[:, names.index(f"{side}_elbow")] = [0, 2 * y, 1.0]
        j[:, names.index(f"{side}_wrist")] = [0, 2 * y, 0.75]
    j[:, 0] = [0, 0, 0.9]
    j[:, names.index("thorax")] = [0, 0, 1.3]
    j[:, names.index("spine")] = [0, 0, 1.1]
    j[:, names.index("head")] = [0, 0, height_head]
    return j


def test_measure_reference_body_hand_computed():
    stand = standing_person(5)
    bent = standing_person(5)
    bent[:, [2, 5], 0] = 0.3  # knees forward: legs not straight
    m = body.measure_reference_body(np.concatenate([stand, bent]), head_top_m=0.2)
    assert m["standing_frames"] == 5
    assert m["height_m"] == pytest.approx(1.6)
    expected = skeleton.bone_lengths(np.concatenate([stand, bent])).sum(-1).mean()
    assert m["bone_sum_m_mean"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="no standing frames"):
        body.measure_reference_body(bent)
