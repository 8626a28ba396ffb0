"""strict_json.json_safe: what json.dumps(allow_nan=False) accepts, from numpy results with NaN."""
from __future__ import annotations

import json

import numpy as np

from hpe3d_ros.strict_json import json_safe


def test_non_finite_and_numpy_values_become_strict_json():
    obj = {1: np.float32(1.5), "nan": float("nan"), "inf": np.float64(np.inf), "arr": np.array([[1, 2], [3, 4]]),
           "mixed": (np.int64(7), np.bool_(True), None, "s", [np.nan, -np.inf, 0.25])}
    out = json_safe(obj)
    assert out == {"1": 1.5, "nan": None, "inf": None, "arr": [[1, 2], [3, 4]],
                   "mixed": [7, True, None, "s", [None, None, 0.25]]}
    assert type(out["mixed"][0]) is int and type(out["mixed"][1]) is bool and type(out["1"]) is float
    json.dumps(out, allow_nan=False)  # would raise on NaN or a numpy type
