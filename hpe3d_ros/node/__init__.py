"""The ROS 2 side of hpe3d_ros: the lifting node and its message helpers (decode, markers, skeletons)."""
