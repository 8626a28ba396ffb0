"""camera_info YAML reading and the field-of-view fallback."""
from __future__ import annotations

import numpy as np
import pytest

from hpe3d_ros import calibration

GOOD = """image_width: 640
image_height: 480
camera_name: cam
camera_matrix: {rows: 3, cols: 3, data: [500.0, 0.0, 320.0, 0.0, 502.0, 240.0, 0.0, 0.0, 1.0]}
distortion_model: plumb_bob
distortion_coefficients: {rows: 1, cols: 5, data: [0.1, 0.0, 0.0, 0.0, 0.0]}
"""


def test_reads_camera_info_yaml(tmp_path):
    p = tmp_path / "cam.yaml"
    p.write_text(GOOD)
    cal = calibration.load_camera_info_yaml(p)
    assert cal["K"][1, 1] == 502.0 and (cal["width"], cal["height"]) == (640, 480)
    np.testing.assert_allclose(calibration.intrinsics_for(640, 480, calibration=p), cal["K"])
    with pytest.raises(calibration.CalibrationError, match="1280x720"):
        calibration.intrinsics_for(1280, 720, calibration=p)


@pytest.mark.parametrize(
    "text, message",
    [
        ("- a\n- b\n", "mapping"),
        ("image_width: 640\nimage_height: 480\n", "camera_matrix"),
        (GOOD.replace("500.0", "0.0").replace("502.0", "0.0"), "not a usable"),
        (GOOD.replace("1.0]}", "1.0, 2.0]}"), "9 values"),
        ("{: bad", "not valid YAML"),
    ],
)
def test_bad_calibration_files(tmp_path, text, message):
    p = tmp_path / "cam.yaml"
    p.write_text(text)
    with pytest.raises(calibration.CalibrationError, match=message):
        calibration.load_camera_info_yaml(p)


def test_fov_fallback_and_nothing_given():
    k = calibration.intrinsics_for(640, 480, hfov_deg=90.0)
    assert k[0, 0] == pytest.approx(320.0, rel=1e-2)
    with pytest.raises(calibration.CalibrationError, match="no intrinsics"):
        calibration.intrinsics_for(640, 480)
