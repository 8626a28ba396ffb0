"""Optional ``data.<section>`` config mappings."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from training.data.config_section import optional_section


@dataclass
class _Settings:
    fraction: float = 0.5


def test_absent_empty_or_disabled_sections_are_none_and_unknown_keys_are_named():
    assert optional_section(None, _Settings, "x") is None
    assert optional_section({}, _Settings, "x") is None
    assert optional_section({"enabled": False, "fraction": 0.2}, _Settings, "x") is None
    assert optional_section({"enabled": True, "fraction": 0.2}, _Settings, "x") == {"fraction": 0.2}
    with pytest.raises(ValueError, match=r"data\.x: unknown keys \['fractoin'\]"):
        optional_section({"fractoin": 0.2}, _Settings, "x")
