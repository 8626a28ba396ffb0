"""Reading video files frame by frame with OpenCV, with errors that name the file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np


class VideoError(RuntimeError):
    """A video cannot be opened or decoded."""


@dataclass
class VideoInfo:
    """What OpenCV reports about a video."""

    path: Path
    width: int
    height: int
    fps: float
    frame_count: int


def open_video(path: str | Path) -> tuple["object", VideoInfo]:
    """Open ``path`` with cv2.VideoCapture; VideoError when it is missing or not a decodable video."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoError(f"{path}: cannot be opened as a video")
    ok, frame = cap.read()
    if not ok or frame is None:
        cap.release()
        raise VideoError(f"{path}: no decodable frame")
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    fps = cap.get(cv2.CAP_PROP_FPS)
    info = VideoInfo(
        path, frame.shape[1], frame.shape[0], fps if fps and fps > 0 else 30.0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    )
    return cap, info


def read_frames(path: str | Path, max_frames: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (index, RGB uint8 frame) until the video ends or ``max_frames`` were read."""
    import cv2

    cap, _ = open_video(path)
    try:
        index = 0
        while max_frames is None or index < max_frames:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            yield index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            index += 1
        if index == 0:
            raise VideoError(f"{path}: no decodable frame")
    finally:
        cap.release()
