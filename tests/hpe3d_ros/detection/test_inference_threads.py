"""MediaPipe inference thread count: set on the real graphs, same landmarks as one thread."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from hpe3d_ros.detection import PoseDetector
from hpe3d_ros.detection.inference_threads import set_xnnpack_threads
from hpe3d_ros.detection.landmarker import FrameLandmarker, RoiLandmarker
from hpe3d_ros.detection.person_regions import BlazePersonDetector


@pytest.fixture(scope="module")
def street_frame(fixtures_dir) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(fixtures_dir / "media" / "street-demo-frame0.png")), cv2.COLOR_BGR2RGB)


def test_every_graph_gets_its_inference_nodes_threaded():
    single = FrameLandmarker(0.5, 0.5, True, inference_threads=2)
    roi = RoiLandmarker(0.5, inference_threads=2)
    person = BlazePersonDetector(0.5, inference_threads=3)
    try:
        # Pose: person detector + landmark model; the ROI graph: landmark model; the detector graph: detector
        assert single._pose.inference_nodes_threaded == 2
        assert roi._graph.inference_nodes_threaded == 1
        assert person._graph.inference_nodes_threaded == 1
    finally:
        for g in (single, roi, person):
            g.close()


def test_default_leaves_the_graph_alone():
    single = FrameLandmarker(0.5, 0.5, True)
    try:
        assert single._pose.inference_nodes_threaded == 0
    finally:
        single.close()


def test_thread_count_is_range_checked():
    with pytest.raises(ValueError, match="inference threads"):
        set_xnnpack_threads(object(), 99)
    with pytest.raises(ValueError, match="inference_threads"):
        PoseDetector(max_people=1, inference_threads=-1)


@pytest.mark.parametrize("max_people", [1, 5])
def test_two_threads_find_the_same_people_and_joints(street_frame, max_people):
    results = []
    for threads in (0, 2):
        with PoseDetector(max_people=max_people, inference_threads=threads) as det:
            for _ in range(2):
                people = det.detect(street_frame)
        results.append(people)
    one, two = results
    assert len(one) == len(two) >= 1
    for a, b in zip(one, two):
        # XNNPACK splits the work differently; the answer must not change beyond float rounding
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=0.5)
