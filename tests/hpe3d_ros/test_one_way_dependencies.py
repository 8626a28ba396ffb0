"""Dependencies point one way: the runtime package hpe3d_ros never imports the offline training package
(a robot install carries no training code). Checked on the parsed sources and by importing every module."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import hpe3d_ros

PACKAGE = Path(hpe3d_ros.__file__).resolve().parent
FORBIDDEN = "training"


def _imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement and literal import_module/__import__ call."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out += [(node.lineno, name)] + [(node.lineno, f"{name}.{a.name}") for a in node.names if not node.module]
        elif isinstance(node, ast.Call):
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if fname in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                out.append((node.lineno, str(node.args[0].value)))
    return out


def test_no_module_of_hpe3d_ros_imports_training():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        if rel.name == "__init__":
            module += ".__init__"  # relative imports in a package's __init__ resolve against the package
        for line, name in _imports(ast.parse(path.read_text(), str(path)), module):
            if name == FORBIDDEN or name.startswith(FORBIDDEN + "."):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {name}")
    assert offenders == []


def test_the_checker_sees_every_form_of_import():
    src = ("import training\nimport training.trainer as t\nfrom training import metrics\n"
           "def f():\n    from training.data import mocap\n    importlib.import_module('training.cli_train')\n")
    names = [n for _, n in _imports(ast.parse(src), "hpe3d_ros.replay.report")]
    assert names == ["training", "training.trainer", "training", "training.data", "training.cli_train"]
    rel = [
        n
        for _, n in _imports(ast.parse("from ..runtime import base\nfrom . import camera\n"), "hpe3d_ros.replay.report")
    ]
    assert rel == ["hpe3d_ros.runtime", "hpe3d_ros.replay", "hpe3d_ros.replay.camera"]


def test_importing_every_runtime_module_loads_no_training_code():
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import hpe3d_ros\n"
        "names = [m.name for m in pkgutil.walk_packages(hpe3d_ros.__path__, 'hpe3d_ros.')]\n"
        "for n in names: importlib.import_module(n)\n"
        "loaded = sorted(m for m in sys.modules if m == 'training' or m.startswith('training.'))\n"
        "print(json.dumps({'modules': names, 'training': loaded}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=PACKAGE.parent)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert len(out["modules"]) > 30 and "hpe3d_ros.node.lift_node" in out["modules"]
    assert out["training"] == []
