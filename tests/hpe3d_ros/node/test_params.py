"""The node's parameter schema (hpe3d_ros.node.params): dataclass fields with metadata, mapped onto the
pipeline and the detector."""
from __future__ import annotations

import dataclasses

import pytest

from hpe3d_ros.detection.params import DetectorParams, NanoDetParams
from hpe3d_ros.detection.registry import DEFAULT_KIND, DETECTORS, detector_params_class
from hpe3d_ros.node.body_topics import BodyTopicsParams
from hpe3d_ros.node.params import (
    PARAM_BY_NAME,
    PARAMS,
    NodeParams,
    check_values,
    detector_params,
    pipeline_params,
    specs_from_dataclass,
)
from hpe3d_ros.pipeline import check_params
from hpe3d_ros.scene.params import GROUPS, SceneParams


def test_node_parameters_map_onto_a_valid_pipeline_and_detector():
    values = {p.name: p.default for p in PARAMS}
    pp = check_params(pipeline_params(values))
    assert pp["detector"] == {"kind": DEFAULT_KIND} | detector_params_class(DEFAULT_KIND)().to_dict()
    assert pp["body_height_m"] == values["body_height_m"] and pp["lift"] is True
    specs = {p.name: p for p in PARAMS}
    for kind in DETECTORS:  # every kind gets exactly its own fields, each a declared read-only parameter
        values["detector.kind"] = kind
        params = detector_params(values)
        cls = detector_params_class(kind)
        assert params.pop("kind") == kind and set(params) == {f.name for f in dataclasses.fields(cls)}
        cls.from_dict(params)
        assert all(specs[f"detector.{k}"].read_only for k in params)
    assert specs["detector.kind"].choices == tuple([DEFAULT_KIND] + sorted(set(DETECTORS) - {DEFAULT_KIND}))


def test_every_parameter_is_described_by_its_field_metadata():
    detectors = (NanoDetParams, DetectorParams)
    others = ((NodeParams, ""), *((c, p) for p, c in GROUPS), (BodyTopicsParams, "body_topics."))
    for cls, prefix in (*others, *((c, "detector.") for c in detectors)):
        for f in dataclasses.fields(cls):
            spec = PARAM_BY_NAME[prefix + f.name]
            if cls not in detectors or cls is detector_params_class(DEFAULT_KIND):
                assert spec.description == f.metadata["description"] and len(spec.description) > 10, f.name
            assert spec.choices == tuple(f.metadata.get("choices", ())), f.name
            if f.type in ("int", "float") and "range" in f.metadata:
                assert (spec.low, spec.high) == tuple(f.metadata["range"]), f.name
    for cls in detectors:
        numeric = [f for f in dataclasses.fields(cls) if f.type in ("int", "float")]
        assert all("range" in f.metadata for f in numeric)  # the dataclass checks every number against it
    names = {f.name for cls in detectors for f in dataclasses.fields(cls)}
    assert len(PARAMS) == sum(len(dataclasses.fields(c)) for c, _ in others) + 1 + len(names)  # + detector.kind


def test_fields_shared_by_two_kinds_have_one_type():
    a = {f.name: f.type for f in dataclasses.fields(NanoDetParams)}
    b = {f.name: f.type for f in dataclasses.fields(DetectorParams)}
    assert {n: a[n] for n in a.keys() & b.keys()} == {n: b[n] for n in a.keys() & b.keys()}


def test_a_field_without_description_is_refused():
    @dataclasses.dataclass
    class Bad:
        x: int = dataclasses.field(default=1, metadata={"range": (0, 2)})

    with pytest.raises(ValueError, match="Bad.x: no description"):
        specs_from_dataclass(Bad)


def test_values_outside_choices_or_ranges_are_described():
    assert check_values({"body_height_m": 1.8, "unknown": 3}) == ""
    assert "expected a value in [0.5, 2.5]" in check_values({"body_height_m": 3.0})
    assert "expected one of reliable, best_effort" in check_values({"reliability": "sometimes"})


def test_the_schema_and_the_replay_import_without_rclpy():
    """The reason the schema has its own module: the replay reads the node's parameters without ROS."""
    import subprocess
    import sys

    code = ("import sys; import hpe3d_ros.node.params, hpe3d_ros.replay.node_params, hpe3d_ros.node.outputs; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rclpy', 'rcl_interfaces')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]"


def test_lift_node_is_a_plain_module_level_class():
    import ast
    from pathlib import Path

    import hpe3d_ros.node.lift_node as lift_node

    tree = ast.parse(Path(lift_node.__file__).read_text())
    assert "LiftNode" in [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert lift_node.LiftNode.__module__ == "hpe3d_ros.node.lift_node"


def test_scene_parameters_map_onto_the_pipeline_and_are_checked_together():
    from hpe3d_ros.node.params import check_combination, scene_params

    values = {p.name: p.default for p in PARAMS}
    pp = check_params(pipeline_params(values))
    assert SceneParams.from_flat(pp["scene"]) == SceneParams()
    assert set(scene_params(values)) == set(SceneParams().to_flat())
    assert check_combination(values) == ""
    # a base frame needs the camera's pose in it; a known height needs the camera above the ground
    assert "base_frame" in check_combination({**values, "base_frame": "base_link"})
    assert check_combination({**values, "base_frame": "base_link", "camera_mount.mode": "full"}) == ""
    assert "above the ground" in check_combination({**values, "camera_mount.mode": "height", "camera_mount.z": 0.0})
    with pytest.raises(ValueError, match="scene"):
        check_params({"scene": {"camera_mount.mode": "height", "camera_mount.z": -1.0}})


def test_unknown_names_are_described_with_the_nearest_known_ones():
    from hpe3d_ros.node.params import unknown_names

    assert unknown_names(["body_height_m", "detector.max_people"]) == ""
    text = unknown_names(["body_heigth_m", "zzz"])
    assert "unknown parameters 'body_heigth_m' (did you mean 'body_height_m'?), 'zzz'" in text
