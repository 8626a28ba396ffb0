"""`hpe3d collect` on the bundled fixture video with the real detector; bad input gives clear errors."""
from __future__ import annotations

import numpy as np

from hpe3d_ros import cli, poses_io, skeleton
from hpe3d_ros.cli_collect import collect_frames, to_arrays
from hpe3d_ros.detection import PoseDetector


def test_collect_writes_a_valid_pose_file(fixtures_dir, tmp_path, capsys):
    video = fixtures_dir / "media" / "street-demo.mp4"
    out = tmp_path / "poses2d.npz"
    rc = cli.main(
        [
            "collect",
            "--video",
            str(video),
            "--video",
            str(video),
            "--out",
            str(out),
            "--hfov",
            "70",
            "--max-people",
            "3",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    data = poses_io.load_poses2d(out)
    n = len(data["keypoints"])
    assert n >= 10  # at least one person in each of the 2 x 5 frames
    assert data["keypoints"].shape == (n, skeleton.NUM_JOINTS, 2)
    assert data["intrinsics"].shape == (n, 3, 3)
    np.testing.assert_allclose(data["intrinsics"][0, 0, 0], 0.5 * 960 / np.tan(np.radians(35)))
    assert tuple(data["image_size"]) == (960, 540)
    assert set(data["frame"]) == set(range(5))
    assert set(data["source"]) == {str(video)}
    # Tracks of the second pass are new tracks: ids unique over the file.
    split = int(np.nonzero(np.diff(data["frame"]) < 0)[0][0]) + 1  # where the second video starts
    first, second = set(data["track_id"][:split]), set(data["track_id"][split:])
    assert min(first | second) >= 1 and first and second and not first & second
    assert np.all((data["keypoints"][..., 0] > -200) & (data["keypoints"][..., 0] < 1160))


def test_collect_frames_takes_any_frame_iterator(fixtures_dir):
    import cv2

    img = cv2.cvtColor(cv2.imread(str(fixtures_dir / "media" / "street-demo-frame0.png")), cv2.COLOR_BGR2RGB)
    k = np.array([[600.0, 0, 480], [0, 600.0, 270], [0, 0, 1]])
    with PoseDetector(max_people=1) as det:
        rows = collect_frames(((i * 1000, img, k) for i in range(2)), det, "bag:/camera/image")
    arrays = to_arrays(rows)
    assert arrays["keypoints"].shape == (2, 16, 2)
    assert list(arrays["stamp_ns"]) == [0, 1000] and list(arrays["source"]) == ["bag:/camera/image"] * 2


def test_missing_video_is_named_and_nothing_written(tmp_path, capsys):
    out = tmp_path / "x.npz"
    rc = cli.main(["collect", "--video", str(tmp_path / "nope.mp4"), "--out", str(out), "--hfov", "60"])
    assert rc == 1
    assert "nope.mp4" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_undecodable_video_is_named_and_nothing_written(fixtures_dir, tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    out = tmp_path / "x.npz"
    good = fixtures_dir / "media" / "street-demo.mp4"
    rc = cli.main(["collect", "--video", str(good), "--video", str(bad), "--out", str(out), "--hfov", "60"])
    assert rc == 1
    assert "broken.mp4" in capsys.readouterr().err
    assert not out.exists()


def test_unknown_calibration_format_is_named(fixtures_dir, tmp_path, capsys):
    cal = tmp_path / "camera.yaml"
    cal.write_text("fx: 500\nfy: 500\n")
    out = tmp_path / "x.npz"
    rc = cli.main(
        [
            "collect",
            "--video",
            str(fixtures_dir / "media" / "street-demo.mp4"),
            "--out",
            str(out),
            "--calibration",
            str(cal),
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert "camera.yaml" in err and "camera_info" in err
    assert not out.exists()


def test_camera_is_required(fixtures_dir, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert cli.main(["collect", "--video", str(fixtures_dir / "media" / "street-demo.mp4"), "--out", str(out)]) == 1
    assert "--hfov" in capsys.readouterr().err
    assert not out.exists()


def test_truncated_video_is_collected_with_a_warning(fixtures_dir, tmp_path, capsys):
    import cv2

    cap = cv2.VideoCapture(str(fixtures_dir / "media" / "street-demo.mp4"))
    frames = [cap.read()[1] for _ in range(5)]
    cap.release()
    full = tmp_path / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 5, (960, 540))
    for i in range(12):
        writer.write(frames[i % 5])
    writer.release()
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])  # the header still announces 12 frames
    out = tmp_path / "x.npz"
    rc = cli.main(["collect", "--video", str(cut), "--out", str(out), "--hfov", "60", "--max-people", "1"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "cut.avi" in err and "expected frames" in err
    n = len(poses_io.load_poses2d(out)["keypoints"])
    assert 0 < n < 12


def test_calibration_file_gives_its_k_and_size_is_checked(fixtures_dir, tmp_path, capsys):
    video = str(fixtures_dir / "media" / "street-demo.mp4")
    cal = tmp_path / "cam.yaml"
    body = (
        "image_width: {w}\nimage_height: 540\ncamera_name: test\n"
        "camera_matrix: {{rows: 3, cols: 3, data: [700, 0, 480, 0, 710, 270, 0, 0, 1]}}\n"
        "distortion_model: plumb_bob\ndistortion_coefficients: {{rows: 1, cols: 5, data: [0, 0, 0, 0, 0]}}\n"
    )
    cal.write_text(body.format(w=960))
    out = tmp_path / "x.npz"
    assert (
        cli.main(
            [
                "collect",
                "--video",
                video,
                "--out",
                str(out),
                "--calibration",
                str(cal),
                "--max-people",
                "1",
                "--max-frames",
                "2",
            ]
        )
        == 0
    )
    k = poses_io.load_poses2d(out)["intrinsics"]
    np.testing.assert_allclose(k[0], [[700, 0, 480], [0, 710, 270], [0, 0, 1]])
    assert len(k) == 2
    cal.write_text(body.format(w=640))  # calibrated for another image size
    out2 = tmp_path / "y.npz"
    assert cli.main(["collect", "--video", video, "--out", str(out2), "--calibration", str(cal)]) == 1
    assert "640x540" in capsys.readouterr().err and not out2.exists()


def test_collect_takes_the_detector_kind(fixtures_dir, tmp_path, capsys):
    video = str(fixtures_dir / "media" / "street-demo.mp4")
    counts = {}
    for kind in ("nanodet", "mediapipe"):
        out = tmp_path / f"{kind}.npz"
        rc = cli.main(["collect", "--video", video, "--out", str(out), "--hfov", "70", "--detector", kind,
                       "--max-people", "8"])
        assert rc == 0, capsys.readouterr().err
        counts[kind] = len(poses_io.load_poses2d(out)["keypoints"])
    assert counts["nanodet"] >= 5 * 5 and counts["nanodet"] > counts["mediapipe"]  # the pedestrians NanoDet finds
    rc = cli.main(["collect", "--video", video, "--out", str(tmp_path / "x.npz"), "--hfov", "70", "--detector", "yolo"])
    assert rc != 0 and "unknown detector kind 'yolo'" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
