"""NanoDet person boxes with the shipped ONNX model (real ONNX Runtime), the scan schedule, and where the
detector models come from."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from hpe3d_ros.detection.models import LANDMARK_MODELS, landmark_model_path, models_dir, nanodet_path
from hpe3d_ros.detection.person_boxes import NanoDet, PersonBox, input_shape, scan_schedule, tile_grid

from .test_pose_detector import _rgb


@pytest.fixture(scope="module")
def street_frame(fixtures_dir) -> np.ndarray:
    return _rgb(fixtures_dir / "media" / "street-demo-frame0.png")


@pytest.fixture(scope="module")
def net() -> NanoDet:
    return NanoDet(nanodet_path(), input_size=416, min_score=0.35)


def test_the_models_ship_in_the_package_with_their_notice():
    d = models_dir()
    assert (d / "nanodet_m_416.onnx").stat().st_size > 5_000_000  # float16-stored weights: 7.6 MB
    notice = (d / "NOTICE.md").read_text()
    for name in ["nanodet_m_416.onnx"] + [f"pose_landmark_{m}.onnx" for m in LANDMARK_MODELS]:
        assert name in notice and (d / name).is_file()
    assert "Apache License 2.0" in notice and (d / "LICENSE-human-models.txt").is_file()
    assert all(landmark_model_path(m).parent == d.resolve() for m in LANDMARK_MODELS)
    assert set(LANDMARK_MODELS) == {"lite", "full", "heavy"}
    with pytest.raises(ValueError, match="giant"):
        landmark_model_path("giant")


def test_people_boxes_on_a_street_frame(net, street_frame):
    boxes = net.detect(street_frame)
    assert len(boxes) >= 5
    h, w = street_frame.shape[:2]
    for b in boxes:
        assert isinstance(b, PersonBox) and 0.35 <= b.score <= 1.0
        assert 0 <= b.box[0] < b.box[2] <= w and 0 <= b.box[1] < b.box[3] <= h
    assert [b.score for b in boxes] == sorted((b.score for b in boxes), reverse=True)
    woman = [b for b in boxes if b.box[0] > 740 and b.height > 300]
    assert len(woman) == 1  # the woman in white on the right, 360 px tall


def test_any_input_size_and_a_scaled_frame_give_the_same_people(net, street_frame):
    assert input_shape(640, 480, 416) == (416, 320, 0.65)
    big = max(net.detect(street_frame), key=lambda b: b.height).box
    half = cv2.resize(street_frame, (480, 270), interpolation=cv2.INTER_AREA)
    big_half = max(net.detect(half), key=lambda b: b.height).box
    np.testing.assert_allclose(big_half * 2, big, atol=12)  # the same box at half the resolution
    net640 = NanoDet(nanodet_path(), input_size=640, min_score=0.35)
    x, _ = net640.preprocess(street_frame)
    assert x.shape == (1, 3, 384, 640)  # 960x540 -> 640x360, padded to multiples of 32
    assert max(b.height for b in net640.detect(street_frame)) > 300
    with pytest.raises(ValueError, match="multiple of 32"):
        NanoDet(nanodet_path(), input_size=400)


def test_scan_schedule_alternates_the_whole_frame_with_tiles():
    assert scan_schedule(640, 480, "auto", 416) == [(0, 0, 640, 480)]  # small frames: whole only
    s = scan_schedule(1920, 1080, "auto", 416)
    assert len(s) == 12 and s[0::2] == [(0, 0, 1920, 1080)] * 6
    covered = np.zeros((1080, 1920), bool)
    for x0, y0, x1, y1 in s[1::2]:
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    assert len(scan_schedule(640, 480, "2x2", 416)) == 8 and scan_schedule(1920, 1080, "off", 416) == [s[0]]
    tiles = tile_grid(1000, 600, 3, 2)
    assert tiles[0][:2] == (0, 0) and tiles[-1][2:] == (1000, 600)
