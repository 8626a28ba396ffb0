"""The status line's numbers are those of the frames since the previous line (the node's own Stats)."""
from __future__ import annotations

from hpe3d_ros.node.stats import Stats
from hpe3d_ros.node.status_log import StatusLog


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _frame(stats: Stats, people: int, total_s: float) -> None:
    stats.count("received")
    stats.count("processed")
    with stats.lock:
        stats.people.append(people)
        for stage, v in (("total", total_s), ("detect", total_s * 0.8), ("lift", 0.002)):
            stats.latency[stage].append(v)


def test_counts_people_and_latency_of_the_period_only():
    stats, clock = Stats(300), Clock()
    status = StatusLog("/camera/image_raw", "onnxruntime [CPUExecutionProvider]: auto: tensorrt not importable", clock)
    for i in range(20):  # a first period: slow frames with one person
        _frame(stats, 1, 0.5)
    clock.t += 10.0
    first = status.line(stats.snapshot())
    assert first.startswith("status: 20 frames in, 20 out, 0 dropped in the last 10.0 s (2.0 Hz in, 2.0 Hz out)")
    assert "latency p50 500 ms" in first and first.endswith("backend onnxruntime [CPUExecutionProvider]")
    for people in (2, 3, 4):  # the second period: three fast frames, one dropped, one decode error
        _frame(stats, people, 0.05)
    stats.count("received")
    stats.count("dropped")
    stats.count("decode_errors")
    clock.t += 2.0
    second = status.line(stats.snapshot())
    assert "4 frames in, 3 out, 1 dropped in the last 2.0 s (2.0 Hz in, 1.5 Hz out)" in second
    assert "people per frame 3.0 (max 4)" in second
    assert "latency p50 50 ms, p95 50 ms (detect 40 ms, lift 2.0 ms)" in second
    assert "1 frames skipped or bad messages" in second
    clock.t += 5.0
    assert status.line(stats.snapshot()) == (
        "status: no images in the last 5.0 s on /camera/image_raw (24 so far); backend onnxruntime "
        "[CPUExecutionProvider]"
    )


def test_emit_never_raises():
    logged = []

    class Logger:
        def info(self, _text):
            raise RuntimeError("logging backend gone")

        def warning(self, text):
            logged.append(text)

    StatusLog("/image", "x").emit(Logger(), {"counts": {}})  # a malformed snapshot as well
    assert logged and "status line failed" in logged[0]
