"""hpe3d_ros: an ament_python package, installable with plain pip (`pip install --no-deps .`)."""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "hpe3d_ros"


def share(subdir: str, pattern: str = "*"):
    files = [f for f in glob(f"{subdir}/{pattern}") if not f.endswith((".engine", ".plan"))]
    return (f"share/{PACKAGE}/{subdir}", files)


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=["hpe3d_ros", "hpe3d_ros.*", "training", "training.*"]),
    package_data={"hpe3d_ros": ["data/*", "data/**/*"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        share("launch", "*.py"),
        share("config", "*.yaml"),
        *[share(d.rstrip("/"), "*.yaml") for d in sorted(glob("config/train/*/"))],
        share("rviz", "*.rviz"),
        share("engines", "*.onnx"),
        share("engines", "*.json"),
        share("engines", "*.md"),
    ],
    zip_safe=True,
    maintainer="hpe3d_ros developers",
    description="Real-time 3D human pose perception for ROS 2 with lifters trained without 3D labels",
    license="Apache-2.0 (code); shipped weights CC BY-NC 4.0 (see engines/)",
    python_requires=">=3.10",
    entry_points={
        "console_scripts": [
            "hpe3d = hpe3d_ros.cli:main",
            "lift_node = hpe3d_ros.node.lift_node:main",
            "lift_lifecycle_node = hpe3d_ros.node.lifecycle_node:main",
        ],
        # the runtime's torch backend finds training's checkpoint loader here (it never imports training)
        "hpe3d_ros.torch_loaders": [
            "training = training.torch_loader:load_checkpoint_lifter",
        ],
    },
)
