"""The node's pure helpers: parameter mapping, throttling, rates and percentiles."""
from __future__ import annotations

import math

from hpe3d_ros.detection.params import DetectorParams
from hpe3d_ros.node.lift_node import PARAMS, Throttle, detector_params, percentiles_ms, pipeline_params, rate_hz
from hpe3d_ros.pipeline import check_params


def test_node_parameters_map_onto_a_valid_pipeline_and_detector():
    values = {p.name: p.default for p in PARAMS}
    pp = check_params(pipeline_params(values))
    assert pp["detector"] == DetectorParams().to_dict()
    assert pp["body_height_m"] == values["body_height_m"] and pp["lift"] is True
    DetectorParams.from_dict(detector_params(values))  # every detector.* parameter is a DetectorParams field
    specs = {p.name: p for p in PARAMS}
    assert all(specs[f"detector.{k}"].read_only for k in DetectorParams().to_dict())


def test_throttle_shows_one_message_per_period_and_counts_the_rest():
    t = Throttle(3600.0)
    assert t("a") == (True, 0)
    assert t("a") == (False, 0) and t("a") == (False, 0)
    assert t("b") == (True, 0)  # kinds are throttled separately
    t.period = 0.0
    assert t("a") == (True, 2)
    for i in range(1000):  # free-text keys (e.g. encodings) cannot grow it without bound
        t(f"encoding:{i}")
    assert len(t.last) <= Throttle.MAX_KEYS + 1


def test_rates_and_percentiles():
    times = [10.0 + i / 30 for i in range(91)]
    assert abs(rate_hz(times, now=13.0, span=5.0) - 30.0) < 1e-6
    assert rate_hz(times, now=100.0) == 0.0
    p50, p95, p99 = percentiles_ms([0.001 * i for i in range(1, 101)])
    assert abs(p50 - 50.5) < 1e-9 and p95 < p99 <= 100.0
    assert all(math.isnan(v) for v in percentiles_ms([]))
