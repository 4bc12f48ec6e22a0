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
    maps: RateMaps, scores: GridScores, path: Path, count: int = 8, title: str = "", among: np.ndarray | None = None
) -> Path:
    """The ``count`` best units by 60° score (of those in ``among``, e.g. the active ones): rate map (top) above
    the autocorrelogram with the ring that gave the best score (bottom)."""
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
        top.set_title(f"unit {unit}\nscore {scores.score_60[unit]:.2f}", fontsize=8)
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
) -> Path:
    """Fraction of units whose 60° score exceeds s, for the trained network and each null, with thresholds."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))

    def survival(values: np.ndarray, label: str, **style) -> None:
        s = np.sort(values)
        ax.step(s, 1 - np.arange(len(s)) / len(s), where="post", label=f"{label} (n={len(s)})", **style)

    survival(scores, "trained", color="black", lw=2)
    for (name, values), color in zip(nulls.items(), ("tab:blue", "tab:orange")):
        survival(values, name, color=color)
    for t in thresholds:
        ax.axvline(t, color="grey", ls=":", lw=1)
    if null_threshold is not None:
        ax.axvline(null_threshold, color="red", ls="--", lw=1, label=f"null 95th pct ({null_threshold:.2f})")
    ax.set_yscale("log")
    ax.set_xlabel(f"60° grid score ({variant})" if variant else "60° grid score")
    ax.set_ylabel("fraction of units with score > s")
    ax.legend(fontsize=7)
    return _save(fig, path)


def period_histogram(periods: np.ndarray, module_periods: np.ndarray, path: Path) -> Path:
    """Grid periods (metres) of the grid-like units, with each module's median period marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    finite = periods[np.isfinite(periods)]
    if len(finite):
        ax.hist(finite, bins=min(30, max(5, len(finite) // 3)), color="tab:green")
    for i, p in enumerate(module_periods):
        ax.axvline(p, color="black", ls="--", lw=1, label="module medians" if i == 0 else None)
    ax.set_xlabel("grid period (m)")
    ax.set_ylabel("grid-like units")
    ax.set_title(f"{len(finite)} grid-like units, {len(module_periods)} module(s)", fontsize=9)
    if len(module_periods):
        ax.legend(fontsize=7)
    return _save(fig, path)
