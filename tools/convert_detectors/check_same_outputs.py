"""Two conversions of NanoDet give the same model: equal weights (as a multiset), equal operator counts, and
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

from hpe3d_ros.detection.person_boxes import NanoDet  # noqa: E402
from hpe3d_ros.video import read_frames  # noqa: E402

NAME = "nanodet_m_416.onnx"


def main(a: Path, b: Path) -> int:
    ga, gb = onnx.load(str(a / NAME)).graph, onnx.load(str(b / NAME)).graph
    same_w = sorted(numpy_helper.to_array(t).tobytes() for t in ga.initializer) == sorted(
        numpy_helper.to_array(t).tobytes() for t in gb.initializer)
    same_ops = Counter(n.op_type for n in ga.node) == Counter(n.op_type for n in gb.node)
    na, nb = NanoDet(a / NAME), NanoDet(b / NAME)
    diff = 0.0
    for _, rgb in read_frames(REPO / "tests" / "fixtures" / "media" / "street-demo.mp4"):
        x, _ = na.preprocess(rgb)
        ra = na.sess.run(None, {na.input_name: x})
        rb = dict(zip(nb.out_names, nb.sess.run(None, {nb.input_name: x})))
        diff = max(diff, max(float(np.abs(v - rb[k]).max()) for k, v in zip(na.out_names, ra)))
    same = same_w and same_ops and diff <= 1e-5
    print(f"{NAME}: weights equal {same_w}, operators equal {same_ops}, max output difference {diff:.2e}: "
          f"{'SAME' if same else 'DIFFERENT'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
