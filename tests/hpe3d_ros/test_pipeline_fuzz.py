"""Fuzz: whatever 2D people and camera reach the lift stage, no non-finite joint, elevation or plausibility
comes out (people whose lift is not finite are dropped and counted), with the shipped default model and
with a model that returns NaN for some people. Regression of issue 13: a CameraInfo with focal length
5e-324 made every published skeleton NaN."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpe3d_ros import camera
from hpe3d_ros.pipeline import DEFAULT_MODEL, PosePipeline, resolve_model_path
from hpe3d_ros.replay.node_outputs import process_keypoints
from tests.fuzz import fuzz

COORD = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, 1e-300, -1e-300, 1e30, -1e30, 320.0]))


@pytest.fixture(scope="module")
def pipe():
    return PosePipeline({"model_file_path": str(resolve_model_path(DEFAULT_MODEL)), "backend": "onnxruntime"},
                        detector=object())


@pytest.fixture(scope="module")
def nan_pipe(tmp_path_factory):
    from tests.hpe3d_ros.runtime.tiny_lifters import nan_for_left_leaning_onnx

    model = nan_for_left_leaning_onnx(tmp_path_factory.mktemp("nan") / "nan.onnx")
    return PosePipeline({"model_file_path": str(model), "backend": "onnxruntime"}, detector=object())


def _check(res, n: int) -> None:
    assert len(res.people) + res.dropped_nonfinite == n
    for p in res.people:
        assert np.isfinite(p.joints_optical).all() and np.isfinite(p.joints_upright).all() and np.isfinite(p.elevation)
        assert p.plausibility is None or np.isfinite(p.plausibility)
        assert np.isfinite(p.confidence).all()


@fuzz(120)
@given(n=st.integers(1, 4), data=st.data(), fx=st.one_of(st.floats(1e-3, 1e5), st.sampled_from([5e-324, 1e308])),
       width=st.integers(1, 4096), height=st.integers(1, 4096))
def test_no_non_finite_person_leaves_the_lift_stage(pipe, nan_pipe, n, data, fx, width, height):
    kp = np.array(
        data.draw(st.lists(st.lists(st.tuples(COORD, COORD), min_size=16, max_size=16), min_size=n, max_size=n))
    )
    sc = np.array(data.draw(st.lists(st.lists(st.floats(0, 1), min_size=16, max_size=16), min_size=n, max_size=n)))
    k = camera.intrinsics_matrix(fx, fx, width / 2, height / 2)
    for p in (pipe, nan_pipe):
        try:
            res = process_keypoints(p, kp, sc, k, (width, height))
        except ValueError as e:  # the lifter refuses some inputs outright (e.g. a degenerate skeleton)
            assert "keypoints" in str(e) or "scores" in str(e), e
            continue
        _check(res, n)


def test_the_5e_324_focal_length_of_issue_13(pipe):
    body = np.column_stack([np.linspace(300, 340, 16), np.linspace(150, 330, 16)])
    res = process_keypoints(pipe, body[None], np.full((1, 16), 0.9), np.diag([5e-324, 5e-324, 1.0]), (640, 480))
    assert res.intrinsics_fallback and "field of view" in res.intrinsics_problem
    _check(res, 1)
    assert len(res.people) == 1 and 1.0 < res.people[0].joints_optical[0, 2] < 20.0
