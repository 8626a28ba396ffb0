"""Convert the BlazePose GHUM landmark models (TFLite, from npm @mediapipe/pose) to ONNX for ONNX Runtime.

Runs in the conversion venv (convert.sh):

    .venv-convert/bin/python tools/convert_detectors/convert_landmarks.py --tflite-dir DIR \
        --out hpe3d_ros/data/detectors

Per model (lite, full, heavy):
1. ``python -m tf2onnx.convert --tflite pose_landmark_<m>.tflite --opset 17``;
2. the segmentation head is cut off (``onnx.utils.extract_model`` to the outputs hpe3d_ros reads: 195
   landmark values, the pose flag, the 64x64x39 heatmap, 117 world-landmark values). MediaPipe computes
   the 256x256 segmentation mask on every call even with segmentation off; it is more than half of the
   model's CPU time (lite 13.9 -> 5.8 ms, full 18.3 -> 9.8 ms measured here, docs/detection.md);
3. the batch dimension becomes symbolic (``N``), so the landmarks of several people run in one call;
4. weights stored as float16 where that is exact (they are float16 in the TFLite files; onnx_finish.py:
   half the file, identical outputs);
5. provenance in ``metadata_props``, ``onnx.checker``, and a sha256 line on stdout.
The outputs keep their TFLite names: ``Identity`` (1, 195), ``Identity_1`` (1, 1), ``Identity_3``
(1, 64, 64, 39), ``Identity_4`` (1, 117); hpe3d_ros/detection/blazepose.py decodes them.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from onnx_finish import finish

OPSET = 17
KEEP = ["Identity", "Identity_1", "Identity_3", "Identity_4"]  # not Identity_2, the segmentation mask
SOURCE = "@mediapipe/pose@0.5.1675469404"


def convert(tflite: Path, out: Path) -> None:
    """One landmark model: TFLite -> ONNX without the segmentation head, symbolic batch."""
    import onnx
    from onnx import utils

    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.onnx"
        cmd = [sys.executable, "-m", "tf2onnx.convert", "--tflite", str(tflite), "--output", str(full),
               "--opset", str(OPSET)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0 or not full.is_file():
            raise SystemExit(f"tf2onnx failed on {tflite}:\n{res.stderr[-4000:]}")
        names = [o.name for o in onnx.load(str(full)).graph.output]
        if not set(KEEP) <= set(names):
            raise SystemExit(f"{tflite}: outputs {names}, expected {KEEP} among them")
        input_name = onnx.load(str(full)).graph.input[0].name
        cut = Path(tmp) / "cut.onnx"
        utils.extract_model(str(full), str(cut), [input_name], KEEP)
        model = onnx.load(str(cut))
    for v in list(model.graph.input) + list(model.graph.output):
        v.type.tensor_type.shape.dim[0].Clear()
        v.type.tensor_type.shape.dim[0].dim_param = "N"
    del model.graph.value_info[:]  # shapes inside were inferred for batch 1
    finish(model, out, {
        "source_package": SOURCE,
        "source_file": f"package/{tflite.name}",
        "upstream": "MediaPipe BlazePose GHUM 3D landmark model, Google LLC",
        "licence": "Apache-2.0",
        "converter": f"tools/convert_detectors/convert_landmarks.py: tf2onnx (tflite), opset {OPSET}, "
        "segmentation head removed, batch symbolic",
    })


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tflite-dir", type=Path, required=True, help="holds pose_landmark_{lite,full,heavy}.tflite")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", nargs="+", default=["lite", "full", "heavy"], choices=["lite", "full", "heavy"])
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for m in args.model:
        convert(args.tflite_dir / f"pose_landmark_{m}.tflite", args.out / f"pose_landmark_{m}.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
