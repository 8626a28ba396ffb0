"""Compare ways to find person regions: BlazePose's person detector (MediaPipe graph, with masked
re-passes), OpenCV's HOG people detector, and whether OpenCV can load the BlazePose model at all.

    .venv/bin/python benchmarks/person_detector_options.py

Images: the bundled street-demo frame; bus.jpg and vtest.avi frame 0 from ../shared/media when
present. Prints one JSON line per image and option: people found and CPU ms per call (median of 5).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _images() -> dict[str, np.ndarray]:
    import cv2

    from hpe3d_ros import paths

    out = {"street-demo-frame0": cv2.imread(str(REPO / "tests" / "fixtures" / "media" / "street-demo-frame0.png"))}
    shared = paths.shared_dir()
    if shared is not None:
        if (shared / "media" / "bus.jpg").is_file():
            out["bus.jpg"] = cv2.imread(str(shared / "media" / "bus.jpg"))
        cap = cv2.VideoCapture(str(shared / "media" / "vtest.avi"))
        ok, frame = cap.read()
        if ok:
            out["vtest-frame0"] = frame
    return {k: cv2.cvtColor(v, cv2.COLOR_BGR2RGB) for k, v in out.items() if v is not None}


def _cpu_ms(fn, repeats: int = 5) -> tuple[float, object]:
    result, times = None, []
    for _ in range(repeats):
        c0 = time.process_time()
        result = fn()
        times.append(time.process_time() - c0)
    return float(np.median(times) * 1000), result


def blazepose_masked(detector, img: np.ndarray, passes: int = 4) -> list[int]:
    """People found per pass, each pass with the people found so far blacked out (their body squares'
    central half-width strip)."""
    work = img.copy()
    found = []
    for _ in range(passes):
        dets = detector.detect(work)
        found.append(len(dets))
        if not dets:
            break
        for d in dets:
            x0, y0, x1, y1 = d.square().astype(int)
            q = (x1 - x0) // 4
            cx = int(d.center[0])
            work[max(y0, 0) : max(y1, 0), max(cx - q, 0) : max(cx + q, 0)] = 0
    return found


def main() -> int:
    import cv2
    import mediapipe

    from hpe3d_ros.detection.person_regions import BlazePersonDetector

    model = Path(mediapipe.__file__).parent / "modules" / "pose_detection" / "pose_detection.tflite"
    try:
        cv2.dnn.readNetFromTFLite(str(model))
        opencv_tflite = "loads"
    except cv2.error as e:
        opencv_tflite = "fails: " + str(e).strip().splitlines()[-1][:160]
    print(json.dumps({"option": "opencv_dnn_tflite", "model": model.name, "result": opencv_tflite}))

    cv2.setNumThreads(1)
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    blaze = BlazePersonDetector(0.5)
    for name, img in _images().items():
        ms, dets = _cpu_ms(lambda: blaze.detect(img))
        print(
            json.dumps({"image": name, "option": "blazepose_whole_frame", "people": len(dets), "cpu_ms": round(ms, 1)})
        )
        print(
            json.dumps(
                {"image": name, "option": "blazepose_masked_passes", "people_per_pass": blazepose_masked(blaze, img)}
            )
        )
        scale = 480 / max(img.shape[:2])
        small = cv2.resize(img, None, fx=scale, fy=scale) if scale < 1 else img
        ms, (rects, _) = _cpu_ms(lambda: hog.detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.05))
        print(
            json.dumps(
                {
                    "image": name,
                    "option": "opencv_hog",
                    "input": list(small.shape[1::-1]),
                    "people": len(rects),
                    "cpu_ms": round(ms, 1),
                }
            )
        )
    blaze.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
