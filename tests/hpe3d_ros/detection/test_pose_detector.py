"""PoseDetector on real images with the real MediaPipe models (no mocks).

Fixture: tests/fixtures/media/street-demo.mp4 and its first frame (MMPose, Apache-2.0): a street seen
from walking height; the woman in white on the right (about x 760-890 px) walks away from the camera.
bus.jpg (AGPL, never copied) is read from ../shared/media when present.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from hpe3d_ros import skeleton
from hpe3d_ros.detection import Person2D, PoseDetector
from hpe3d_ros.video import read_frames

J = {n: i for i, n in enumerate(skeleton.JOINT_NAMES)}


def _rgb(path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    assert bgr is not None, f"cannot read {path}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _video_frames(path) -> list[np.ndarray]:
    return [rgb for _, rgb in read_frames(path)]


@pytest.fixture(scope="module")
def street_frame(fixtures_dir) -> np.ndarray:
    return _rgb(fixtures_dir / "media" / "street-demo-frame0.png")


@pytest.fixture(scope="module")
def street_video(fixtures_dir) -> list[np.ndarray]:
    frames = _video_frames(fixtures_dir / "media" / "street-demo.mp4")
    assert len(frames) == 5
    return frames


def _run(det: PoseDetector, frames: list[np.ndarray]) -> list[list[Person2D]]:
    return [det.detect(f) for f in frames]


def _check_person(p: Person2D, shape, box_tolerance: float | None = None) -> None:
    """Contract 7 shapes and a plausible standing body. Joints inside the image lie in the person's box
    (within 2 px; ``box_tolerance``: within that fraction of the box height, for a detector box that
    an arm may reach beyond)."""
    h, w = shape[:2]
    assert isinstance(p.track_id, int) and p.track_id >= 1
    assert p.keypoints.shape == (16, 2) and p.scores.shape == (16,) and p.landmarks.shape == (33, 4)
    assert np.all(np.isfinite(p.keypoints)) and np.all((p.scores >= 0) & (p.scores <= 1))
    x0, y0, x1, y1 = p.bbox
    assert 0 <= x0 < x1 <= w - 1 and 0 <= y0 < y1 <= h - 1
    # Joints beyond the image border (a person cut by it) may lie outside the clipped box.
    kp_ = p.keypoints
    in_image = (kp_[:, 0] >= 0) & (kp_[:, 0] <= w - 1) & (kp_[:, 1] >= 0) & (kp_[:, 1] <= h - 1)
    inside = kp_[(p.scores > 0) & in_image]
    tol = 2.0 if box_tolerance is None else box_tolerance * (y1 - y0)
    assert np.all((inside[:, 0] >= x0 - tol) & (inside[:, 0] <= x1 + tol)), "keypoints outside the person's box"
    assert np.all((inside[:, 1] >= y0 - tol) & (inside[:, 1] <= y1 + tol)), "keypoints outside the person's box"
    kp = p.keypoints
    assert kp[J["head"], 1] < kp[J["thorax"], 1] < kp[J["pelvis"], 1], "head, thorax, pelvis not top to bottom"
    assert kp[J["head"], 1] < min(kp[J["left_ankle"], 1], kp[J["right_ankle"], 1]), "head below the ankles"


def test_single_person_path_on_street_frame(street_frame):
    with PoseDetector(max_people=1) as det:
        people = det.detect(street_frame)
    assert len(people) == 1
    p = people[0]
    _check_person(p, street_frame.shape)
    # The most salient person: the woman in white on the right, seen from behind.
    assert 700 < p.keypoints[J["pelvis"], 0] < 950
    assert p.scores[[J["left_shoulder"], J["right_shoulder"], J["left_hip"], J["right_hip"]]].min() > 0.5
    # Seen from behind, her left side is on the image's left.
    assert p.keypoints[J["left_shoulder"], 0] < p.keypoints[J["right_shoulder"], 0]
    assert p.keypoints[J["left_hip"], 0] < p.keypoints[J["right_hip"], 0]


def test_several_people_on_street_frame(street_frame):
    with PoseDetector(max_people=6, detect_every_n_frames=1) as det:
        results = _run(det, [street_frame] * 10)
    people = results[-1]
    assert len(people) >= 2, f"found {len(people)} people"
    for p in people:
        _check_person(p, street_frame.shape)
    ids = [p.track_id for p in people]
    assert len(set(ids)) == len(ids)
    # No two people are the same person.
    centers = np.array([p.keypoints[J["pelvis"]] for p in people])
    d = np.linalg.norm(centers[:, None] - centers[None], axis=-1) + np.eye(len(people)) * 1e9
    assert d.min() > 10


def test_track_ids_stable_over_video(street_video):
    for params in ({"max_people": 1}, {"max_people": 4, "detect_every_n_frames": 2}):
        with PoseDetector(**params) as det:
            results = _run(det, street_video)
        ids_of_main = []
        for people in results:
            main = [p for p in people if 700 < p.keypoints[J["pelvis"], 0] < 950]
            assert len(main) == 1, f"{params}: the woman in white not found exactly once"
            ids_of_main.append(main[0].track_id)
        assert len(set(ids_of_main)) == 1, f"{params}: her track id changed: {ids_of_main}"
        all_ids = [[p.track_id for p in people] for people in results]
        assert all(len(set(f)) == len(f) for f in all_ids), "duplicate ids in a frame"


@pytest.mark.parametrize("max_people", [1, 4])
def test_black_and_noise_images_give_no_people(max_people):
    with PoseDetector(max_people=max_people, detect_every_n_frames=1) as det:
        assert det.detect(np.zeros((480, 640, 3), np.uint8)) == []
        assert det.detect(np.zeros((480, 640, 3), np.uint8)) == []
        assert det.detect(np.full((240, 320, 3), 255, np.uint8)) == []  # size change between frames


def test_bad_images_are_rejected_with_a_clear_error():
    with PoseDetector(max_people=2) as det:
        with pytest.raises(ValueError, match="RGB uint8"):
            det.detect(np.zeros((480, 640), np.uint8))
        with pytest.raises(ValueError, match="RGB uint8"):
            det.detect(np.zeros((480, 640, 3), np.float32))
        with pytest.raises(ValueError, match="RGB uint8"):
            det.detect(np.zeros((480, 640, 4), np.uint8))
        with pytest.raises(ValueError, match="too small"):
            det.detect(np.zeros((4, 640, 3), np.uint8))
    with pytest.raises(RuntimeError, match="closed"):
        det.detect(np.zeros((480, 640, 3), np.uint8))


def test_min_keypoint_confidence_zeroes_weak_joints(street_frame):
    with PoseDetector(max_people=1, min_keypoint_confidence=0.0) as det:
        raw = det.detect(street_frame)[0]
    with PoseDetector(max_people=1, min_keypoint_confidence=0.999) as det:
        strict = det.detect(street_frame)[0]
    assert np.all(strict.scores[raw.scores < 0.999] == 0.0)
    np.testing.assert_allclose(strict.keypoints, raw.keypoints, atol=1e-6)  # still returned


def test_bus_photo_gives_at_least_three_frontal_people(shared_dir):
    path = shared_dir / "media" / "bus.jpg"
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    img = _rgb(path)
    with PoseDetector(max_people=6, detect_every_n_frames=1) as det:
        people = _run(det, [img] * 8)[-1]
    assert len(people) >= 3, f"found {len(people)} people"
    for p in people:
        _check_person(p, img.shape)
    # The two men left of centre face the camera: their left side is on the image's right.
    frontal = [p for p in people if p.keypoints[J["pelvis"], 0] < 400]
    assert len(frontal) >= 2
    for p in frontal:
        assert p.keypoints[J["left_shoulder"], 0] > p.keypoints[J["right_shoulder"], 0]
        assert p.keypoints[J["left_hip"], 0] > p.keypoints[J["right_hip"], 0]


@pytest.mark.parametrize("max_people", [1, 4])
def test_lost_person_keeps_id_within_max_missed_frames_then_expires(street_frame, max_people):
    black = np.zeros_like(street_frame)

    def woman(people):
        main = [p for p in people if 700 < p.keypoints[J["pelvis"], 0] < 950]
        return main[0].track_id if main else None

    with PoseDetector(max_people=max_people, max_missed_frames=4, detect_every_n_frames=1) as det:
        first = [woman(det.detect(street_frame)) for _ in range(3)]
        assert first[0] is not None and len(set(first)) == 1
        assert [det.detect(black) for _ in range(2)] == [[], []]
        back = [woman(det.detect(street_frame)) for _ in range(3)]
        assert back[-1] == first[0], f"id changed after a 2-frame gap: {first} -> {back}"
        for _ in range(6):  # longer than max_missed_frames
            assert det.detect(black) == []
        assert det.num_tracks == 0
        later = [woman(det.detect(street_frame)) for _ in range(3)]
        assert later[-1] is not None and later[-1] != first[0], "an expired track's id was reused"


def test_async_detection_finds_the_same_people(street_frame):
    """The person detector in a worker thread: results arrive later but the people are the same."""
    import time

    with PoseDetector(max_people=6, detect_every_n_frames=1, async_detection=True) as det:
        people = []
        for _ in range(300):  # a 30 Hz stream for up to 10 s (the machine may be loaded)
            people = det.detect(street_frame)
            if len(people) >= 2:
                break
            time.sleep(1 / 30)
        assert len(people) >= 2, f"found {len(people)} people in 300 frames"
        for p in people:
            _check_person(p, street_frame.shape)
        det.reset()
        assert det.num_tracks == 0


def test_image_size_change_starts_new_tracks(street_frame):
    small = cv2.resize(street_frame, (640, 360))
    with PoseDetector(max_people=3, detect_every_n_frames=1) as det:
        first = det.detect(street_frame)
        assert first
        second = det.detect(small)
        assert not {p.track_id for p in first} & {p.track_id for p in second}
        for p in second:
            assert p.bbox[2] <= 639 and p.bbox[3] <= 359


@pytest.mark.parametrize("quarter_turns", [0, 1])
def test_several_people_path_reproduces_mediapipe_pose(street_frame, quarter_turns):
    """On a first frame both paths see the same detection and region, so the region-of-interest
    graph must give MediaPipe Pose's own landmarks (also for a person lying sideways: rotation)."""
    img = np.ascontiguousarray(np.rot90(street_frame, quarter_turns))
    with PoseDetector(max_people=1, smooth_landmarks=False) as single:
        ref = single.detect(img)
    with PoseDetector(max_people=3, smooth_landmarks=False) as several:
        got = several.detect(img)
    assert len(ref) == 1 and len(got) >= 1
    err = min(float(np.abs(p.keypoints - ref[0].keypoints).max()) for p in got)
    assert err < 0.5, f"largest joint difference {err:.2f} px"
