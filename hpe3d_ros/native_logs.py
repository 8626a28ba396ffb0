"""MediaPipe's native log lines on stderr: what they are, and a filter that hides the harmless ones.

MediaPipe 0.10.21 logs from its C++ threads through absl before any ``absl::InitializeLog``, so the
lines go straight to the process's stderr (file descriptor 2). No environment variable changes that
(GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL and others were tried: docs/detection.md), and the wheel
exports no function to set the level. Every process that starts MediaPipe's pose graphs prints:

- ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.``: TFLite runs the models on the CPU;
- ``WARNING: All log messages before absl::InitializeLog() is called are written to STDERR``: absl's
  note about the lines that follow;
- ``W0000 ... inference_feedback_manager.cc:114] Feedback manager requires a model with a single
  signature inference. Disabling support for feedback tensors.``: once per graph; a TFLite feature
  (feeding outputs back as inputs) that the BlazePose models do not use;
- ``W0000 ... landmark_projection_calculator.cc:186] Using NORM_RECT without IMAGE_DIMENSIONS is only
  supported for the square ROI. ...``: once; the pose regions of interest are square, so it holds.

``quiet_native_logs()`` hides exactly these lines (``HARMLESS``) by passing the process's stderr
through a pipe and a thread that forwards every other line unchanged; the ``hpe3d`` command uses it.
``HPE3D_NATIVE_LOGS=1`` turns it off. lift_node does not filter: it prints them once at start-up.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from typing import Iterator

HARMLESS = (
    re.compile(rb"^INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.$"),
    re.compile(rb"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(rb"^W0000 [\d:.]+ +\d+ (inference_feedback_manager\.cc|landmark_projection_calculator\.cc):\d+\] "),
)


def is_harmless(line: bytes) -> bool:
    """True for a known harmless native log line (without its newline)."""
    return any(p.match(line.rstrip(b"\r")) for p in HARMLESS)


def _pump(read_fd: int, out_fd: int) -> None:
    """Forward lines from ``read_fd`` to ``out_fd`` except the harmless ones, until end of file."""
    pending = b""
    try:
        while True:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            kept = b"".join(line + b"\n" for line in lines if not is_harmless(line))
            if kept:
                try:
                    os.write(out_fd, kept)
                except OSError:
                    pass  # keep draining the pipe: a writer must never block on it
        if pending and not is_harmless(pending):
            os.write(out_fd, pending)
    except OSError:
        pass
    finally:
        os.close(read_fd)
        os.close(out_fd)


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Inside the block, the process's stderr (fd 2, every thread and library) loses the ``HARMLESS``
    lines; everything else reaches the real stderr unchanged and in order. A no-op with
    ``HPE3D_NATIVE_LOGS=1`` or when stderr has no file descriptor."""
    if os.environ.get("HPE3D_NATIVE_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):
        yield
        return
    read_fd, write_fd = os.pipe()
    pump = threading.Thread(target=_pump, args=(read_fd, os.dup(saved)), name="native_log_filter", daemon=True)
    pump.start()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        os.dup2(saved, 2)  # the pipe's last writer is gone (unless a child process still holds it): the pump ends
        os.close(saved)
        pump.join(timeout=2.0)
