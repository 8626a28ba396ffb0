"""Where the detector models are: they ship inside the package (hpe3d_ros/data/detectors/, made by
tools/convert_detectors/convert.sh; provenance and licences in NOTICE.md there): NanoDet-m and the
BlazePose GHUM landmark models lite, full and heavy, all ONNX. Nothing is downloaded at run time.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths

LANDMARK_MODELS = ("lite", "full", "heavy")  # MediaPipe's model_complexity 0, 1, 2
LANDMARK_FILES = {m: f"pose_landmark_{m}.onnx" for m in LANDMARK_MODELS}
NANODET_FILE = "nanodet_m_416.onnx"


def models_dir() -> Path:
    """The packaged detector models (hpe3d_ros/data/detectors)."""
    return paths.package_data_dir() / "detectors"


def landmark_model_path(model: str) -> Path:
    """The packaged BlazePose ``model`` ("lite", "full", "heavy"); FileNotFoundError naming the path."""
    if model not in LANDMARK_FILES:
        raise ValueError(f"landmark model must be one of {LANDMARK_MODELS}, got {model!r}")
    p = models_dir() / LANDMARK_FILES[model]
    if not p.is_file():
        raise FileNotFoundError(f"BlazePose {model} landmark model {p} does not exist; reinstall hpe3d_ros "
                                "(the models ship in hpe3d_ros/data/detectors)")
    return p.resolve()


def nanodet_path(model_file_path: str = "") -> Path:
    """The NanoDet model: ``model_file_path`` when given (absolute, or relative to the working
    directory), else the packaged one."""
    p = Path(model_file_path).expanduser() if model_file_path else models_dir() / NANODET_FILE
    if not p.is_file():
        raise FileNotFoundError(f"person detector model {p} does not exist")
    return p.resolve()
