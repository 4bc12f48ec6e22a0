"""Dimension is a property of the environment: the same encoders, rate maps and decoders in 2-D and 3-D; a cube
with the box's motion model; 3-D lattice measures on synthetic lattices; walled and irregular arenas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gridzoo
from gridzoo.analysis.fields import hard_core_arrangement
from gridzoo.analysis.lattice3d import (fcc_points, field_map, hcp_points, order_3d, polycrystal, rotated_crystal,
                                      unit_order)
from gridzoo.analysis.ratemaps import rate_maps
from gridzoo.config import load_experiment
from gridzoo.model import build_model


def _walk(name: str, batch: int = 500, steps: int = 200, **params):
    env = gridzoo.build("environments", name, **params)
    return env, env.sample(batch, steps, generator=torch.Generator().manual_seed(0))


def test_the_cube_keeps_the_box_speed_statistics_and_turns_on_the_sphere():
    env, t = _walk("cube", width=3.0, depth=3.0)
    box, t2 = _walk("box", width=3.0)
    assert t.position.shape == (500, 200, 3) and t.velocity.shape == (500, 200, 3) and env.input_size == 3
    assert bool(env.contains(t.position).all())
    assert torch.allclose(t.start_position[:, None] + t.velocity.cumsum(1), t.position, atol=1e-5)  # exact input
    speed3, speed2 = t.velocity.norm(dim=-1) / 0.02, t2.velocity.norm(dim=-1) / 0.02
    assert float(speed3.mean()) == pytest.approx(float(speed2.mean()), rel=0.05)  # the same Rayleigh speeds
    unit = t.velocity / t.velocity.norm(dim=-1, keepdim=True)
    turn = torch.arccos((unit[:, 1:] * unit[:, :-1]).sum(-1).clamp(-1, 1))
    assert float(turn.median()) == pytest.approx(0.6745 * 11.52 * 0.02, rel=0.15)  # |N(0, σ·dt)|'s median
    assert float(unit[..., 2].abs().mean()) == pytest.approx(0.5, abs=0.05)  # directions uniform on the sphere


def test_place_cells_rate_maps_and_decoding_work_in_3d_from_the_same_code():
    experiment = load_experiment(data={"environment": {"name": "cube", "width": 1.0, "depth": 1.0},
                                       "encoder": {"name": "dos", "n_cells": 512, "sigma": 0.1},
                                       "architecture": {"name": "rnn", "hidden_size": 16}})
    model = build_model(experiment)
    encoder = model.encoders[0]
    assert encoder.centres.shape == (512, 1, 3)
    positions = torch.rand(300, 3, generator=torch.Generator().manual_seed(1)) - 0.5
    decoded = encoder.decode(encoder.encode(positions, torch.zeros(300)))
    assert float((decoded - positions).norm(dim=-1).mean()) < 0.12  # top-3 of 512 cells in a 1 m cube
    maps = rate_maps(positions, positions[:, :1], model.environment.bounds, 5)
    assert maps.maps.shape == (1, 5, 5, 5) and len(maps.bin_centres) == 3
    assert np.all(np.diff(np.nanmean(maps.maps[0], axis=(1, 2))) > 0)  # first axis is x


def test_fcc_and_hcp_score_high_on_global_order_and_are_told_apart():
    fcc, hcp = order_3d(fcc_points(0.3, 2.4)), order_3d(hcp_points(0.3, 2.4))
    assert fcc.lattice == "fcc" and hcp.lattice == "hcp"
    assert fcc.global_q6 > 0.5 and hcp.global_q6 > 0.45
    assert fcc.global_q4 > 0.17 > 0.12 > hcp.global_q4  # Q4 tells them apart


def test_a_polycrystal_keeps_local_order_and_loses_global_order():
    order = order_3d(polycrystal(0.3, 2.4, domains=8))
    assert order.local_order and order.local_q6 > 0.5
    assert order.global_q6 < 0.3 and order.lattice == "none" and order.coherence < 0.5


def test_random_fields_score_low_on_both():
    order = order_3d(np.random.default_rng(0).uniform(-1.2, 1.2, (600, 3)))
    assert not order.local_order and order.spacing_cv > 0.3
    assert order.global_q6 < 0.1 and order.lattice == "none"


# Known answers at the size the 3-D study scores: a 1.5 m cube, 24 voxels a side, fields 0.45 m apart (3.3 a side).
SIDE, SPACING, VOXELS, WIDTH = 1.5, 0.45, 24, 0.07


def _verdict(centres: np.ndarray, seed: int):
    rate_map, axes = field_map(centres, SIDE, VOXELS, WIDTH)
    return unit_order(rate_map, axes, arrangements=49, seed=seed)


@pytest.mark.parametrize("kind", ["fcc", "hcp"])
def test_a_rotated_crystal_is_a_lattice_of_its_kind_against_the_arrangement_null(kind):
    for seed in range(3):
        order = _verdict(rotated_crystal(kind, SPACING, SIDE, seed), seed)
        assert order.n_fields >= 40 and not order.columnar
        assert order.verdict == "lattice" and order.lattice_type == kind, (seed, order.p_local, order.p_global)


def test_random_fields_are_neither_a_lattice_nor_locally_ordered():
    """Non-overlapping random fields (what fixed thresholds called local order in most volumes) and overlapping
    (Poisson) ones: any verdict but "none" at about the null's 5 %."""
    hard_core = [_verdict(hard_core_arrangement(50, 0.6 * SPACING, [-SIDE / 2] * 3, [SIDE / 2] * 3,
                                                np.random.default_rng(100 + k)), k).verdict for k in range(20)]
    poisson = [_verdict(np.random.default_rng(200 + k).uniform(-SIDE / 2, SIDE / 2, (50, 3)), k).verdict
               for k in range(10)]
    assert hard_core.count("none") >= 18, hard_core  # at most 2 of 20 (10 %; the null's rate is 5 %)
    assert poisson.count("none") >= 9, poisson


def test_columns_and_layers_are_recognised_and_never_a_3d_lattice():
    a = SPACING * np.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    hexagonal = np.array([i * a[0] + j * a[1] for i in range(-6, 7) for j in range(-6, 7)])
    columns = _verdict(hexagonal[(np.abs(hexagonal) <= SIDE / 2 + 0.1).all(axis=1)], 0)  # 2-D lattice along z
    assert columns.columnar and columns.verdict == "columnar" and columns.lattice_type == ""
    assert columns.columnarity > 0.95
    layers = _verdict(np.array([[z] for z in np.arange(-0.6, 0.7, SPACING)]), 0)  # sheets across x
    assert layers.columnar and layers.verdict == "columnar"
    # The fixed-threshold measure (no null, no projection test) calls the columns' centres ordered.
    assert order_3d(np.c_[hexagonal, np.zeros(len(hexagonal))]).global_q6 > 0.6


# --- walls and irregular arenas ------------------------------------------------------------------------------


def _crossings(positions: np.ndarray, segments: np.ndarray) -> int:
    """Consecutive positions whose straight step strictly crosses a wall segment."""
    p0, p1 = positions[:, :-1].reshape(-1, 2), positions[:, 1:].reshape(-1, 2)

    def cross(a, b):
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]

    r, s = p1 - p0, segments[:, 1] - segments[:, 0]
    q = segments[None, :, 0] - p0[:, None]
    d = cross(r[:, None], s[None])
    with np.errstate(divide="ignore", invalid="ignore"):
        u, v = cross(q, s[None]) / d, cross(q, r[:, None]) / d
    return int(((d != 0) & (u > 0) & (u < 1) & (v > 0) & (v < 1)).sum())


@pytest.mark.parametrize("shape", ["two_compartments", "trapezoid", "l_shape"])
def test_no_trajectory_crosses_a_wall_in_100000_steps(shape):
    env, t = _walk("polygon", shape=shape)
    positions = torch.cat([t.start_position[:, None], t.position], 1).double().numpy()
    assert positions.shape[0] * (positions.shape[1] - 1) >= 100_000
    assert _crossings(positions, env.wall_segments.astype(np.float64)) == 0
    assert bool(env.contains(t.position).all())
    assert torch.allclose(t.start_position[:, None] + t.velocity.cumsum(1), t.position, atol=1e-5)


def test_the_door_is_used_and_centres_lie_inside():
    env, t = _walk("polygon", shape="two_compartments", batch=200, steps=400)
    x = t.position[..., 0]
    switched = ((x[:, 1:] > 0) != (x[:, :-1] > 0)).any(dim=1)
    assert bool(switched.any())  # animals go from one room to the other, through the door
    crossing = torch.nonzero((x[:, 1:] > 0) != (x[:, :-1] > 0))
    ys = t.position[crossing[:, 0], crossing[:, 1], 1]
    assert float(ys.abs().max()) <= 0.15 + 0.03  # only through the door (half width 0.15 m)
    experiment = load_experiment(data={"environment": {"name": "polygon", "shape": "l_shape"},
                                       "encoder": {"name": "dos", "n_cells": 400}, "architecture": {"name": "rnn", "hidden_size": 8}})
    model = build_model(experiment)
    centres = model.encoders[0].centres[:, 0]
    assert bool(model.environment.contains(centres).all())
    assert not bool(((centres[:, 0] > 0) & (centres[:, 1] > 0)).any())  # the L's missing quadrant


def test_rate_maps_have_square_bins_and_no_occupancy_outside_the_arena():
    env, t = _walk("polygon", shape="two_compartments", batch=300, steps=300)  # 2.2 m x 1.1 m
    maps = rate_maps(t.position.reshape(-1, 2), t.position.reshape(-1, 2), env.bounds, 20)
    assert maps.bounds.width == pytest.approx(maps.bounds.height) == pytest.approx(2.2)  # square bins, 0.11 m
    y = maps.bin_centres[1]
    outside = np.abs(y) > 0.55
    assert outside.sum() == 10 and np.all(maps.occupancy[:, outside] == 0)
    assert np.all(np.isnan(maps.maps[:, :, outside])) and np.all(maps.occupancy[:, ~outside] > 0)
    # the wall at x = 0 is a bin edge at 20 bins, so no bin pools the two rooms
    assert np.any(np.isclose(np.arange(21) * maps.bin_size + maps.bounds.xmin, 0.0))
    assert env.walls.shape == (6, 2, 2)  # 4 boundary edges and the two halves of the dividing wall
    l_shape, walk = _walk("polygon", shape="l_shape", batch=300, steps=300)
    lm = rate_maps(walk.position.reshape(-1, 2), torch.ones(300 * 300, 1), l_shape.bounds, 20)
    xs, ys = lm.bin_centres
    missing = (xs[:, None] > 0) & (ys[None, :] > 0)
    assert np.all(lm.occupancy[missing] == 0) and np.all(lm.occupancy[~missing] > 0)


def test_custom_polygons_and_bad_polygons():
    from gridzoo.errors import ConfigError

    env, t = _walk("polygon", shape="custom", vertices=[[0, 0], [1, 0], [1, 1], [0, 1]], walls=[[[0.5, 0], [0.5, 0.6]]],
                   batch=100, steps=200)
    assert _crossings(torch.cat([t.start_position[:, None], t.position], 1).double().numpy(),
                      env.wall_segments.astype(np.float64)) == 0
    with pytest.raises(ConfigError, match="needs vertices"):
        gridzoo.build("environments", "polygon", shape="custom")


def test_a_cube_network_is_scored_end_to_end_with_verdicts_and_nulls(tmp_path):
    from gridzoo.evaluation import evaluate_model, load_run
    from gridzoo.training import train

    from conftest import tiny_config

    config = tiny_config(steps=20)
    config["environment"] = {"name": "cube", "width": 1.5, "depth": 1.5}
    config["encoder"] = {"name": "dos", "n_cells": 64, "sigma": 0.15}
    train(load_experiment(data=config), tmp_path / "run", live=False)
    experiment, model = load_run(tmp_path / "run")
    values = evaluate_model(experiment, model, samples=20_000, out=tmp_path / "eval", null_seeds=2).values
    for key in ("n_units_lattice", "n_units_local_only", "n_units_columnar", "n_units_fcc", "best_unit_null_local",
                "fraction_projected_over_null", "linear_error_cm"):
        assert key in values, key
    assert values["n_units_lattice"] + values["n_units_local_only"] + values["n_units_columnar"] <= values["n_active_units"]
    assert list((tmp_path / "eval").glob("volume_units_*.png"))
