"""The training method registry (contract 3)."""
from __future__ import annotations

import pytest
import torch

from training.methods import Method, available, create_method, get_method, register


def test_supervised_methods_are_registered_with_contract_attributes():
    names = available()
    assert {"supervised_martinez", "supervised_vae"} <= set(names)
    for name in ("supervised_martinez", "supervised_vae"):
        cls = get_method(name)
        assert cls.needs_3d is True
        assert cls.normalization in ("tipsy", "elepose")


def test_unknown_method_names_the_known_ones():
    with pytest.raises(KeyError, match="supervised_martinez"):
        get_method("definitely_not_a_method")


def test_register_checks_attributes_and_clashes():
    with pytest.raises(TypeError, match="needs_3d"):
        @register("_test_missing_attr")
        class Missing:  # noqa: F841
            normalization = "tipsy"

    @register("_test_dummy")
    class Dummy(Method):
        normalization = "elepose"
        needs_3d = False

        def __init__(self, config, device):
            super().__init__(config, device)
            self.net = torch.nn.Linear(2, 2)

    assert get_method("_test_dummy") is Dummy
    assert isinstance(create_method({"method": "_test_dummy"}, "cpu"), Dummy)
    with pytest.raises(ValueError, match="registered twice"):
        @register("_test_dummy")
        class Other(Method):  # noqa: F841
            normalization = "tipsy"
            needs_3d = False
