"""Bag replay: ROS 2 bags (mcap, sqlite3) through the node's pipeline, reports, and video-to-bag."""
