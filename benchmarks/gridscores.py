"""Scoring 4096 units: gridzoo's scorer against the reference GridScorer (google-deepmind/grid-cells scores.py,
run unmodified), side by side in one process, on one thread.

The reference scores one unit at a time (``get_scores``); it is timed on a subset of the units and its time per
unit scaled to 4096 (at 44 bins it takes minutes). gridzoo scores all 4096. Rounds are interleaved (reference,
gridzoo, reference, ...) and the machine's load is recorded with every round; the minimum and the median of the
rounds are reported. Both scorers are checked to agree on the subset (the reference convention: mean-difference
score, NaN as zero).

    python benchmarks/gridscores.py --deepmind ../grid-cells [--rounds 5] [--bins 20 44]
    python benchmarks/gridscores.py --smoke     # tiny sizes; without --deepmind, against the committed reference
                                                # cases (tests/reference/gridscore_cases.npz): what CI runs

Goal (issue #14): >= 50x the reference at 20 and 44 bins, 4096 units, 1 thread.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread, set before numpy starts

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import references  # noqa: E402
from gridzoo.analysis.gridscore import grid_scores  # noqa: E402

UNITS = 4096


def maps(n_bins: int, units: int, seed: int = 0) -> np.ndarray:
    """Smooth random maps with some lattices among them, NaN in a few unvisited corner bins."""
    rng = np.random.default_rng(seed)
    c = (np.arange(n_bins) + 0.5) / n_bins * 2.2 - 1.1
    x, y = np.meshgrid(c, c, indexing="ij")
    out = np.empty((units, n_bins, n_bins))
    for u in range(units):
        period, phase = rng.uniform(0.3, 0.9), rng.uniform(0, np.pi, 3)
        out[u] = sum(np.cos(4 * np.pi / (np.sqrt(3) * period) * (x * np.cos(a) + y * np.sin(a)) + p)
                     for a, p in zip(rng.uniform(0, np.pi, 3) if u % 2 else np.pi / 6 + np.arange(3) * np.pi / 3, phase))
        out[u] += rng.normal(0, 0.3, (n_bins, n_bins))
    out[:, :2, :2] = np.nan
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deepmind", help="folder of google-deepmind/grid-cells")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bins", type=int, nargs="+", default=[20, 44])
    parser.add_argument("--subset", type=int, default=0, help="reference units per round (default: 64 at 44 bins, 256 at 20)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round: both sides run and agree")
    args = parser.parse_args()
    torch.set_num_threads(1)
    global UNITS
    if args.smoke:
        UNITS, args.rounds, args.bins, args.subset = 32, 1, [20], 8
        if not (args.deepmind or os.environ.get(references.ENV["deepmind"])):
            smoke_against_committed_cases()
            return
    path = references.folder("deepmind", args.deepmind)
    for n_bins in args.bins:
        scorer = references.deepmind_scorer(path, n_bins)
        data = maps(n_bins, UNITS)
        subset = args.subset or (64 if n_bins > 30 else 256)
        grid_scores(data[:8])  # build the per-size operators once (cached for the process), as any caller would
        ref_times, ours_times, loads = [], [], []
        for r in range(args.rounds):
            loads.append(os.getloadavg()[0])
            chunk = data[(r * subset) % UNITS:(r * subset) % UNITS + subset]
            start = time.perf_counter()
            reference = [scorer.get_scores(m) for m in chunk]
            ref_times.append((time.perf_counter() - start) / subset * UNITS)
            start = time.perf_counter()
            ours = grid_scores(data)
            ours_times.append(time.perf_counter() - start)
            lo = (r * subset) % UNITS
            ref60 = np.array([x[0] for x in reference])
            assert np.allclose(ours.score_60[lo:lo + subset], ref60, atol=1e-6), "the scorers disagree"
        ratio_min = min(ref_times) / min(ours_times)
        ratio_median = statistics.median(ref_times) / statistics.median(ours_times)
        print(f"{n_bins} bins, {UNITS} units, 1 thread: reference {min(ref_times):.1f} s (median "
              f"{statistics.median(ref_times):.1f}; {subset} units timed per round), gridzoo {min(ours_times):.2f} s "
              f"(median {statistics.median(ours_times):.2f}): {ratio_min:.0f}x by minima, {ratio_median:.0f}x by "
              f"medians; load {min(loads):.2f}-{max(loads):.2f}; scores agree to 1e-6")
        print(f"  rounds (s): reference {' '.join(f'{t:.2f}' for t in ref_times)}; gridzoo "
              f"{' '.join(f'{t:.3f}' for t in ours_times)}")


def smoke_against_committed_cases() -> None:
    """Without the reference code: gridzoo's scorer on the rate maps whose reference scores are committed."""
    from pathlib import Path

    cases = np.load(Path(__file__).resolve().parents[1] / "tests" / "reference" / "gridscore_cases.npz")
    for n in (20, 32):
        start = time.perf_counter()
        ours = grid_scores(cases[f"n{n}_rate_maps"])
        seconds = time.perf_counter() - start
        reference = cases[f"n{n}_score_60"]
        ok = cases[f"n{n}_kind"] != "constant"  # the reference's score of a constant map is rounding noise
        assert np.allclose(ours.score_60[ok], reference[ok], atol=1e-6), "the scorer disagrees with the cases"
        print(f"smoke, {n} bins: {ok.sum()} committed reference cases scored in {seconds:.3f} s; agree to 1e-6")


if __name__ == "__main__":
    main()
