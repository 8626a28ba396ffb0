"""The ``nanodet`` kind on real images with the real models (ONNX Runtime NanoDet, MediaPipe BlazePose).

Fixture: tests/fixtures/media/street-demo-frame0.png and street-demo.mp4 (MMPose, Apache-2.0): a
pedestrian street, 960x540; the woman in white on the right (x about 760-910 px, 360 px tall) walks away
from the camera, three people walk in the middle (x 450-665), several small ones (50-80 px) stand left.
"""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from hpe3d_ros.detection import NanoDetPoseDetector, make_detector
from hpe3d_ros.detection.models import landmark_model_path
from hpe3d_ros.video import read_frames

from .test_pose_detector import _check_person, _rgb

WOMAN_X = (740, 930)


@pytest.fixture(scope="module")
def street_frame(fixtures_dir) -> np.ndarray:
    return _rgb(fixtures_dir / "media" / "street-demo-frame0.png")


@pytest.fixture(scope="module")
def street_video(fixtures_dir) -> list[np.ndarray]:
    frames = [rgb for _, rgb in read_frames(fixtures_dir / "media" / "street-demo.mp4")]
    return frames + frames[::-1][1:]  # forward and back: motion stays continuous


def _woman(people):
    return [p for p in people
            if WOMAN_X[0] < 0.5 * (p.bbox[0] + p.bbox[2]) < WOMAN_X[1] and p.bbox[3] - p.bbox[1] > 250]


def test_finds_the_pedestrians_of_a_street_frame_with_skeletons_and_world_landmarks(street_frame):
    with NanoDetPoseDetector() as det:
        people = det.detect(street_frame)
    assert len(people) >= 5, f"found {len(people)} people"
    assert len({p.track_id for p in people}) == len(people)
    for p in people:
        # the detector's box, carried; a small person's pose from a retry region (box_retry_scales) is looser
        _check_person(p, street_frame.shape, box_tolerance=0.15 if p.bbox[3] - p.bbox[1] >= 100 else 0.3)
        w = p.world_landmarks
        assert w.shape == (33, 3) and np.isfinite(w).all()
        assert np.linalg.norm(0.5 * (w[23] + w[24])) < 0.05  # metres, origin between the hips
        assert 1.0 < float(np.ptp(w[:, 1])) < 2.2  # a standing adult's extent, head to heels
    (woman,) = _woman(people)
    assert woman.bbox[3] - woman.bbox[1] > 300 and woman.confidence > 0.5
    middle = [p for p in people if 440 < 0.5 * (p.bbox[0] + p.bbox[2]) < 670 and p.bbox[3] - p.bbox[1] > 100]
    assert len(middle) >= 3, "the three people walking in the middle"
    assert any(p.bbox[3] - p.bbox[1] < 90 for p in people), "no small person found"


def test_ids_stay_with_the_people_over_a_video(street_video):
    with NanoDetPoseDetector(detect_every_n_frames=3) as det:
        seq = [det.detect(f) for f in street_video]
    ids = [p.track_id for people in seq for p in _woman(people)]
    assert len(ids) == len(street_video) and len(set(ids)) == 1, f"the woman's ids: {ids}"
    assert all(len({p.track_id for p in people}) == len(people) for people in seq)
    assert min(len(people) for people in seq) >= 4


def test_async_detection_finds_the_people_and_the_first_frame_is_not_empty(street_frame):
    with NanoDetPoseDetector(async_detection=True) as det:
        first = det.detect(street_frame)  # nobody tracked yet: the detector runs inline
        assert len(first) >= 5
        for _ in range(6):
            people = det.detect(street_frame)
        # the people over 100 px keep their ids, the man half hidden behind the woman (found by a retry region)
        # included: his region converges onto her, his box's regions find him again
        big = {p.track_id for p in first if p.bbox[3] - p.bbox[1] > 100}
        assert len(big) >= 5 and big <= {p.track_id for p in people}
        (worker,) = [t for t in threading.enumerate() if t.name.startswith("person-detector")]
        own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert os.getpriority(os.PRIO_PROCESS, worker.native_id) >= min(own + 10, 19)  # yields to the frame
        det.reset()
        assert det.num_tracks == 0


def test_max_people_keeps_the_largest(street_frame):
    with NanoDetPoseDetector(max_people=2) as det:
        people = det.detect(street_frame)
    assert len(people) == 2
    assert len(_woman(people)) == 1  # the nearest (largest) person is one of the two


@pytest.mark.parametrize("kind", ["nanodet", "mediapipe"])
def test_black_and_noise_images_give_no_people(kind):
    rng = np.random.default_rng(0)
    with make_detector({"kind": kind}) as det:
        assert det.detect(np.zeros((480, 640, 3), np.uint8)) == []
        assert det.detect(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) == []
        assert det.detect(np.full((240, 320, 3), 255, np.uint8)) == []  # size change between frames


def test_landmark_models_lite_full_heavy_and_auto(street_frame):
    got = {}
    for model in ("lite", "full", "heavy", "auto"):
        with NanoDetPoseDetector(landmark_model=model) as det:
            graphs = det.tracker.landmarks._graphs
            assert all(g.model_path == landmark_model_path(m) for m, g in graphs.items())  # the packaged ONNX
            (woman,) = _woman(det.detect(street_frame))
            got[model] = woman.keypoints
    assert set(graphs) == {"lite", "full"}  # auto: both, lite for people under small_person_px
    for a, b in (("lite", "full"), ("full", "heavy"), ("lite", "heavy")):
        d = np.abs(got[a] - got[b]).max()
        assert 0.01 < d < 60, f"{a} vs {b}: largest joint difference {d:.2f} px"  # different models, same person
    np.testing.assert_allclose(got["auto"], got["full"], atol=1e-6)  # she is tall: full


def test_bad_parameters_and_missing_model_are_named():
    with pytest.raises(ValueError, match="landmark_model"):
        make_detector({"kind": "nanodet", "landmark_model": "giant"})
    with pytest.raises(FileNotFoundError, match="no_such.onnx"):
        make_detector({"kind": "nanodet", "model_file_path": "/no_such.onnx"})


def test_low_score_boxes_start_people_only_with_a_confident_pose(street_frame):
    with NanoDetPoseDetector() as det:  # shipped: boxes under min_detection_confidence start nobody
        default = det.detect(street_frame)
    with NanoDetPoseDetector(low_box_min_pose_confidence=0.7) as det:
        more = det.detect(street_frame)
    assert len(more) > len(default)
    added = [p for p in more if not any(abs(p.bbox[0] - q.bbox[0]) < 5 and abs(p.bbox[1] - q.bbox[1]) < 5
                                        for q in default)]
    assert added and all(p.confidence >= 0.7 for p in added)


def test_a_box_without_a_pose_in_its_first_region_is_tried_in_its_retry_regions(street_frame):
    """The frame loop's retries (``box_retry_scales``): a proposal whose first region holds nobody (the
    empty road left of the woman) finds her in its retry region, and only there."""
    from hpe3d_ros.detection.landmarker import Roi
    from hpe3d_ros.detection.nanodet import roi_from_box
    from hpe3d_ros.detection.topdown import Proposal

    with NanoDetPoseDetector() as det:
        (woman,) = _woman(det.detect(street_frame))
        box = np.array(woman.bbox)
        first = roi_from_box(box, 1.0)
        empty = Roi(first.center - np.array([700.0, 150.0]), first.side, 0.0)
        tracker = det.tracker
        without = tracker._first_pose(street_frame, [Proposal(box, empty, 0.9)])
        found = tracker._first_pose(street_frame, [Proposal(box, empty, 0.9, (empty, roi_from_box(box, 1.5)))])
    assert without == [None]
    (res,) = found
    assert res is not None
    centre = res.landmarks[:, :2].mean(axis=0)
    assert box[0] < centre[0] < box[2] and box[1] < centre[1] < box[3]


def test_retry_regions_find_poses_on_more_boxes_of_a_street_frame(street_frame):
    """On the street frame, trying 2.0x and 1.25x the box when 1.5x finds no pose finds more people (7 -> 9)."""
    with NanoDetPoseDetector(max_people=20, box_retry_scales="") as det:
        base = det.detect(street_frame)
    with NanoDetPoseDetector(max_people=20, box_retry_scales="2.0,1.25") as det:
        more = det.detect(street_frame)
    assert len(more) > len(base) >= 3


def test_a_lost_person_found_by_another_of_their_boxes_keeps_their_id(street_frame):
    """A lost track matched to a box whose region has no pose (two boxes on one person, the better-overlapping
    one off) gets the person found on the other box, with its id, instead of a new track."""
    from hpe3d_ros.detection.landmarker import Roi
    from hpe3d_ros.detection.nanodet import roi_from_box
    from hpe3d_ros.detection.topdown import Proposal

    with NanoDetPoseDetector() as det:
        (woman,) = _woman(det.detect(street_frame))
        tracker = det.tracker
        (t,) = [t for t in tracker.tracks if t.track_id == woman.track_id]
        t.missed = 1  # lost on this frame; her box stays
        box = t.box.copy()
        first = roi_from_box(box, 1.5)
        empty = Roi(first.center - np.array([700.0, 150.0]), first.side, 0.0)
        shifted = box + np.array([0.25, 0.0, 0.25, 0.0]) * (box[2] - box[0])  # IoU 0.6 with her box
        n = len(tracker.tracks)
        found = tracker._take(street_frame, [Proposal(box, empty, 0.9), Proposal(shifted, first, 0.8)], tracker.frame)
        after = len(tracker.tracks)
    assert found == 1 and t.missed == 0 and after == n, "a new track instead of the lost one"
    assert same_box(t.body, woman.bbox)


def test_a_person_whose_landmarks_slid_onto_a_neighbour_is_found_again_on_their_box(street_frame):
    """A followed person whose landmark region slid onto a neighbour (their landmarks there, their matched
    detector box still on them) restarts from the box, keeping the id; when the box's region holds nobody
    new, the track keeps its landmarks and takes their box instead of the detector's."""
    from hpe3d_ros.detection.landmarker import Roi
    from hpe3d_ros.detection.nanodet import roi_from_box
    from hpe3d_ros.detection.topdown import Proposal

    with NanoDetPoseDetector(max_people=20) as det:
        people = det.detect(street_frame)
        tracker = det.tracker
        (woman,) = _woman(people)
        (t,) = [t for t in tracker.tracks if t.track_id == woman.track_id]
        other = max((p for p in people if p is not woman), key=lambda p: p.bbox[3] - p.bbox[1])
        (n,) = [x for x in tracker.tracks if x.track_id == other.track_id]
        tracker.tracks.remove(n)

        def slide():  # the woman's track now follows the neighbour's landmarks
            t.result, t.body, t.roi = n.result, n.body.copy(), n.roi
            t.landmark_boxes[t.frame] = n.landmark_boxes[n.frame].copy()

        slide()
        box = np.array(woman.bbox, dtype=float)
        found = tracker._take(street_frame, [Proposal(box, roi_from_box(box, 1.5), 0.9)], tracker.frame)
        back = t.body.copy()
        slide()
        empty = Roi(np.array([100.0, 100.0]), 50.0, 0.0)
        tracker._take(street_frame, [Proposal(box, empty, 0.9)], tracker.frame)
        kept = t.box.copy()
    assert found == 0 and same_box(back, woman.bbox, 0.6), "not back on the woman"
    assert same_box(kept, other.bbox, 0.3) and not same_box(kept, woman.bbox, 0.1), "the box is not the landmarks'"


def same_box(a, b, iou: float = 0.5) -> bool:
    from hpe3d_ros.detection.tracking import box_iou

    return bool(box_iou(np.asarray(a, float), np.asarray(b, float))[0, 0] >= iou)
