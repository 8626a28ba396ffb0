"""Training configs: defaults, --set overrides, and clear errors for bad files."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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


# ---------------------------------------------------------------- base: inheritance


def test_base_chain_merge_order(tmp_path):
    """method defaults < outermost base < ... < the file < --set; mappings merge, lists replace."""
    (tmp_path / "a.yaml").write_text(
        "method: supervised_martinez\nepochs: 5\nseed: 3\nout_dir: runs/a\n"
        "data: {source: synthetic, synthetic_poses: 100, subsample: 2}\nmodel: {hidden: 16, blocks: 3}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(
        "base: ../a.yaml\nepochs: 6\ndata: {synthetic_poses: 200}\nmodel: {hidden: 24}\n"
    )
    (tmp_path / "c.yaml").write_text("base: sub/b.yaml\nseed: 9\nmodel: {blocks: 1}\n")
    cfg = load_config(tmp_path / "c.yaml", ["epochs=7"])
    assert cfg["method"] == "supervised_martinez"  # from the outermost base
    assert cfg["epochs"] == 7  # --set over the file over b over a
    assert cfg["seed"] == 9
    assert cfg["data"] == {**cfg["data"], "source": "synthetic", "synthetic_poses": 200, "subsample": 2}
    assert cfg["model"]["hidden"] == 24 and cfg["model"]["blocks"] == 1
    assert cfg["model"]["activation"] == "relu"  # the method's default under everything
    assert "base" not in cfg
    assert cfg["out_dir"] == str(Path("runs") / "c")  # a base's out_dir is not inherited
    assert cfg["_config_name"] == "c"
    b = load_config(tmp_path / "sub" / "b.yaml")
    assert b["epochs"] == 6 and b["seed"] == 3 and b["model"]["blocks"] == 3 and b["out_dir"] == str(Path("runs") / "b")
    (tmp_path / "d.yaml").write_text("base: a.yaml\ndata: {noise: {jitter_px: 1.5}}\nout_dir: runs/d_seed0\n")
    d = load_config(tmp_path / "d.yaml")
    assert d["data"]["noise"] == {"jitter_px": 1.5, "drop_prob": 0.0, "model": None, "fraction": 1.0}
    assert d["data"]["synthetic_poses"] == 100
    assert d["out_dir"] == "runs/d_seed0"


def test_base_list_values_replace(tmp_path):
    (tmp_path / "a.yaml").write_text("method: elepose\nscorer: {azimuths: 8, elevation_sigmas: [-1.0, 0.0, 1.0]}\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\nscorer: {elevation_sigmas: [0.0]}\n")
    cfg = load_config(tmp_path / "b.yaml")
    assert cfg["scorer"]["elevation_sigmas"] == [0.0] and cfg["scorer"]["azimuths"] == 8


def test_missing_base_file_is_named(tmp_path):
    p = _write(tmp_path, "base: no_such_base.yaml\nepochs: 2\n")
    with pytest.raises(ConfigError, match=r"cfg.yaml: base config 'no_such_base.yaml' not found"):
        load_config(p)
    with pytest.raises(ConfigError, match="'base' must be the path of another config file"):
        load_config(_write(tmp_path, "base: [a.yaml]\n"))


def test_base_cycles_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\nmethod: supervised_martinez\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\nepochs: 2\n")
    with pytest.raises(ConfigError, match=r"cycle \(.*a.yaml -> .*b.yaml -> .*a.yaml\)"):
        load_config(tmp_path / "a.yaml")
    (tmp_path / "self.yaml").write_text("base: self.yaml\nmethod: supervised_martinez\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "self.yaml")


def test_unknown_key_in_a_base_is_still_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("method: supervised_martinez\nepochz: 3\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\nepochs: 2\n")
    with pytest.raises(ConfigError, match="unknown key 'epochz'"):
        load_config(tmp_path / "b.yaml")


SHIPPED = sorted((REPO / "config" / "train").rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_config_resolves_and_its_base_is_its_own_family(path):
    cfg = load_config(path)
    assert cfg["_config_name"] == path.stem and cfg["out_dir"]
    raw = yaml.safe_load(path.read_text())
    if "base" in raw:
        base = (path.parent / raw["base"]).resolve()
        assert base.parent == path.parent, "a config inherits only from its own method family's folder"
        assert load_config(base)["method"] == cfg["method"]


def test_shipped_children_state_only_what_differs():
    """A child file repeats no value its base already gives."""
    from training.config import read_config_file

    for path in SHIPPED:
        raw = yaml.safe_load(path.read_text())
        if "base" not in raw:
            continue
        parent = read_config_file(path.parent / raw["base"])

        def repeated(child: dict, base: dict, prefix: str = "") -> list[str]:
            out = []
            for k, v in child.items():
                if isinstance(v, dict) and isinstance(base.get(k), dict):
                    out += repeated(v, base[k], prefix + k + ".")
                elif k in base and base[k] == v:
                    out.append(prefix + k)
            return out

        assert repeated({k: v for k, v in raw.items() if k != "base"}, parent) == [], path.name
