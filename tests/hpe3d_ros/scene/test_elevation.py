"""The running elevation estimate: time constant, outlier rejection, reset on a persistent jump."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hpe3d_ros.scene.elevation import RunningElevation

FPS = 30
NS = 1_000_000_000


def _run(f: RunningElevation, values, t0: float = 0.0) -> list[float]:
    return [f.update(v, int((t0 + i / FPS) * NS)) for i, v in enumerate(values)]


def test_noise_is_averaged_and_the_spread_is_reported():
    rng = np.random.default_rng(0)
    truth = math.radians(4.0)
    noisy = truth + math.radians(3.0) * rng.standard_normal(30 * FPS)
    f = RunningElevation(5.0, math.radians(8.0), 15)
    out = _run(f, noisy)
    tail = np.asarray(out[10 * FPS:])
    assert np.abs(tail - truth).max() < math.radians(1.5)  # a single frame is off by up to ~9 degrees
    assert np.std(tail) < 0.25 * math.radians(3.0)
    assert 0 < f.std < math.radians(1.0)


def test_the_time_constant_sets_how_fast_a_change_is_followed():
    f = RunningElevation(2.0, math.radians(30.0), 15)
    _run(f, [0.0] * (5 * FPS))
    step = math.radians(10.0)
    out = _run(f, [step] * (2 * FPS), t0=5.0)
    assert out[-1] / step == pytest.approx(1 - math.exp(-2.0 / 2.0), abs=0.05)  # one time constant: 63 %


def test_outliers_do_not_move_the_estimate_and_a_persistent_jump_resets_it():
    f = RunningElevation(5.0, math.radians(8.0), 15)
    _run(f, [math.radians(5.0)] * 60)
    spikes = [math.radians(5.0)] * 20
    spikes[3] = spikes[9] = math.radians(40.0)  # two single-frame outliers
    out = _run(f, spikes, t0=2.0)
    assert max(abs(v - math.radians(5.0)) for v in out) < 1e-9
    jumped = _run(f, [math.radians(30.0)] * 20, t0=3.0)  # the camera was moved
    assert jumped[13] == pytest.approx(math.radians(5.0))
    assert jumped[14] == pytest.approx(math.radians(30.0)) and f.resets == 1


def test_reset_a_stamp_going_back_and_time_constant_zero():
    f = RunningElevation(5.0, math.radians(8.0), 15)
    _run(f, [0.1] * 30, t0=10.0)
    assert f.update(0.12, int(1.0 * NS)) == pytest.approx(0.12)  # a bag replayed again: start afresh
    f.reset()
    assert f.value is None and f.std == math.inf
    raw = RunningElevation(0.0, math.radians(8.0), 15)
    assert _run(raw, [0.1, 0.5, -0.2]) == [0.1, 0.5, -0.2]
    with pytest.raises(ValueError):
        RunningElevation(-1.0, 0.1, 3)
