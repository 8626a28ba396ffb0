"""BlazePose with ONNX Runtime (blazepose.OnnxLandmarker) against MediaPipe's own graph on real images:
the same landmarks, auxiliary landmarks and world landmarks for upright and rotated regions, people cut
by the image border, and no person where MediaPipe finds none; several regions in one call."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros.detection.blazepose import OnnxLandmarker, crop
from hpe3d_ros.detection.landmarker import Roi, RoiLandmarker
from hpe3d_ros.detection.models import landmark_model_path

from .test_pose_detector import _rgb

# regions on street-demo-frame0.png (960x540): the woman in white (reaching past the right and bottom
# border), the three walkers in the middle (one rotated), a small person on the left, an empty pavement
ROIS = [
    Roi(np.array([835.0, 360.0]), 520.0, 0.0),
    Roi(np.array([835.0, 360.0]), 520.0, 0.3),
    Roi(np.array([630.0, 255.0]), 270.0, -0.2),
    Roi(np.array([520.0, 245.0]), 250.0, 0.0),
    Roi(np.array([145.0, 205.0]), 110.0, 0.0),
    Roi(np.array([300.0, 470.0]), 120.0, 0.0),
]


@pytest.fixture(scope="module")
def street_frame(fixtures_dir) -> np.ndarray:
    return _rgb(fixtures_dir / "media" / "street-demo-frame0.png")


def test_onnx_landmarks_reproduce_mediapipe(street_frame):
    ref = RoiLandmarker(0.5)
    ours = OnnxLandmarker(landmark_model_path("full"), 0.5)
    try:
        got = ours.process_many(street_frame, ROIS)  # one inference for all regions
        for roi, mine in zip(ROIS, got):
            theirs = ref.process(street_frame, roi)
            assert (mine is None) == (theirs is None), f"presence differs at {roi}"
            if theirs is None:
                continue
            tol = 0.05 if roi.rotation == 0 else 0.5  # px: rotated regions resample the image slightly differently
            np.testing.assert_allclose(mine.landmarks[:, :2], theirs.landmarks[:, :2], atol=tol)
            np.testing.assert_allclose(mine.landmarks[:, 3], theirs.landmarks[:, 3], atol=0.01)
            np.testing.assert_allclose(mine.auxiliary, theirs.auxiliary, atol=tol)
            np.testing.assert_allclose(mine.world, theirs.world, atol=0.002)  # metres
        assert got[-1] is None  # the empty pavement
        assert sum(r is not None for r in got) >= 4
    finally:
        ref.close()


def test_lite_and_heavy_find_the_same_person(street_frame):
    full = OnnxLandmarker(landmark_model_path("full")).process(street_frame, ROIS[0])
    for m in ("lite", "heavy"):
        other = OnnxLandmarker(landmark_model_path(m)).process(street_frame, ROIS[0])
        d = np.linalg.norm(other.landmarks[:, :2] - full.landmarks[:, :2], axis=1)
        assert 0.01 < np.median(d) < 25, f"{m} vs full: median joint difference {np.median(d):.2f} px"


def test_crop_is_the_region_upright():
    img = np.zeros((100, 200, 3), np.uint8)
    img[40:60, 90:110] = 255  # a white square at (100, 50)
    patch = crop(img, Roi(np.array([100.0, 50.0]), 40.0, 0.0))
    assert patch.shape == (256, 256, 3) and patch.dtype == np.float32
    assert patch[128, 128].min() == 1.0 and patch[5, 5].max() == 0.0  # centre white, corner black
    assert abs(patch[:, :, 0].mean() - 0.25) < 0.02  # the square fills the middle half of each side


def test_a_model_without_the_landmark_outputs_is_refused():
    with pytest.raises(ValueError, match="not a BlazePose landmark model"):
        OnnxLandmarker(landmark_model_path("full").with_name("nanodet_m_416.onnx"))
