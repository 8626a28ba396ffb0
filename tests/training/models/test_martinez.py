"""The Martinez residual MLP, the part lifter (TIPSy generators) and the whole-body lifter."""
from __future__ import annotations

import pytest
import torch

from hpe3d_ros import skeleton
from training.models.martinez import MartinezLifter, MartinezMLP, PartLifter


def test_mlp_shapes_blocks_and_tanh_bound():
    torch.manual_seed(0)
    net = MartinezMLP(10, 3, hidden=16, blocks=3, dropout=0.1, activation="leaky_relu", tanh=True)
    assert len(net.blocks) == 3
    y = net(100 * torch.randn(5, 10))
    assert y.shape == (5, 3)
    assert torch.all(y.abs() <= 1.0)
    assert isinstance(net.input[1], torch.nn.BatchNorm1d)
    plain = MartinezMLP(10, 3, hidden=16, blocks=1, dropout=0.0, batchnorm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in plain.modules())


def test_part_lifter_reads_only_its_joints():
    torch.manual_seed(0)
    legs = PartLifter("legs", "legs", hidden=16, blocks=1, dropout=0.0).eval()
    x = torch.randn(4, skeleton.NUM_JOINTS, 2)
    y = legs(x)
    assert y.shape == (4, len(skeleton.LEGS))
    x2 = x.clone()
    x2[:, list(skeleton.TORSO)] += 5.0  # torso 2D must not matter to the leg generator
    assert torch.allclose(legs(x2), y)
    x3 = x.clone()
    x3[:, skeleton.LEGS[0]] += 1.0
    assert not torch.allclose(legs(x3), y)


def test_whole_body_lifter_contract_with_elevation_head():
    torch.manual_seed(0)
    net = MartinezLifter(hidden=16, blocks=1, dropout=0.0, elevation_head=True).eval()
    out = net(torch.randn(6, skeleton.NUM_JOINTS, 2))
    assert out["depth"].shape == (6, skeleton.NUM_JOINTS)
    assert out["elevation"].shape == (6,)
    assert torch.all(out["elevation"].abs() <= net.elevation_scale)
    assert "elevation" not in MartinezLifter(hidden=8, blocks=0)(torch.randn(2, 16, 2))


def test_bad_settings_are_errors():
    with pytest.raises(ValueError, match="activation"):
        MartinezMLP(4, 2, activation="swish")
    with pytest.raises(ValueError, match="joint subset"):
        PartLifter([0, 0, 1], "legs")
