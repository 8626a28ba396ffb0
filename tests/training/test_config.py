"""Training configs: defaults, --set overrides, and clear errors for bad files."""
from __future__ import annotations

from pathlib import Path

import pytest

from training.config import ConfigError, apply_overrides, load_config, parse_override

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "config" / "train" / "supervised-martinez" / "supervised-martinez_synthetic_tipsy-norm_tiny.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(text)
    return p


def test_tiny_config_resolves_with_defaults():
    cfg = load_config(TINY)
    assert cfg["method"] == "supervised_martinez"
    assert cfg["model"]["hidden"] == 32
    assert cfg["model"]["activation"] == "relu"  # from the method's defaults
    assert cfg["val"]["every"] == 1  # from the trainer's defaults
    assert cfg["_config_name"] == TINY.stem


def test_set_overrides_parse_yaml_values():
    cfg = load_config(TINY, ["optim.lr=1e-4", "data.noise.jitter_px=2.5", "epochs=7", "model.activation=leaky_relu"])
    assert cfg["optim"]["lr"] == pytest.approx(1e-4)
    assert cfg["data"]["noise"]["jitter_px"] == 2.5
    assert cfg["epochs"] == 7
    assert cfg["model"]["activation"] == "leaky_relu"
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])


def test_unknown_top_level_key_is_named(tmp_path):
    p = _write(tmp_path, "method: supervised_martinez\nepochz: 3\n")
    with pytest.raises(ConfigError, match=r"cfg.yaml.*unknown key 'epochz'"):
        load_config(p)


def test_unknown_nested_key_is_named_with_its_path(tmp_path):
    p = _write(tmp_path, "method: supervised_martinez\ndata:\n  subsampel: 4\n")
    with pytest.raises(ConfigError, match=r"unknown key 'data.subsampel'"):
        load_config(p)
    with pytest.raises(ConfigError, match=r"unknown key 'model.widht'"):
        load_config(TINY, ["model.widht=3"])


def test_unknown_method_lists_known_ones(tmp_path):
    p = _write(tmp_path, "method: no_such_method\n")
    with pytest.raises(ConfigError, match=r"unknown training method 'no_such_method'.*supervised_martinez"):
        load_config(p)


def test_missing_method_and_bad_types(tmp_path):
    with pytest.raises(ConfigError, match="missing key 'method'"):
        load_config(_write(tmp_path, "seed: 1\n"))
    with pytest.raises(ConfigError, match="'epochs' must be an integer"):
        load_config(TINY, ["epochs=three"])
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path, "method: [unclosed\n"))
    with pytest.raises(ConfigError, match="expected key.sub=value"):
        apply_overrides({}, ["novalue"])
    with pytest.raises(FileNotFoundError, match="no_such.yaml"):
        load_config(tmp_path / "no_such.yaml")


def test_hpe3d_train_reports_a_bad_config_without_traceback(tmp_path, capsys):
    from hpe3d_ros.cli import main

    p = _write(tmp_path, "method: supervised_martinez\ndata:\n  source: synthetic\n  subsampel: 4\n")
    assert main(["train", str(p), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "hpe3d train: error" in err and "data.subsampel" in err and str(p) in err
    assert not (tmp_path / "run").exists()
