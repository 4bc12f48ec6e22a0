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

Fixed thresholds on these measures call random non-overlapping fields "local order" in most volumes (fields that
cannot overlap are regular by themselves), and a 2-D lattice extruded along an axis scores higher than anything.
So a unit is judged by :func:`unit_order`:

- **columns or layers** first: a map that barely varies along one axis (its average along that axis keeps
  ``COLUMNAR_MIN`` or more of its variance) is a 2-D pattern, whatever its 3-D scores; it is never a 3-D lattice;
- then against an **arrangement null**: random arrangements of the unit's number of fields in the same volume, no
  two closer than its exclusion radius (its closest pair, capped where random packing cannot reach that density),
  on two statistics: local (mean local q6 − spacing CV) and global (Q6), each at 0.025 (Bonferroni: random fields
  get any verdict but "none" at most 5 % of the time). A unit with at least ``MIN_FIELDS`` fields is a **lattice**
  when its global p < 0.025 (named FCC, HCP or "other" by its (Q4, Q6)), and has **local order only** when its
  local p < 0.025 and its global p is not.

A lattice with independent jitter keeps its global orientation, so the global statistic, which averages every
bond, detects it before the local one does (a 25 %-of-spacing jittered FCC is still a lattice to this test);
"local order without a lattice" is order whose orientation drifts from place to place, as in a polycrystal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import sph_harm_y

from gridzoo.analysis.fields import MIN_FIELDS, find_fields, hard_core_arrangement, neighbours

#: Steinhardt parameters of the ideal 12-neighbour shells.
IDEAL = {"fcc": (0.19094, 0.57452), "hcp": (0.09722, 0.48476)}
#: Thresholds (tests calibrate them on synthetic lattices and random points): global order needs Q6 over this...
GLOBAL_Q6_MIN = 0.35
#: ...and a lattice type is named when (Q4, Q6) lies within this distance of its ideal values.
MATCH_DISTANCE = 0.06
#: The fixed-threshold local-order criterion (kept for comparison: it has no null): local q6 and spacing CV.
LOCAL_Q6_MIN = 0.45
SPACING_CV_MAX = 0.25
#: A map whose average along one axis keeps this share of its variance is columns or layers, not a 3-D pattern.
COLUMNAR_MIN = 0.5
#: Arrangement null: arrangements per unit, the significance level, and the densest random packing it asks for
#: (random sequential adsorption of hard spheres jams near 0.38; 0.25 fills quickly).
NULL_ARRANGEMENTS_3D = 99
LATTICE_ALPHA = 0.05
PACKING_MAX = 0.25


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
    columnarity: float = float("nan")  # largest share of the map's variance kept by its average along one axis
    p_local: float = float("nan")  # arrangement null (see unit_order); NaN until computed
    p_global: float = float("nan")

    @property
    def statistics(self) -> tuple[float, float]:
        """(local, global) statistics the arrangement null tests: mean local q6 − spacing CV, and global Q6."""
        return self.local_q6 - self.spacing_cv, self.global_q6

    @property
    def columnar(self) -> bool:
        return bool(np.isfinite(self.columnarity) and self.columnarity >= COLUMNAR_MIN)

    @property
    def verdict(self) -> str:
        """'columnar', 'lattice', 'local' (local order only) or 'none', by the arrangement null."""
        if self.columnar:
            return "columnar"
        if self.n_fields < MIN_FIELDS:
            return "none"
        # Two statistics, each tested at alpha / 2 (Bonferroni): random fields get any verdict but "none" at <= 5 %.
        if np.isfinite(self.p_global) and self.p_global < LATTICE_ALPHA / 2:
            return "lattice"
        if np.isfinite(self.p_local) and self.p_local < LATTICE_ALPHA / 2:
            return "local"
        return "none"

    @property
    def lattice_type(self) -> str:
        """For a unit the null calls a lattice: 'fcc' or 'hcp' when (Q4, Q6) matches one, else 'other'; else ''."""
        if self.verdict != "lattice":
            return ""
        point = np.array([self.global_q4, self.global_q6])
        kind, distance = min(((k, np.linalg.norm(point - np.array(v))) for k, v in IDEAL.items()), key=lambda kv: kv[1])
        return kind if distance <= MATCH_DISTANCE else "other"

    @property
    def coherence(self) -> float:
        return self.global_q6 / self.local_q6 if self.local_q6 > 0 else float("nan")

    @property
    def local_order(self) -> bool:
        """The fixed-threshold criterion (no null; kept for comparison)."""
        return self.n_fields >= 7 and self.local_q6 >= LOCAL_Q6_MIN and self.spacing_cv <= SPACING_CV_MAX

    @property
    def lattice(self) -> str:
        """Fixed thresholds (no null; kept for comparison): 'fcc' or 'hcp' when the whole arrangement is one such
        lattice, 'other' for global order of another kind, else 'none'."""
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


def columnarity(rate_map: np.ndarray) -> float:
    """The largest share of a 3-D map's variance (over visited voxels) kept by its average along one axis: 1 for
    columns along that axis or layers across it, small for a pattern that varies in all three directions."""
    visited = np.isfinite(rate_map)
    if visited.sum() < 2:
        return float("nan")
    total = float(np.nanvar(rate_map))
    if total <= 0:
        return float("nan")
    kept = []
    for axis in range(3):
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(rate_map, axis=axis, keepdims=True)
        kept.append(float(np.nanvar(np.broadcast_to(mean, rate_map.shape)[visited])) / total)
    return max(kept)


def exclusion_radius(centres: np.ndarray, volume: float) -> float:
    """The null's exclusion radius: the closest pair of ``centres``, capped at the distance that packs their
    number into ``volume`` at ``PACKING_MAX`` (a lattice's own closest pair is a density random packing cannot
    reach)."""
    closest = float(np.min(cKDTree(centres).query(centres, k=2)[0][:, 1]))
    cap = 2 * (PACKING_MAX * volume / len(centres) / (4 / 3 * np.pi)) ** (1 / 3)
    return min(closest, cap)


def arrangement_null_3d(centres: np.ndarray, low, high, *, arrangements: int = NULL_ARRANGEMENTS_3D,
                        seed: int = 0) -> tuple[float, float]:
    """(p_local, p_global) of 3-D field centres under random hard-core arrangements of the same count in the box
    [low, high]: (1 + arrangements scoring at least as high) / (1 + arrangements), per statistic."""
    observed = order_3d(centres, min_neighbours=4)
    local, glob = observed.statistics
    if len(centres) < 4 or not (np.isfinite(local) and np.isfinite(glob)):
        return float("nan"), float("nan")
    low, high = np.asarray(low, float), np.asarray(high, float)
    radius = exclusion_radius(centres, float(np.prod(high - low)))
    rng = np.random.default_rng(seed)
    hits, done = np.zeros(2), 0
    for _ in range(arrangements):
        points = hard_core_arrangement(len(centres), radius, low, high, rng)
        if points is None:
            continue
        null_local, null_global = order_3d(points, min_neighbours=4).statistics
        done += 1
        hits += [null_local >= local - 1e-12, null_global >= glob - 1e-12]
    if not done:
        return float("nan"), float("nan")
    p = (1 + hits) / (1 + done)
    return float(p[0]), float(p[1])


def unit_order(rate_map: np.ndarray, bin_centres, *, threshold: float = 0.3, min_bins: int = 4,
               arrangements: int = NULL_ARRANGEMENTS_3D, seed: int = 0) -> Order3D:
    """One unit's 3-D verdict: its fields' order, its columnarity and (for a non-columnar unit with at least
    ``MIN_FIELDS`` fields) its arrangement-null p-values; the box is the rate map's extent."""
    centres = find_fields(rate_map, bin_centres, threshold, min_bins).centres
    order = order_3d(centres, min_neighbours=4)
    order.columnarity = columnarity(rate_map)
    if order.n_fields >= MIN_FIELDS and not order.columnar:
        half = [(c[1] - c[0]) / 2 for c in bin_centres]
        low = [c[0] - h for c, h in zip(bin_centres, half)]
        high = [c[-1] + h for c, h in zip(bin_centres, half)]
        order.p_local, order.p_global = arrangement_null_3d(centres, low, high, arrangements=arrangements, seed=seed)
    return order


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


def jittered(points: np.ndarray, fraction: float, spacing: float, seed: int = 0) -> np.ndarray:
    """``points`` each moved by a Gaussian displacement of RMS length ``fraction`` × ``spacing``."""
    rng = np.random.default_rng(seed)
    return points + rng.normal(0, fraction * spacing / np.sqrt(3), points.shape)


def rotated_crystal(kind: str, spacing: float, extent: float, seed: int = 0) -> np.ndarray:
    """An FCC or HCP single crystal of random orientation and offset filling a cube of side ``extent`` at 0 (an
    axis-aligned one is a special case: its rows are columns)."""
    rng = np.random.default_rng(seed)
    big = (fcc_points if kind == "fcc" else hcp_points)(spacing, extent * 1.8)
    points = big @ random_rotation(rng).T + rng.uniform(0, spacing, 3)
    return points[(np.abs(points) <= extent / 2).all(axis=1)]


def field_map(centres: np.ndarray, extent: float, bins: int, width: float) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """A synthetic 3-D rate map: Gaussian fields of std ``width`` at ``centres`` (k, 3; or (k, 2) for columns
    along the third axis), on a ``bins``³ grid over a cube of side ``extent`` at 0; and its bin centres."""
    axis = (np.arange(bins) + 0.5) / bins * extent - extent / 2
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)
    dims = centres.shape[1]
    d2 = ((grid[..., None, :dims] - centres[None, None, None]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * width**2)).max(-1), (axis, axis, axis)
