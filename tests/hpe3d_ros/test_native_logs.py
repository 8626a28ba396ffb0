"""The `hpe3d` command's filter of MediaPipe's harmless native log lines: those go, everything else stays."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hpe3d_ros.native_logs import is_harmless

REPO = Path(__file__).resolve().parents[2]
HARMLESS_LINES = [
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "W0000 00:00:1795989469.941527    7158 inference_feedback_manager.cc:114] Feedback manager requires a model with a "
    "single signature inference. Disabling support for feedback tensors.",
    "W0000 00:00:1795989471.514343    7157 landmark_projection_calculator.cc:186] Using NORM_RECT without "
    "IMAGE_DIMENSIONS is only supported for the square ROI. Provide IMAGE_DIMENSIONS or use PROJECTION_MATRIX.",
]
OTHER_LINES = [
    "W0000 00:00:1795989471.514343    7157 some_other_calculator.cc:12] something the user should see",
    "E0000 00:00:1795989471.514343    7157 inference_feedback_manager.cc:114] an error, not a warning",
    "hpe3d replay: error: something",
]


def test_only_the_known_lines_are_harmless():
    assert all(is_harmless(line.encode()) for line in HARMLESS_LINES)
    assert not any(is_harmless(line.encode()) for line in OTHER_LINES)


def _run(env_extra: dict) -> subprocess.CompletedProcess:
    """A child that writes to fd 2 from C-level writes in another thread and from Python, inside the filter."""
    script = textwrap.dedent(f"""
        import os, sys, threading
        from hpe3d_ros.native_logs import quiet_native_logs
        lines = {HARMLESS_LINES + OTHER_LINES!r}
        with quiet_native_logs():
            t = threading.Thread(target=lambda: [os.write(2, (l + "\\n").encode()) for l in lines])
            t.start(); t.join()
            print("from python", file=sys.stderr)
            os.write(2, b"no newline at the end")
        print("after the block", file=sys.stderr)
    """)
    env = {k: v for k, v in os.environ.items() if k != "HPE3D_NATIVE_LOGS"}
    env.update(env_extra, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)


def test_the_filter_drops_the_harmless_lines_and_keeps_the_rest_in_order():
    proc = _run({})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "\n".join(OTHER_LINES) + "\nfrom python\nno newline at the endafter the block\n"


def test_hpe3d_native_logs_1_shows_everything():
    proc = _run({"HPE3D_NATIVE_LOGS": "1"})
    assert proc.returncode == 0 and all(line in proc.stderr for line in HARMLESS_LINES + OTHER_LINES)
