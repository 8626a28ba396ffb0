"""Test-wide settings: ROS 2 traffic stays on this machine, logs go to a temporary folder."""
import os
import tempfile

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_LOG_DIR", tempfile.mkdtemp(prefix="hpe3d-roslog-"))
os.environ.setdefault("RCUTILS_LOGGING_BUFFERED_STREAM", "1")
