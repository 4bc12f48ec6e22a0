"""Figures of an evaluation (matplotlib, drawn off-screen): best units, score distributions, periods."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from gridzoo.analysis.gridscore import GridScores
from gridzoo.analysis.ratemaps import RateMaps
from gridzoo.io import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display needed; safe to call repeatedly
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def top_units(
    maps: RateMaps, scores: GridScores, path: Path, count: int = 8, title: str = "", among: np.ndarray | None = None,
    fields: Mapping[int, np.ndarray] | None = None, walls: np.ndarray | None = None,
) -> Path:
    """The ``count`` best units by 60° score (of those in ``among``, e.g. the active ones): rate map (top, with
    its field centres marked when ``fields`` gives them and the arena's ``walls`` (S, 2, 2) drawn in black;
    unvisited bins are left blank) above the autocorrelogram with the ring that gave the best score (bottom)."""
    plt = _pyplot()
    candidates = np.flatnonzero(among) if among is not None else np.arange(len(scores.score_60))
    if len(candidates) == 0:
        candidates = np.arange(len(scores.score_60))
    order = candidates[np.argsort(-scores.score_60[candidates])][:count]
    fig, axes = plt.subplots(2, len(order), figsize=(2.1 * len(order), 4.6), squeeze=False)
    b = maps.bounds
    n = maps.n_bins
    for col, unit in enumerate(order):
        top, bottom = axes[0, col], axes[1, col]
        # maps are [x, y]: transpose so that x runs left to right and y bottom to top.
        top.imshow(maps.maps[unit].T, origin="lower", cmap="jet", extent=(b.xmin, b.xmax, b.ymin, b.ymax))
        if walls is not None and len(walls):
            for (x0, y0), (x1, y1) in np.asarray(walls):
                top.plot([x0, x1], [y0, y1], color="black", lw=1.5, solid_capstyle="butt")
            top.set_xlim(b.xmin, b.xmax)
            top.set_ylim(b.ymin, b.ymax)
        label = f"unit {unit}\nscore {scores.score_60[unit]:.2f}"
        if fields is not None and unit in fields:
            centres = fields[unit]
            top.plot(centres[:, 0], centres[:, 1], "w+", ms=5, mew=1)
            label += f", {len(centres)} fields"
        top.set_title(label, fontsize=8)
        sac = scores.sac[unit]
        lag = (n - 1) * maps.bin_size
        bottom.imshow(sac.T, origin="lower", cmap="jet", vmin=-1, vmax=1, extent=(-lag, lag, -lag, lag))
        for radius in scores.ring_60[unit]:
            bottom.add_patch(plt.Circle((0, 0), radius * n * maps.bin_size, fill=False, color="white", lw=1))
        for ax in (top, bottom):
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("rate map", fontsize=8)
    axes[1, 0].set_ylabel("autocorrelogram\n(best 60° ring)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def score_survival(
    scores: np.ndarray,
    nulls: Mapping[str, np.ndarray],
    thresholds: Sequence[float],
    null_threshold: float | None,
    path: Path,
    variant: str = "",
    best_unit_null: float | None = None,
) -> Path:
    """Fraction of active units whose 60° score exceeds s, for the trained network and each per-unit null, with the
    fixed thresholds, the per-unit null threshold and the best-unit null."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))

    def survival(values: np.ndarray, label: str, **style) -> None:
        s = np.sort(values)
        ax.step(s, 1 - np.arange(len(s)) / len(s), where="post", label=f"{label} (n={len(s)})", **style)

    survival(scores, "trained", color="black", lw=2)
    for (name, values), color in zip(nulls.items(), ("tab:blue", "tab:orange", "tab:purple")):
        survival(values, f"null: {name}", color=color)
    for t in thresholds:
        ax.axvline(t, color="grey", ls=":", lw=1)
    if null_threshold is not None:
        ax.axvline(null_threshold, color="red", ls="--", lw=1, label=f"unit null 95th pct ({null_threshold:.2f})")
    if best_unit_null is not None and np.isfinite(best_unit_null):
        ax.axvline(best_unit_null, color="darkred", ls="-.", lw=1, label=f"best-unit null ({best_unit_null:.2f})")
    ax.set_yscale("log")
    ax.set_xlabel(f"60° grid score ({variant})" if variant else "60° grid score")
    ax.set_ylabel("fraction of active units with score > s")
    ax.legend(fontsize=7)
    return _save(fig, path)


def period_histogram(periods: np.ndarray, module_periods: np.ndarray, path: Path, stable: bool = True) -> Path:
    """Grid periods (metres) of the grid-like units, with each module's median period marked when the modules
    were stable across independent analyses (else the distribution is shown as one)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    finite = periods[np.isfinite(periods)]
    if len(finite):
        ax.hist(finite, bins=min(30, max(5, len(finite) // 3)), color="tab:green")
    for i, p in enumerate(module_periods):
        ax.axvline(p, color="black", ls="--", lw=1, label="module medians" if i == 0 else None)
    ax.set_xlabel("grid period (m)")
    ax.set_ylabel("grid-like units")
    modules = f"{len(module_periods)} stable module(s)" if stable else "modules not stable: one distribution"
    ax.set_title(f"{len(finite)} grid-like units, {modules}", fontsize=9)
    if len(module_periods):
        ax.legend(fontsize=7)
    return _save(fig, path)


def volume_units(maps: RateMaps, units: Sequence[int], orders: Sequence, path: Path, title: str = "") -> Path:
    """3-D units, one row each: the rate map's maximum projections along z, y and x with the field centres, a
    middle z-slice, the field centres in 3-D, and the autocorrelogram's projection along z."""
    from gridzoo.analysis.autocorrelation import autocorrelogram_nd
    from gridzoo.analysis.fields import find_fields

    plt = _pyplot()
    units = list(units)
    fig = plt.figure(figsize=(13.5, 2.4 * len(units)))
    b = maps.bounds
    (x0, x1), (y0, y1), (z0, z1) = zip(b.low, b.high)
    sacs = autocorrelogram_nd(maps.maps[units]) if units else []
    for row, unit in enumerate(units):
        volume = np.nan_to_num(maps.maps[unit], nan=np.nanmin(maps.maps[unit]))
        centres = find_fields(maps.maps[unit], maps.bin_centres).centres
        panels = [
            (volume.max(axis=2).T, (x0, x1, y0, y1), (0, 1), "max over z (x, y)"),
            (volume.max(axis=1).T, (x0, x1, z0, z1), (0, 2), "max over y (x, z)"),
            (volume.max(axis=0).T, (y0, y1, z0, z1), (1, 2), "max over x (y, z)"),
            (volume[:, :, volume.shape[2] // 2].T, (x0, x1, y0, y1), None, "middle z slice"),
        ]
        for col, (image, extent, axes, label) in enumerate(panels):
            ax = fig.add_subplot(len(units), 6, row * 6 + col + 1)
            ax.imshow(image, origin="lower", cmap="jet", extent=extent)
            if axes is not None and len(centres):
                ax.plot(centres[:, axes[0]], centres[:, axes[1]], "w+", ms=4)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(label, fontsize=7)
        ax = fig.add_subplot(len(units), 6, row * 6 + 5, projection="3d")
        if len(centres):
            ax.scatter(centres[:, 0], centres[:, 1], centres[:, 2], s=12, c=centres[:, 2], cmap="viridis")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_zlim(z0, z1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_zticks([])
        o = orders[row]
        ax.set_title(f"unit {unit}: {o.n_fields} fields\nq6 local {o.local_q6:.2f}, global {o.global_q6:.2f}", fontsize=7)
        ax = fig.add_subplot(len(units), 6, row * 6 + 6)
        ax.imshow(sacs[row].max(axis=2).T, origin="lower", cmap="jet", vmin=-1, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0:
            ax.set_title("autocorrelogram, max over z", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def barcode(lifetimes: Sequence[np.ndarray], null_longest: Sequence[float], path: Path, title: str = "") -> Path:
    """The longest bars of H1 and H2 (lifetimes, longest first) beside the time-shuffle null's longest bar."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 2.8))
    for ax, dim in zip(axes, (1, 2)):
        bars = np.asarray(lifetimes[dim])[:10] if len(lifetimes) > dim else np.empty(0)
        ax.barh(np.arange(len(bars))[::-1], bars, color="#3b6fb6")
        ax.axvline(null_longest[dim], color="#c0392b", ls="--", lw=1, label="shuffled: longest")
        ax.axvline(2 * null_longest[dim], color="#c0392b", ls=":", lw=1, label="2 × that (the margin)")
        ax.set_yticks([])
        ax.set_xlabel("bar lifetime")
        ax.set_title(f"H{dim}: the {len(bars)} longest bars", fontsize=9)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title or "Persistent homology of the population activity", fontsize=10)
    return _save(fig, path)
