"""Optional sections of a training config's ``data:`` mapping (``data.joint_defs``, ``data.pose_aug``)."""
from __future__ import annotations

from typing import Any, Mapping


def optional_section(d: Mapping[str, Any] | None, cls: type, section: str) -> dict | None:
    """The settings of ``data.<section>`` for dataclass ``cls``, without ``enabled``; None when the section is
    absent, empty or ``enabled: false``. Keys that are not fields of ``cls`` are a ValueError naming them."""
    if not d or not d.get("enabled", True):
        return None
    out = {k: v for k, v in d.items() if k != "enabled"}
    bad = set(out) - set(cls.__dataclass_fields__)
    if bad:
        raise ValueError(f"data.{section}: unknown keys {sorted(bad)}")
    return out
