"""Is there a lattice in 3-D? Orientational order of field centres, in the measures the literature uses.

Theory predicted that 3-D grid cells would tile space as a face-centred cubic (FCC) or hexagonal close-packed
(HCP) lattice (Mathis, Stemmler & Herz 2015); recordings in flying bats (Ginosar et al. 2021) and climbing rats
(Grieves et al. 2021) found fields with a characteristic spacing (local order) but no global lattice. Telling these
apart is what this module is for:

- **Local order**, per field: its nearest-neighbour distance (a lattice has one; regularity = the coefficient of
  variation over fields, as Ginosar et al.), the angles between its neighbours' bonds, and the bond-orientational
  order q6 of its first shell (Steinhardt, Nelson & Ronchetti 1983): 0.575 for FCC and 0.485 for HCP neighbour
  shells, about 0.3-0.4 for random points.
- **Global order**: Q6 and Q4 from the bonds of *all* fields averaged together before taking the norm. A single
  crystal keeps its local values (FCC: Q4 0.191, Q6 0.575; HCP: Q4 0.097, Q6 0.485), so Q4 tells FCC from HCP; a
  structure that is ordered locally but whose orientation drifts from place to place (a polycrystal, a warped
  lattice) loses its global Q6 while keeping its local q6. ``coherence`` = Q6 / mean local q6 (1 for a crystal).
- **Projection control**: columns (a 2-D grid extended along one axis) or layers are lattices in a 2-D projection
  of the rate map; the 2-D 60° grid score of each axis-averaged projection is reported beside the 3-D measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import sph_harm_y

from gridzoo.analysis.fields import neighbours

#: Steinhardt parameters of the ideal 12-neighbour shells.
IDEAL = {"fcc": (0.19094, 0.57452), "hcp": (0.09722, 0.48476)}
#: Thresholds (tests calibrate them on synthetic lattices and random points): global order needs Q6 over this...
GLOBAL_Q6_MIN = 0.35
#: ...and a lattice type is named when (Q4, Q6) lies within this distance of its ideal values.
MATCH_DISTANCE = 0.06
#: Local order: mean local q6 over this and a nearest-neighbour distance CV under SPACING_CV_MAX.
LOCAL_Q6_MIN = 0.45
SPACING_CV_MAX = 0.25


def _harmonics(vectors: np.ndarray, l: int) -> np.ndarray:
    """Y_lm(direction) for m = −l..l of each bond vector (k, 3): (k, 2l+1) complex."""
    r = np.linalg.norm(vectors, axis=1)
    polar = np.arccos(np.clip(vectors[:, 2] / np.where(r > 0, r, 1), -1, 1))
    azimuth = np.arctan2(vectors[:, 1], vectors[:, 0])
    return np.stack([sph_harm_y(l, m, polar, azimuth) for m in range(-l, l + 1)], axis=1)


def _norm(qlm: np.ndarray, l: int) -> float:
    return float(np.sqrt(4 * np.pi / (2 * l + 1) * np.sum(np.abs(qlm) ** 2)))


@dataclass
class Order3D:
    n_fields: int
    spacing: float  # median nearest-neighbour distance, metres
    spacing_cv: float  # nearest-neighbour distance regularity (0 for a lattice)
    local_q6: float  # mean over fields with >= 6 neighbours
    local_q4: float
    global_q6: float  # from all bonds together
    global_q4: float
    bond_angles: np.ndarray  # degrees, every angle between two bonds of one field's first shell

    @property
    def coherence(self) -> float:
        return self.global_q6 / self.local_q6 if self.local_q6 > 0 else float("nan")

    @property
    def local_order(self) -> bool:
        return self.n_fields >= 7 and self.local_q6 >= LOCAL_Q6_MIN and self.spacing_cv <= SPACING_CV_MAX

    @property
    def lattice(self) -> str:
        """'fcc' or 'hcp' when the whole arrangement is one such lattice, 'other' for global order of another kind,
        else 'none'."""
        if not np.isfinite(self.global_q6) or self.global_q6 < GLOBAL_Q6_MIN:
            return "none"
        point = np.array([self.global_q4, self.global_q6])
        kind, distance = min(((k, np.linalg.norm(point - np.array(v))) for k, v in IDEAL.items()), key=lambda kv: kv[1])
        return kind if distance <= MATCH_DISTANCE else "other"


def order_3d(centres: np.ndarray, reach: float = 1.2, min_neighbours: int = 6) -> Order3D:
    """Local and global orientational order of 3-D field centres (k, 3)."""
    k = len(centres)
    nan = float("nan")
    if k < 4:
        return Order3D(k, nan, nan, nan, nan, nan, nan, np.empty(0))
    nearest, shells = neighbours(centres, reach)
    spacing = float(np.median(nearest))
    cv = float(np.std(nearest) / np.mean(nearest))
    local6, local4, sum6, sum4, bonds, angles = [], [], 0, 0, 0, []
    for i, shell in enumerate(shells):
        if len(shell) == 0:
            continue
        vectors = centres[shell] - centres[i]
        y6, y4 = _harmonics(vectors, 6), _harmonics(vectors, 4)
        sum6, sum4, bonds = sum6 + y6.sum(0), sum4 + y4.sum(0), bonds + len(shell)
        if len(shell) >= min_neighbours:
            local6.append(_norm(y6.mean(0), 6))
            local4.append(_norm(y4.mean(0), 4))
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        cosines = np.clip(unit @ unit.T, -1, 1)[np.triu_indices(len(shell), 1)]
        angles.append(np.degrees(np.arccos(cosines)))
    return Order3D(
        k, spacing, cv,
        float(np.mean(local6)) if local6 else nan, float(np.mean(local4)) if local4 else nan,
        _norm(sum6 / bonds, 6) if bonds else nan, _norm(sum4 / bonds, 4) if bonds else nan,
        np.concatenate(angles) if angles else np.empty(0),
    )


# --- synthetic arrangements (tests, calibration, figures) -----------------------------------------------------


def fcc_points(spacing: float, extent: float) -> np.ndarray:
    """An FCC lattice with nearest-neighbour distance ``spacing``, filling a cube of side ``extent`` at 0."""
    a = spacing * np.sqrt(2)  # cubic cell edge
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) * a
    n = int(np.ceil(extent / a)) + 1
    cells = np.array([[i, j, k] for i in range(-n, n + 1) for j in range(-n, n + 1) for k in range(-n, n + 1)]) * a
    points = (cells[:, None, :] + basis[None]).reshape(-1, 3)
    return points[(np.abs(points) <= extent / 2).all(axis=1)]


def hcp_points(spacing: float, extent: float) -> np.ndarray:
    """An HCP lattice (ABAB stacking of hexagonal layers) with nearest-neighbour distance ``spacing``."""
    a, c = spacing, spacing * np.sqrt(8 / 3)
    n = int(np.ceil(extent / a)) + 2
    points = []
    for layer in range(-n, n + 1):
        shift = np.array([a / 2, a / (2 * np.sqrt(3))]) if layer % 2 else np.zeros(2)
        for i in range(-n, n + 1):
            for j in range(-n, n + 1):
                xy = np.array([a * (i + 0.5 * j), a * np.sqrt(3) / 2 * j]) + shift
                points.append([xy[0], xy[1], layer * c / 2])
    points = np.array(points)
    return points[(np.abs(points) <= extent / 2).all(axis=1)]


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def polycrystal(spacing: float, extent: float, domains: int, seed: int = 0) -> np.ndarray:
    """Locally a lattice, globally not: space split into ``domains`` Voronoi regions, each filled with an FCC
    lattice of its own random orientation; points closer than 0.8 spacing across a boundary are thinned."""
    rng = np.random.default_rng(seed)
    seeds = rng.uniform(-extent / 2, extent / 2, (domains, 3))
    big = fcc_points(spacing, extent * 1.8)
    kept = []
    for d in range(domains):
        points = big @ random_rotation(rng).T + rng.uniform(0, spacing, 3)
        inside = (np.abs(points) <= extent / 2).all(axis=1)
        owner = np.argmin(((points[:, None, :] - seeds[None]) ** 2).sum(-1), axis=1)
        kept.append(points[inside & (owner == d)])
    points = np.concatenate(kept)
    keep = np.ones(len(points), bool)
    for i in range(len(points)):
        if keep[i]:
            close = np.linalg.norm(points[i + 1:] - points[i], axis=1) < 0.8 * spacing
            keep[i + 1:][close] = False
    return points[keep]
