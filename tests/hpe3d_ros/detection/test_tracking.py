"""BoxTracker: IoU, two-stage (ByteTrack) association, motion, duplicates (pure numpy)."""
from __future__ import annotations

import numpy as np

from hpe3d_ros.detection.tracking import BoxTrack, BoxTracker, box_iomin, box_iou, iou_for_offset, same_person


def test_box_iou_and_containment():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [2, 2, 4, 4]])
    np.testing.assert_allclose(box_iou(a, b)[0], [50 / 150, 0.0, 4 / 100])
    np.testing.assert_allclose(box_iomin(a, b)[0], [0.5, 0.0, 1.0])
    assert same_person(np.array([2, 2, 4, 4]), a) and not same_person(np.array([20, 20, 30, 30]), a)
    assert not same_person(a[0], [])


def test_iou_for_offset_is_the_iou_of_shifted_squares():
    for d in (0.0, 0.35, 1.0):
        shift = d * 50.0  # d x the radius (half the side of a 100 px square)
        expected = box_iou(np.array([0, 0, 100, 100]), np.array([shift, 0, 100 + shift, 100]))[0, 0]
        assert abs(iou_for_offset(d) - expected) < 1e-9


def _track(tid, box, frame=1):
    t = BoxTrack(tid, np.asarray(box, float))
    BoxTracker.observe(t, np.asarray(box, float), frame)
    return t


def test_two_stage_association_keeps_tracks_with_low_boxes_but_starts_people_only_from_high_ones():
    tr = BoxTracker(match_iou=0.3)
    a, b = _track(1, [0, 0, 50, 100]), _track(2, [200, 0, 250, 100])
    boxes = np.array([[2, 0, 52, 100], [201, 0, 251, 100], [400, 0, 450, 100], [600, 0, 650, 100]])
    scores = np.array([0.9, 0.25, 0.8, 0.25])
    pairs, new, low = tr.associate([a, b], boxes, scores, 1, high=0.35, low=0.2)
    assert sorted((t.track_id, d) for t, d in pairs) == [(1, 0), (2, 1)]  # the low box keeps track 2
    assert new == [2] and low == [3]  # the low box at 600 is no new person by itself


def test_a_box_overlapping_a_matched_track_starts_no_new_person():
    a = _track(1, [0, 0, 50, 100])
    boxes, scores = np.array([[0, 0, 50, 100], [5, 5, 45, 95], [20, 0, 70, 100]]), np.array([0.9, 0.8, 0.7])
    pairs, new, _ = BoxTracker(match_iou=0.3).associate([a], boxes, scores, 1, 0.35, 0.2)
    assert [(t.track_id, d) for t, d in pairs] == [(1, 0)] and new == []  # both others overlap track 1 (IoU >= 0.3)
    _, new, _ = BoxTracker(match_iou=0.3, new_iou=0.7).associate([a], boxes, scores, 1, 0.35, 0.2)
    assert new == [2]  # IoU 0.43 with track 1: someone beside them; box 1 (IoU 0.72) is track 1 again


def test_association_uses_the_box_on_the_frame_the_detector_saw_and_extrapolates_lost_tracks():
    tr = BoxTracker(match_iou=0.5)
    t = BoxTrack(1, np.zeros(4))
    for f in range(1, 11):  # walking right at 10 px per frame
        BoxTracker.observe(t, np.array([10.0 * f, 0, 10.0 * f + 40, 100]), f)
    np.testing.assert_allclose(t.velocity, [10, 0, 10, 0], atol=1e-6)
    old = np.array([[30.0, 0, 70, 100]])  # where it was on frame 3: an asynchronous pass's box
    pairs, _, _ = tr.associate([t], old, np.array([0.9]), 3, 0.35, 0.2)
    assert len(pairs) == 1
    assert tr.associate([t], old, np.array([0.9]), 10, 0.35, 0.2)[0] == []  # against frame 10's box: no match
    np.testing.assert_allclose(t.box_at(14), [140, 0, 180, 100])  # not seen on frame 14: moved on at 10 px/frame


def test_duplicates_drop_the_younger_track():
    old, young, other = _track(1, [0, 0, 50, 100]), _track(2, [2, 2, 50, 98]), _track(3, [300, 0, 350, 100])
    for f in range(2, 6):
        BoxTracker.observe(old, old.box, f)
    assert BoxTracker.duplicates([young, old, other]) == [young]


def test_ids_are_never_reused():
    tr = BoxTracker()
    assert [tr.new_id() for _ in range(3)] == [1, 2, 3]


def test_a_lost_observation_is_taken_back():
    """``lose``: a frame's observation that was someone else (a region led onto another person) is undone;
    the track is missing, with its box, velocity and history of the frame before."""
    t = BoxTrack(1, np.zeros(4))
    for f in range(1, 4):
        BoxTracker.observe(t, np.array([10.0 * f, 0, 10.0 * f + 40, 100]), f)
    before = t.motion()
    BoxTracker.observe(t, np.array([300.0, 0, 340, 100]), 4)  # the other person
    t.lose(before)
    assert t.missed == 1 and t.frame == 3 and t.hits == 3 and 4 not in t.history
    np.testing.assert_allclose(t.box_at(5), [50, 0, 90, 100])  # still extrapolated from its own motion
