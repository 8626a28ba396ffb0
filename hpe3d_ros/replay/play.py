"""`hpe3d play`: publish a bag's messages into a running ROS 2 graph at the recorded rate.

What ``ros2 bag play`` does (not installable here): one publisher per topic with the bag's type,
messages published as stored (serialised bytes, no re-encoding) when their bag time comes, scaled by
``--rate``; ``--loop`` starts over at the end. ``--restamp`` rewrites every header stamp to the
publishing time (a live camera's stamps, so a node's frame-age checks and latency figures make
sense); without it, stamps stay as recorded.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..ros_convert import message_class


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of `hpe3d play`."""
    p.add_argument("--bag", required=True, help="bag directory (mcap or sqlite3)")
    p.add_argument("--rate", type=float, default=1.0, help="playback speed relative to the recording (default 1)")
    p.add_argument("--loop", action="store_true", help="play again from the start when the bag ends")
    p.add_argument("--topics", nargs="+", help="only these topics (default: all)")
    p.add_argument("--restamp", action="store_true", help="set header stamps to the publishing time")
    p.add_argument("--wait-subscribers", type=int, default=0, metavar="N",
                   help="start when N subscriptions listen to the bag's first image topic (or any topic)")
    p.add_argument("--wait-timeout", type=float, default=60.0)
    p.add_argument("--qos-depth", type=int, default=10, help="history depth of the publishers (reliable)")



def play(bag_path: Path, rate: float = 1.0, loop: bool = False, topics: list[str] | None = None, restamp: bool = False,
         wait_subscribers: int = 0, wait_timeout: float = 60.0, qos_depth: int = 10, log=print) -> int:
    """Publish the bag (see the module docstring); returns the number of messages published."""
    import rclpy
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    from ..ros_convert import stamp_from_ns
    from .bag_io import IMAGE_TYPES, BagError, InputBag, deserialize

    if rate <= 0:
        raise ValueError(f"--rate must be positive, got {rate}")
    with InputBag(bag_path) as bag:
        available = bag.topics
    selected = {t: ty for t, ty in available.items() if topics is None or t in topics}
    missing = sorted(set(topics or []) - set(available))
    if missing:
        raise BagError(f"{bag_path}: no topics {missing}; the bag has {sorted(available)}")
    classes = {}
    for t, ty in selected.items():
        try:
            classes[t] = message_class(ty)
        except (ImportError, AttributeError, ValueError):
            log(f"hpe3d play: skipping {t}: unknown message type {ty}")
    if not classes:
        raise BagError(f"{bag_path}: no topic with a known message type to play")
    rclpy.init()
    node = rclpy.create_node("bag_player")
    published = 0
    try:
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=qos_depth, reliability=ReliabilityPolicy.RELIABLE)
        pubs = {t: node.create_publisher(cls, t, qos) for t, cls in classes.items()}
        if wait_subscribers > 0:
            key = next((t for t in pubs if selected[t] in IMAGE_TYPES), next(iter(pubs)))
            end = time.monotonic() + wait_timeout
            while pubs[key].get_subscription_count() < wait_subscribers:
                if time.monotonic() > end:
                    raise BagError(
                        f"only {pubs[key].get_subscription_count()} of {wait_subscribers} subscribers on {key} "
                        f"after {wait_timeout:.0f} s"
                    )
                rclpy.spin_once(node, timeout_sec=0.1)
        log(f"hpe3d play: {bag_path} ({len(pubs)} topics) at {rate}x" + (", looping" if loop else ""))
        while True:
            t_wall0, t_bag0 = time.monotonic(), None
            with InputBag(bag_path) as bag:
                for raw in bag.messages(list(pubs)):
                    if t_bag0 is None:
                        t_bag0 = raw.timestamp
                    delay = t_wall0 + (raw.timestamp - t_bag0) * 1e-9 / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    if restamp:
                        msg = deserialize(raw)
                        if hasattr(msg, "header"):
                            msg.header.stamp = stamp_from_ns(node.get_clock().now().nanoseconds)
                        pubs[raw.topic].publish(msg)
                    else:
                        pubs[raw.topic].publish(raw.data)
                    published += 1
            if not loop:
                break
        time.sleep(0.5)  # let reliable publishers hand out the last messages
        return published
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


def run(args: argparse.Namespace) -> int:
    """Entry point of `hpe3d play`."""
    from .bag_io import BagError

    try:
        n = play(
            Path(args.bag),
            args.rate,
            args.loop,
            args.topics,
            args.restamp,
            args.wait_subscribers,
            args.wait_timeout,
            args.qos_depth,
        )
    except BagError as e:
        print(f"hpe3d play: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hpe3d play: stopped", file=sys.stderr)
        return 130
    print(f"published {n} messages from {args.bag}")
    return 0
