"""A recorder node: subscribes to topics and writes what arrives into a bag through OutputBag.

Run: ``python -m hpe3d_ros.replay.recorder --out BAG --topic /name:pkg/msg/Type ...``. Messages are
taken serialised (no deserialisation cost) and written with their receive time (the node's clock,
nanoseconds) as the bag time. SIGINT or SIGTERM closes the bag, so it is always valid; the bag is
written as split files closed every ``--split-s`` seconds (``bag_split``), so even SIGKILL leaves
everything but the last few seconds readable.

A topic name with ``*`` (e.g. ``/humans/bodies/*/position``, lift_node's per-person topics) is a
pattern (``*`` matches within one name token, never across a ``/``): topics of that type that match it
are subscribed to as they appear in the graph (checked every ``DISCOVERY_PERIOD_S``), at most
``MAX_PATTERN_TOPICS``.
"""
from __future__ import annotations

import argparse
import re
import signal
import sys
import time

from ..ros_convert import message_class

DISCOVERY_PERIOD_S = 0.5
MAX_PATTERN_TOPICS = 1000


def pattern_regex(pattern: str) -> re.Pattern:
    """A topic pattern with ``*`` (one name token or part of one) as a regular expression."""
    return re.compile("^" + "[^/]*".join(re.escape(part) for part in pattern.split("*")) + "$")


def main(argv: list[str] | None = None) -> int:
    """Entry point: record until SIGINT/SIGTERM (or --duration seconds)."""
    import rclpy
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    from .bag_io import BagError, OutputBag
    from .bag_split import DEFAULT_SPLIT_S

    p = argparse.ArgumentParser(prog="recorder", description=__doc__)
    p.add_argument("--out", required=True, help="output bag directory (must not exist)")
    p.add_argument(
        "--topic",
        action="append",
        required=True,
        metavar="NAME:TYPE",
        help="topic and type, e.g. /image:sensor_msgs/msg/Image",
    )
    p.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: until SIGINT)")
    p.add_argument("--split-s", type=float, default=DEFAULT_SPLIT_S,
                   help="close the bag's current file after this many seconds: a kill loses at most that much")
    args = p.parse_args(argv)
    topics = []
    for t in args.topic:
        name, sep, msgtype = t.rpartition(":")
        if not sep or msgtype.count("/") != 2:
            print(f"recorder: error: --topic {t!r}: expected NAME:pkg/msg/Type", file=sys.stderr)
            return 1
        try:
            topics.append((name, msgtype, message_class(msgtype)))
        except (ImportError, AttributeError):
            print(f"recorder: error: unknown message type {msgtype!r}", file=sys.stderr)
            return 1
    try:
        bag = OutputBag(args.out, storage=args.storage, split_s=args.split_s)
    except (BagError, ValueError) as e:
        print(f"recorder: error: {e}", file=sys.stderr)
        return 1
    stop = {"now": False}

    def on_signal(signum, frame):  # noqa: ARG001
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    node = rclpy.create_node("bag_recorder")
    counts = {name: 0 for name, _, _ in topics if "*" not in name}
    try:
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)

        def subscribe(name: str, msgtype: str, cls) -> None:
            def cb(data, name=name, msgtype=msgtype):
                bag.write(name, msgtype, node.get_clock().now().nanoseconds, bytes(data))
                counts[name] = counts.get(name, 0) + 1

            node.create_subscription(cls, name, cb, qos, raw=True)

        patterns = [(pattern_regex(name), msgtype, cls) for name, msgtype, cls in topics if "*" in name]
        subscribed = set()
        for name, msgtype, cls in topics:
            if "*" not in name:
                subscribe(name, msgtype, cls)
                subscribed.add(name)
        node.get_logger().info(f"recording {len(topics)} topics into {args.out}")
        end = time.monotonic() + args.duration if args.duration > 0 else float("inf")
        next_discovery = 0.0
        while not stop["now"] and time.monotonic() < end:
            if patterns and time.monotonic() >= next_discovery and len(subscribed) < MAX_PATTERN_TOPICS:
                next_discovery = time.monotonic() + DISCOVERY_PERIOD_S
                for name, types in node.get_topic_names_and_types():
                    if name in subscribed:
                        continue
                    for regex, msgtype, cls in patterns:
                        if regex.match(name) and msgtype in types:
                            subscribe(name, msgtype, cls)
                            subscribed.add(name)
                            break
            rclpy.spin_once(node, timeout_sec=0.05)
            bag.rotate_if_due()  # also while no message comes: a kill then loses nothing older than --split-s
    finally:
        bag.close()
        node.get_logger().info("closed " + args.out + ": " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
