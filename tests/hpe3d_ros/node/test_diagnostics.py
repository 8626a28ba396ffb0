"""The one diagnostics builder: the node's full key set, the replay's subset, and the status rules."""
from __future__ import annotations

from hpe3d_ros.node.diagnostics import diagnostics_message, diagnostics_status, diagnostics_values
from hpe3d_ros.node.stats import QUEUE_STAGES, STAGES, Stats


def test_node_values_hold_every_counter_stage_and_extra():
    s = Stats(10)
    s.count("received", 3)
    s.count("processed", 2)
    s.reason("bad_encoding")
    snap = s.snapshot()
    snap["latency"]["detect"] += [0.010, 0.020]
    kv = dict(diagnostics_values("onnxruntime (cpu)", "m.onnx", {"input": 30.0, "output": 29.5}, snap["counts"],
                                 snap["latency"], QUEUE_STAGES + STAGES, [0.05], [2], False, snap["reasons"]))
    assert kv["backend"] == "onnxruntime (cpu)" and kv["input_rate_hz"] == "30.00" and kv["output_rate_hz"] == "29.50"
    assert kv["frames_received"] == "3" and kv["frames_processed"] == "2" and kv["callback_errors"] == "0"
    assert kv["latency_detect_p50_ms"] == "15.00" and kv["latency_wait_p99_ms"] == "nan"
    assert kv["frame_age_max_ms"] == "50.00" and kv["people_last"] == "2" and kv["intrinsics"] == "CameraInfo"
    assert kv["skipped[bad_encoding]"] == "1"


def test_replay_values_are_the_subset_it_has():
    counts = {
        "received": 5,
        "processed": 5,
        "dropped": 0,
        "decode_errors": 0,
        "processing_errors": 0,
        "intrinsics_fallback": 5,
    }
    keys = [k for k, _ in diagnostics_values("b", "m", {}, counts, {}, STAGES)]
    assert keys[:9] == [
        "backend",
        "model",
        "input_rate_hz",
        "output_rate_hz",
        "frames_received",
        "frames_processed",
        "frames_dropped",
        "decode_errors",
        "processing_errors",
    ]
    assert len(keys) == 9 + 3 * len(STAGES) and "intrinsics" not in keys and "frame_age_max_ms" not in keys


def test_status_rules_and_message():
    assert diagnostics_status({"received": 0}) == ("WARN", "no images received yet")
    assert diagnostics_status({"received": 2}, True)[0] == "WARN"
    assert diagnostics_status({"received": 2, "decode_errors": 1}) == (
        "WARN",
        "some frames were skipped (see the counts)",
    )
    assert diagnostics_status({"received": 2}, False) == ("OK", "running")
    msg = diagnostics_message(1_500_000_000, "lift_node: 3D human pose lifting", "/image", [("a", "1")], ("WARN", "x"))
    st = msg.status[0]
    assert msg.header.stamp.sec == 1 and msg.header.stamp.nanosec == 500_000_000
    assert st.name == "lift_node: 3D human pose lifting" and st.hardware_id == "/image" and st.message == "x"
    assert st.level == b"\x01" and [(v.key, v.value) for v in st.values] == [("a", "1")]


def test_the_fallback_reason_is_in_the_status_and_the_values():
    from hpe3d_ros.node.diagnostics import diagnostics_status, diagnostics_values

    why = "CameraInfo K refused: focal lengths fx = 5e-324, fy = 5e-324 give a 180 x 180 degree field of view"
    level, message = diagnostics_status({"received": 3}, True, why)
    assert level == "WARN" and message.startswith(why) and "field-of-view fallback" in message
    kv = dict(diagnostics_values("b", "m", {}, {"received": 3, "stamps_implausible": 2,
                                             "people_dropped_nonfinite": 1}, {}, (), intrinsics_fallback=True,
                                 intrinsics_problem=why))
    assert kv["intrinsics"] == "fallback field of view" and kv["intrinsics_fallback_reason"] == why
    assert kv["stamps_implausible"] == "2" and kv["people_dropped_nonfinite"] == "1"
