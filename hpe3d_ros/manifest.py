"""Model manifests: the JSON file beside every ONNX model in engines/.

The runtime refuses a model whose manifest disagrees with its own joint layout or normalisation,
and a manifest that is not bound to its model. The binding works both ways, so that editing either
file alone is refused:
- the manifest's ``model_sha256`` is the SHA-256 of the model file (required);
- the model's ONNX ``metadata_props`` hold ``MANIFEST_DIGEST_KEY``: the SHA-256 of the manifest's
  canonical JSON without ``model_sha256`` (``manifest_digest``).
``write_bound_manifest`` writes both (training's export and ``hpe3d export --bind`` call it).
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from . import normalization, skeleton

MANIFEST_VERSION = 1
#: The ONNX metadata_props key holding the manifest's digest.
MANIFEST_DIGEST_KEY = "hpe3d_ros.manifest_sha256"
_SHA256 = re.compile(r"[0-9a-f]{64}")


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


def manifest_digest(manifest: dict) -> str:
    """SHA-256 (hex) of the manifest's canonical JSON (sorted keys, no spaces) without ``model_sha256``."""
    body = {k: v for k, v in manifest.items() if k != "model_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=float, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _onnx_model(model_path: str | Path):
    """The ONNX ModelProto of ``model_path`` (without external data); ManifestError when it is not ONNX."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(model_path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as e:
        raise ManifestError(f"{model_path}: not an ONNX model ({type(e).__name__}: {e})") from e
    if not model.graph.node and not model.graph.output:
        raise ManifestError(f"{model_path}: not an ONNX model (no graph)")
    return model


def _external_tensors(graph) -> list[str]:
    """Names of the tensors of ``graph`` (and its subgraphs) whose data lies in external files."""
    from onnx import AttributeProto, TensorProto

    found = [t.name for t in graph.initializer if t.data_location == TensorProto.EXTERNAL]
    for node in graph.node:
        for a in node.attribute:
            tensors = [a.t] if a.type == AttributeProto.TENSOR else list(a.tensors)
            found += [t.name or node.name for t in tensors if t.data_location == TensorProto.EXTERNAL]
            for g in ([a.g] if a.type == AttributeProto.GRAPH else list(a.graphs)):
                found += _external_tensors(g)
    return found


def model_manifest_digest(model_path: str | Path) -> str:
    """The manifest digest recorded in an ONNX model's metadata ('' when it has none)."""
    model = _onnx_model(model_path)
    return next((p.value for p in model.metadata_props if p.key == MANIFEST_DIGEST_KEY), "")


def check_binding(model_path: str | Path, manifest: dict, where: str = "manifest") -> None:
    """Refuse a manifest not bound to ``model_path``: ``model_sha256`` missing or not the file's hash,
    or (ONNX, whatever the file's extension) the model's recorded manifest digest missing or different."""
    recorded = str(manifest.get("model_sha256") or "")
    if not recorded:
        raise ManifestError(
            f"{where}: no 'model_sha256': the manifest is not bound to its model "
            "(export with `hpe3d export`, or bind an ONNX model and its edited manifest with "
            "`hpe3d export --bind MODEL`)"
        )
    if not _SHA256.fullmatch(recorded):
        raise ManifestError(f"{where}: 'model_sha256' is not a SHA-256 hex digest: {recorded[:80]!r}")
    actual = file_sha256(model_path)
    if actual != recorded:
        raise ManifestError(f"{model_path}: sha256 {actual[:12]}... does not match its manifest ({recorded[:12]}...)")
    model = _onnx_model(model_path)
    external = _external_tensors(model.graph)
    if external:
        raise ManifestError(
            f"{model_path}: tensors {external[:5]} keep their data in external files, which the manifest's hash "
            "does not cover; save the model with its data inside"
        )
    digest = next((p.value for p in model.metadata_props if p.key == MANIFEST_DIGEST_KEY), "")
    if not digest:
        raise ManifestError(
            f"{model_path}: the model carries no manifest digest ({MANIFEST_DIGEST_KEY!r} in its metadata): it is not "
            "bound to a manifest; bind it with `hpe3d export --bind MODEL`"
        )
    if digest != manifest_digest(manifest):
        raise ManifestError(
            f"{where}: the manifest was changed after it was bound to {Path(model_path).name} (its digest "
            f"{manifest_digest(manifest)[:12]}... differs from the one in the model, {digest[:12]}...); "
            "restore it, or bind the edited manifest on purpose with `hpe3d export --bind MODEL`"
        )


def load_manifest(model_path: str | Path) -> dict:
    """Read and validate the manifest of ``model_path`` and its binding to the model
    (``check_binding``); raise ManifestError naming the problem."""
    path = manifest_path(model_path)
    if not path.is_file():
        raise ManifestError(f"{model_path}: no manifest at {path}")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path}: expected a JSON object, got {type(manifest).__name__}")
    validate_manifest(manifest, str(path))
    check_binding(model_path, manifest, str(path))
    return manifest


def write_bound_manifest(model_path: str | Path, manifest: dict) -> dict:
    """Bind ``manifest`` and the ONNX model at ``model_path`` and write both (atomically): the
    manifest's digest goes into the model's metadata_props (weights and graph unchanged), then the
    model's sha256 into the manifest, written beside it. Returns the manifest as written. It binds
    what it is given: validate first (``validate_manifest``) where that matters."""
    import onnx

    from .atomic import atomic_path, atomic_write_text

    body = json.loads(json.dumps({k: v for k, v in manifest.items() if k != "model_sha256"}, default=float))
    model = _onnx_model(model_path)
    external = _external_tensors(model.graph)
    if external:
        raise ManifestError(f"{model_path}: tensors {external[:5]} keep their data in external files; cannot bind")
    props = [(p.key, p.value) for p in model.metadata_props if p.key != MANIFEST_DIGEST_KEY]
    del model.metadata_props[:]
    for key, value in props + [(MANIFEST_DIGEST_KEY, manifest_digest(body))]:
        model.metadata_props.add(key=key, value=value)
    with atomic_path(model_path, suffix=".tmp.onnx") as tmp:
        onnx.save(model, str(tmp))
    sha = file_sha256(model_path)
    keys = list(manifest) if "model_sha256" in manifest else list(body) + ["model_sha256"]
    written = {k: sha if k == "model_sha256" else body[k] for k in keys}
    atomic_write_text(manifest_path(model_path), json.dumps(written, indent=2) + "\n")
    return written


def validate_manifest(manifest: dict, where: str = "manifest") -> None:
    """Check that a manifest matches this runtime's layout and normalisation; a ManifestError naming the
    problem otherwise (also for fields of the wrong JSON type)."""
    try:
        _validate(manifest, where)
    except ManifestError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError) as e:
        raise ManifestError(f"{where}: malformed manifest ({type(e).__name__}: {e})") from e


def _validate(manifest: dict, where: str) -> None:
    if not isinstance(manifest, dict):
        raise ManifestError(f"{where}: expected a JSON object, got {type(manifest).__name__}")
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
    for key in ("inputs", "outputs"):
        if not isinstance(manifest[key], list) or not all(isinstance(x, (dict, str)) for x in manifest[key]):
            raise ManifestError(f"{where}: {key!r} must be a list of names or objects with a 'name'")
    names = {o["name"] if isinstance(o, dict) else o for o in manifest["outputs"]}
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
