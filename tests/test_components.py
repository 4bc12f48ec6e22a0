"""Each built-in component does what its paper says: shapes, determinism, arena, speed, codes, decoding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gridzoo
from gridzoo.errors import GridzooError, IncompatibleComponentsError


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def env(name: str = "box", **params):
    return gridzoo.build("environments", name, **params)


def encoder(name: str, environment=None, seed: int = 0, **params):
    return gridzoo.build("encoders", name, environment or env(), gen(seed), **params)


# --- environments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,params", [("box", {}), ("box", {"periodic": True}), ("circle", {}), ("box", {"velocity_input": "speed_turn"})])
def test_trajectory_shapes_and_determinism(name, params):
    e = env(name, **params)
    a = e.sample(7, 11, generator=gen(1))
    b = e.sample(7, 11, generator=gen(1))
    c = e.sample(7, 11, generator=gen(2))
    assert a.position.shape == (7, 11, 2) and a.heading.shape == (7, 11)
    assert a.velocity.shape == (7, 11, e.input_size) and a.start_position.shape == (7, 2)
    assert torch.equal(a.position, b.position) and torch.equal(a.velocity, b.velocity)
    assert not torch.equal(a.position, c.position)


@pytest.mark.parametrize("name,params", [("box", {}), ("box", {"width": 1.0, "height": 0.5}), ("circle", {"radius": 0.6})])
def test_every_position_stays_inside_the_arena(name, params):
    e = env(name, **params)
    traj = e.sample(500, 200, generator=gen(3))
    assert bool(e.contains(traj.position).all())
    assert bool(e.contains(traj.start_position).all())


def test_velocity_input_integrates_exactly_to_the_positions():
    traj = env().sample(64, 50, generator=gen(4))
    integrated = traj.start_position[:, None] + traj.velocity.cumsum(dim=1)
    assert torch.allclose(integrated, traj.position, atol=1e-5)


def test_mean_speed_matches_the_motion_model():
    # Rayleigh(0.13·2π) has mean 0.13·2π·√(π/2) ≈ 1.02 m/s; wall slow-downs lower it a little.
    e = env()
    traj = e.sample(1000, 100, generator=gen(5))
    speed = traj.velocity.norm(dim=-1) / e.config.dt
    assert 0.95 < float(speed.mean()) < 1.05
    free = env(periodic=True).sample(1000, 100, generator=gen(5))
    expected = 0.13 * 2 * math.pi * math.sqrt(math.pi / 2)
    assert float(free.velocity.norm(dim=-1).mean() / e.config.dt) == pytest.approx(expected, rel=0.02)


def test_periodic_box_wraps_positions_and_distances():
    e = env(width=1.0, periodic=True)
    traj = e.sample(200, 300, generator=gen(6))
    assert bool(e.contains(traj.position).all())
    # The input is the unwrapped step: summing it and wrapping gives the positions.
    unwrapped = traj.start_position[:, None] + traj.velocity.cumsum(1)
    wrapped = torch.remainder(unwrapped + 0.5, 1.0) - 0.5
    assert torch.allclose(e.difference(wrapped, traj.position), torch.zeros_like(wrapped), atol=1e-4)
    # Distances go the short way round.
    d = e.displacement(torch.tensor([[0.48, 0.0]]), torch.tensor([[-0.48, 0.0]]))
    assert torch.allclose(d.squeeze(), torch.tensor([-0.04, 0.0]), atol=1e-6)


def test_speed_turn_input_is_banino_style():
    e = env(velocity_input="speed_turn")
    traj = e.sample(16, 30, generator=gen(7))
    speed, sin, cos = traj.velocity.unbind(-1)
    assert torch.allclose(sin**2 + cos**2, torch.ones_like(sin), atol=1e-5)
    assert bool((speed >= 0).all())
    heading_change = torch.diff(torch.cat([traj.start_heading[:, None], traj.heading], 1), dim=1)
    assert torch.allclose(torch.sin(heading_change), sin, atol=1e-4)


def test_recorded_environment_reads_windows_of_a_file(tmp_path):
    source = env().sample(5, 60, generator=gen(8))
    positions = torch.cat([source.start_position[:, None], source.position], 1).numpy()
    path = tmp_path / "paths.npz"
    np.savez(path, positions=positions, dt=np.float64(0.02))
    rec = env("recorded", path=str(path))
    traj = rec.sample(32, 20, generator=gen(9))
    assert traj.position.shape == (32, 20, 2)
    assert torch.allclose(traj.start_position[:, None] + traj.velocity.cumsum(1), traj.position, atol=1e-5)
    flat = torch.as_tensor(positions).reshape(-1, 2)
    assert all(bool((flat - p).norm(dim=-1).min() < 1e-6) for p in traj.position.reshape(-1, 2)[:50])
    with pytest.raises(GridzooError, match="seq_len = 100 needs 101"):
        rec.sample(2, 100, generator=gen(0))


def test_recorded_environment_refuses_bad_files_without_unpickling(tmp_path):
    with pytest.raises(GridzooError, match="does not exist"):
        env("recorded", path=str(tmp_path / "missing.npz"))
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(GridzooError, match="without unpickling"):
        env("recorded", path=str(pickled))
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, positions=np.zeros((3, 4)))
    with pytest.raises(GridzooError, match=r"\(n_paths, n_steps >= 2, 2\)"):
        env("recorded", path=str(wrong))


# --- encoders ----------------------------------------------------------------------------------------

PLACE_CODES = ["gaussian", "dos", "dog", "sod"]


@pytest.mark.parametrize("name", PLACE_CODES + ["cartesian", "polar", "cartesian_highdim", "head_direction"])
def test_encoder_shapes_and_seeded_parameters(name):
    e = env()
    a, b, c = encoder(name, e, 0), encoder(name, e, 0), encoder(name, e, 1)
    pos = e.sample_positions(30, generator=gen(2)).reshape(5, 6, 2)
    heading = torch.rand(5, 6, generator=gen(3)) * 6.28
    code = a.encode(pos, heading)
    assert code.shape == (5, 6, a.size)
    assert torch.equal(code, b.encode(pos, heading))
    if a.state_dict():  # fixed random parameters are buffers, drawn from the seed
        assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
        assert any(not torch.equal(v, c.state_dict()[k]) for k, v in a.state_dict().items())
    assert torch.isfinite(a.loss(torch.randn_like(code), code))


@pytest.mark.parametrize("name", ["gaussian", "dos", "sod"])
def test_place_codes_decode_within_2cm_at_512_cells(name):
    e = env()
    pos = e.sample_positions(2000, generator=gen(4))
    fitted = encoder(name, e, n_cells=512, decoder="fit")
    code = fitted.encode(pos, torch.zeros(2000))
    logits = torch.log(code.clamp_min(1e-30))  # an ideal network's output: softmax(logits) == code
    error_fit = (fitted.decode(logits) - pos).norm(dim=-1).mean()
    assert float(error_fit) < 0.02
    # The papers' top-3 decoder has a floor set by the cell spacing (≈ 4 cm at 512 cells in 2.2 m).
    top_k = encoder(name, e, n_cells=512)
    error_top = (top_k.decode(logits) - pos).norm(dim=-1).mean()
    assert 0.02 < float(error_top) < 0.06


@pytest.mark.parametrize("name", ["dos", "dog"])
def test_difference_codes_have_min_zero_and_sum_one(name):
    e = env()
    code = encoder(name, e).encode(e.sample_positions(500, generator=gen(5)), torch.zeros(500))
    assert torch.allclose(code.min(-1).values, torch.zeros(500), atol=1e-7)
    assert torch.allclose(code.sum(-1), torch.ones(500), atol=1e-5)


def test_surround_convention_is_explicit():
    e = env()
    variance = encoder("dos", e, sigma=0.1, surround_scale=2.0, surround_convention="variance_ratio")
    width = encoder("dos", e, sigma=0.1, surround_scale=2.0, surround_convention="width_ratio")
    assert torch.allclose(variance.surround_sigma, torch.full((512,), 0.1 * math.sqrt(2)))
    assert torch.allclose(width.surround_sigma, torch.full((512,), 0.2))


def test_dos_is_sorschers_difference_of_softmaxes():
    e = env()
    enc = encoder("dos", e, n_cells=64, sigma=0.12)
    pos = e.sample_positions(10, generator=gen(6))
    d2 = ((pos[:, None] - enc.centres[None, :, 0]) ** 2).sum(-1)
    raw = torch.softmax(-d2 / (2 * 0.12**2), -1) - torch.softmax(-d2 / (2 * 2 * 0.12**2), -1)
    raw = raw - raw.min(-1, keepdim=True).values
    assert torch.allclose(enc.encode(pos, torch.zeros(10)), raw / raw.sum(-1, keepdim=True), atol=1e-6)


def test_heterogeneous_widths_and_multiple_fields():
    e = env()
    enc = encoder("gaussian", e, n_cells=200, sigma_range=(0.05, 0.2), fields_rate=1.5)
    assert float(enc.sigma.min()) >= 0.05 and float(enc.sigma.max()) <= 0.2 and enc.sigma.std() > 0.02
    fields = enc.field_mask.sum(1)
    assert float(fields.float().mean()) == pytest.approx(2.5, abs=0.4)  # 1 + Poisson(1.5)
    # A cell responds through its nearest field: its response peaks at every one of its fields.
    cell = int(torch.argmax(fields))
    for f in range(int(fields[cell])):
        centre = enc.centres[cell, f][None]
        assert float(enc.squared_distance(centre)[0, cell]) == pytest.approx(0.0, abs=1e-10)


def test_periodic_place_cells_use_wrapped_distances():
    e = env(width=1.0, periodic=True)
    enc = encoder("gaussian", e, n_cells=16)
    pos = torch.tensor([[0.499, 0.0]])
    moved = torch.tensor([[-0.499, 0.0]])  # 2 mm away across the seam
    assert torch.allclose(enc.encode(pos, torch.zeros(1)), enc.encode(moved, torch.zeros(1)), atol=1e-2)


def test_polar_works_in_all_four_quadrants():
    enc = encoder("polar")
    pos = torch.tensor([[0.5, 0.3], [-0.5, 0.3], [-0.5, -0.3], [0.5, -0.3]])
    code = enc.encode(pos, torch.zeros(4))
    assert torch.allclose(code[:, 1], torch.atan2(pos[:, 1], pos[:, 0]))
    assert torch.allclose(enc.decode(code), pos, atol=1e-6)
    # The polar loss is the squared Euclidean distance between the two points.
    other = pos.flip(0)
    loss = enc.loss(code, enc.encode(other, torch.zeros(4)))
    assert float(loss) == pytest.approx(float(((pos - other) ** 2).sum(-1).mean()), rel=1e-5)


def test_highdim_cartesian_decodes_by_pseudo_inverse():
    enc = encoder("cartesian_highdim", n_dims=64)
    pos = env().sample_positions(100, generator=gen(7))
    assert torch.allclose(enc.decode(enc.encode(pos, torch.zeros(100))), pos, atol=1e-4)


def test_head_direction_is_banino_von_mises():
    enc = encoder("head_direction")
    assert enc.size == 12 and float(enc.preferred.min()) > -math.pi and float(enc.preferred.max()) <= math.pi
    heading = torch.tensor([0.3, -2.0, 3.0])
    code = enc.encode(torch.zeros(3, 2), heading)
    expected = torch.softmax(20 * torch.cos(heading[:, None] - enc.preferred), -1)
    assert torch.allclose(code, expected)
    assert not enc.decodes_position


@pytest.mark.parametrize("name", ["cartesian", "polar", "cartesian_highdim"])
def test_cartesian_codes_refuse_a_periodic_arena(name):
    with pytest.raises(IncompatibleComponentsError, match="periodic"):
        encoder(name, env(periodic=True))
