"""Model manifests: the JSON file beside every ONNX model in engines/.

The runtime refuses a model whose manifest disagrees with its own joint layout or normalisation.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import normalization, skeleton

MANIFEST_VERSION = 1


class ManifestError(ValueError):
    """A model manifest is missing, malformed or disagrees with this runtime."""


def manifest_path(model_path: str | Path) -> Path:
    """``engines/foo.onnx`` -> ``engines/foo.json``."""
    return Path(model_path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_manifest(model_path: str | Path, check_hash: bool = True) -> dict:
    """Read and validate the manifest of ``model_path``; raise ManifestError naming the problem."""
    path = manifest_path(model_path)
    if not path.is_file():
        raise ManifestError(f"{model_path}: no manifest at {path}")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path}: not valid JSON ({e})") from e
    validate_manifest(manifest, str(path))
    if check_hash and manifest.get("model_sha256") and Path(model_path).is_file():
        actual = file_sha256(model_path)
        if actual != manifest["model_sha256"]:
            raise ManifestError(
                f"{model_path}: sha256 {actual[:12]}... does not match its manifest "
                f"({manifest['model_sha256'][:12]}...)"
            )
    return manifest


def validate_manifest(manifest: dict, where: str = "manifest") -> None:
    """Check that a manifest matches this runtime's layout and normalisation."""
    for key in ("format_version", "layout", "normalization", "inputs", "outputs"):
        if key not in manifest:
            raise ManifestError(f"{where}: missing key {key!r}")
    if manifest["format_version"] != MANIFEST_VERSION:
        raise ManifestError(
            f"{where}: format_version {manifest['format_version']} but this runtime reads {MANIFEST_VERSION}"
        )
    ours = skeleton.layout_description()
    theirs = manifest["layout"]
    for key in ("id", "joints", "parents", "root", "head", "hash"):
        if theirs.get(key) != ours[key]:
            raise ManifestError(
                f"{where}: joint layout disagrees with this runtime on {key!r}: model has {theirs.get(key)!r}, "
                f"runtime has {ours[key]!r}"
            )
    norm = manifest["normalization"]
    if norm.get("kind") not in normalization.KINDS:
        raise ManifestError(f"{where}: unknown normalisation {norm.get('kind')!r}")
    if norm["kind"] == "elepose" and float(norm.get("depth_offset", -1)) != normalization.ELEPOSE_DEPTH_OFFSET:
        raise ManifestError(
            f"{where}: depth_offset {norm.get('depth_offset')} differs from the runtime's "
            f"{normalization.ELEPOSE_DEPTH_OFFSET}"
        )
    names = {o["name"] for o in manifest["outputs"]}
    if "depth" not in names:
        raise ManifestError(f"{where}: model has no 'depth' output (outputs: {sorted(names)})")


def build_manifest(
    *,
    name: str,
    normalization_kind: str,
    inputs: list,
    outputs: list,
    training: dict,
    metrics: dict | None = None,
    command: str = "",
    model_sha256: str = "",
    extra: dict | None = None,
) -> dict:
    """Assemble a manifest; ``training`` names data, license and whether use is non-commercial."""
    manifest = {
        "format_version": MANIFEST_VERSION,
        "name": name,
        "layout": skeleton.layout_description(),
        "normalization": normalization.normalization_description(normalization_kind),
        "inputs": inputs,
        "outputs": outputs,
        "training": training,
        "metrics": metrics or {},
        "command": command,
        "model_sha256": model_sha256,
    }
    if extra:
        manifest.update(extra)
    return manifest
