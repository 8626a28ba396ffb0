"""Two conversions give the same models: per file equal weights (as a multiset), equal operator counts, and
ONNX Runtime outputs within 1e-5 on real frames (tf2onnx's node names and order vary between runs, so the
files' hashes differ). Runs in the product venv.

    .venv/bin/python tools/convert_detectors/check_same_outputs.py hpe3d_ros/data/detectors /tmp/reconverted
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from hpe3d_ros.detection.blazepose import crop  # noqa: E402
from hpe3d_ros.detection.landmarker import Roi  # noqa: E402
from hpe3d_ros.detection.models import LANDMARK_FILES, NANODET_FILE  # noqa: E402
from hpe3d_ros.detection.person_boxes import NanoDet, ort_session  # noqa: E402
from hpe3d_ros.video import read_frames  # noqa: E402


def inputs(name: str, frames: list[np.ndarray]) -> list[np.ndarray]:
    """Real network inputs of a model: NanoDet's pre-processed frames, or BlazePose crops of a person."""
    if name == NANODET_FILE:
        net = NanoDet(REPO / "hpe3d_ros" / "data" / "detectors" / NANODET_FILE)
        return [net.preprocess(f)[0] for f in frames]
    return [np.stack([crop(f, Roi(np.array([835.0, 360.0]), 520.0, 0.0)) for f in frames])]


def same(a: Path, b: Path, frames: list[np.ndarray]) -> bool:
    """Compare one model file of two conversions; prints the verdict."""
    ga, gb = onnx.load(str(a)).graph, onnx.load(str(b)).graph
    weights = sorted(numpy_helper.to_array(t).tobytes() for t in ga.initializer) == sorted(
        numpy_helper.to_array(t).tobytes() for t in gb.initializer)
    ops = Counter(n.op_type for n in ga.node) == Counter(n.op_type for n in gb.node)
    sa, sb = ort_session(a), ort_session(b)
    name_in = sa.get_inputs()[0].name
    diff = 0.0
    for x in inputs(a.name, frames):
        ra = dict(zip([o.name for o in sa.get_outputs()], sa.run(None, {name_in: x})))
        rb = dict(zip([o.name for o in sb.get_outputs()], sb.run(None, {name_in: x})))
        diff = max(diff, max(float(np.abs(v - rb[k]).max()) for k, v in ra.items()))
    ok = weights and ops and diff <= 1e-5
    print(f"{a.name}: weights equal {weights}, operators equal {ops}, max output difference {diff:.2e}: "
          f"{'SAME' if ok else 'DIFFERENT'}")
    return ok


def main(a: Path, b: Path) -> int:
    frames = [rgb for _, rgb in read_frames(REPO / "tests" / "fixtures" / "media" / "street-demo.mp4")]
    results = [same(a / n, b / n, frames) for n in [NANODET_FILE, *LANDMARK_FILES.values()]]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
