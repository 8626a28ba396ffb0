"""The `hpe3d` command: one entry point, one module per subcommand.

Each subcommand module provides ``add_arguments(parser)`` and ``run(args) -> int``; modules are
imported only when their subcommand runs, so `hpe3d lift` never imports torch.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "train": ("training.cli_train", "train a lifter from a config file (config/train/<family>/*.yaml)"),
    "eval": ("training.cli_eval", "evaluate a model on the mocap test split or a fixture"),
    "export": ("training.cli_export", "export a checkpoint to ONNX with its manifest"),
    "collect": ("hpe3d_ros.cli_collect", "run the 2D detector over videos or bags and write 2D training data"),
    "lift": ("hpe3d_ros.cli_lift", "lift a file of 2D keypoints to 3D with a model"),
    "make-bag": ("training.cli_make_bag", "turn a video (or mocap clips with ground truth) into a ROS 2 bag"),
    "replay": (
        "hpe3d_ros.replay.replay",
        "run a recorded bag through the node's pipeline into an output bag and a report",
    ),
    "play": ("hpe3d_ros.replay.play", "publish a bag's messages into a running ROS 2 graph at the recorded rate"),
    "demo": (
        "hpe3d_ros.replay.demo",
        "the demo: bundled clip -> camera node -> lift_node -> recorder; bag, video, report",
    ),
    "ingest": ("training.cli_ingest", "parse the mocap BVH clips into the cached 3D joint arrays"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only ``command``'s module is imported to add its arguments."""
    parser = argparse.ArgumentParser(prog="hpe3d", description="hpe3d_ros: 3D human pose lifting tools")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if name == command:
            importlib.import_module(module).add_arguments(p)
    return parser


def _is_user_error(e: BaseException) -> bool:
    """Errors that describe bad input (printed as one line): value, key and OS errors, and the
    project's own error classes (bags, videos, backends)."""
    if isinstance(e, (ValueError, KeyError, OSError)):
        return True
    return type(e).__module__.split(".")[0] in ("hpe3d_ros", "training")


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; errors the user can fix are printed without a traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    mod = importlib.import_module(args._module)
    from .native_logs import quiet_native_logs

    try:
        with quiet_native_logs():  # MediaPipe's harmless native start-up lines (docs/detection.md)
            return int(mod.run(args) or 0)
    except Exception as e:
        if getattr(args, "debug", False) or not _is_user_error(e):
            raise
        print(f"hpe3d {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"hpe3d {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
