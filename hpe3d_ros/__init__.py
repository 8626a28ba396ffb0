"""hpe3d_ros: real-time 3D human pose perception for ROS 2."""
__version__ = "0.1.0"
