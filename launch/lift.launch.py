"""Start lift_node with config/lift.yaml.

    ros2 launch hpe3d_ros lift.launch.py image_topic:=/camera/color/image_raw \
        camera_info_topic:=/camera/color/camera_info backend:=auto
    rviz2 -d $(ros2 pkg prefix hpe3d_ros)/share/hpe3d_ros/rviz/hpe3d.rviz

Every launch argument but ``lifecycle`` names a node parameter: backend, model_file_path, reliability and
use_compressed are passed as parameters (over config/lift.yaml). ``lifecycle:=true`` starts the managed
variant (lift_lifecycle_node: models loaded on configure, subscriptions made on activate, freed on
cleanup) unconfigured; drive it with ``ros2 lifecycle set /lift_node configure`` and ``activate``.
The node subscribes to the relative names ``image`` and ``camera_info`` by default; the remappings
below route them (and ``image/compressed``) to the topics given, so the usual remapping tools work too.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

from launch import LaunchDescription


def generate_launch_description():
    share = get_package_share_directory("hpe3d_ros")
    params_file = os.path.join(share, "config", "lift.yaml")
    default_model = os.path.join(share, "engines", "ours_bandai.onnx")

    arguments = [
        DeclareLaunchArgument("image_topic", default_value="/camera/image_raw", description="sensor_msgs/Image topic"),
        DeclareLaunchArgument(
            "camera_info_topic", default_value="/camera/camera_info", description="sensor_msgs/CameraInfo topic"
        ),
        DeclareLaunchArgument(
            "backend", default_value="auto", description="lifter backend: auto, onnxruntime, tensorrt or torch"
        ),
        DeclareLaunchArgument(
            "model_file_path",
            default_value=default_model,
            description="ONNX lifter model with its .json manifest beside it",
        ),
        DeclareLaunchArgument(
            "reliability",
            default_value="reliable",
            description="image subscription reliability: reliable or best_effort",
        ),
        DeclareLaunchArgument(
            "use_compressed",
            default_value="false",
            description="subscribe to <image_topic>/compressed (sensor_msgs/CompressedImage)",
        ),
        DeclareLaunchArgument(
            "lifecycle",
            default_value="false",
            description="true: the lifecycle (managed) node lift_lifecycle_node, started unconfigured",
        ),
    ]
    image_topic = LaunchConfiguration("image_topic")
    camera_info_topic = LaunchConfiguration("camera_info_topic")

    parameters = [
        params_file,
        {
            "backend": LaunchConfiguration("backend"),
            "model_file_path": LaunchConfiguration("model_file_path"),
            "reliability": LaunchConfiguration("reliability"),
            "use_compressed": LaunchConfiguration("use_compressed"),
        },
    ]
    remappings = [
        ("image", image_topic),
        ("image/compressed", [image_topic, "/compressed"]),
        ("camera_info", camera_info_topic),
    ]
    lifecycle = LaunchConfiguration("lifecycle")
    lift_node = Node(
        package="hpe3d_ros",
        executable="lift_node",
        name="lift_node",
        output="screen",
        parameters=parameters,
        remappings=remappings,
        condition=UnlessCondition(lifecycle),
    )
    lift_lifecycle_node = LifecycleNode(
        package="hpe3d_ros",
        executable="lift_lifecycle_node",
        name="lift_node",
        namespace="",
        output="screen",
        parameters=parameters,
        remappings=remappings,
        condition=IfCondition(lifecycle),
    )
    return LaunchDescription(arguments + [lift_node, lift_lifecycle_node])
