"""Uncertainty for what a study reports: intervals on fractions, a fitted line with its interval, and a
permutation test with an effect size.

Every fraction a report prints comes with a 95 % interval: Wilson's score interval (good coverage at small n and
at 0 or 1) by default, Clopper-Pearson's exact interval as the conservative alternative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from scipy import stats

Method = Literal["wilson", "clopper_pearson"]


@dataclass(frozen=True)
class Proportion:
    successes: int
    trials: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.successes / self.trials if self.trials else math.nan

    def __str__(self) -> str:
        if not self.trials:
            return "n/a (0 runs)"
        return f"{self.successes}/{self.trials} = {self.value:.2f} [{self.low:.2f}, {self.high:.2f}]"


def proportion(successes: int, trials: int, confidence: float = 0.95, method: Method = "wilson") -> Proportion:
    """A fraction with its ``confidence`` interval (NaN bounds for zero trials)."""
    if trials == 0:
        return Proportion(0, 0, math.nan, math.nan)
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, trials], got {successes}/{trials}")
    alpha = 1 - confidence
    if method == "clopper_pearson":
        low = 0.0 if successes == 0 else stats.beta.ppf(alpha / 2, successes, trials - successes + 1)
        high = 1.0 if successes == trials else stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes)
        return Proportion(successes, trials, float(low), float(high))
    z = stats.norm.ppf(1 - alpha / 2)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    # At 0 and n successes the bounds are exactly 0 and 1; floating point leaves 1e-17 residues otherwise.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Proportion(successes, trials, low, high)


@dataclass(frozen=True)
class LinearFit:
    slope: float
    intercept: float
    slope_low: float
    slope_high: float
    r2: float
    n: int


def linear_fit(x: Sequence[float], y: Sequence[float], confidence: float = 0.95) -> LinearFit:
    """Least-squares line y = a·x + b with the ``confidence`` interval of the slope (t distribution)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        return LinearFit(math.nan, math.nan, math.nan, math.nan, math.nan, n)
    result = stats.linregress(x, y)
    t = stats.t.ppf(0.5 + confidence / 2, n - 2)
    return LinearFit(float(result.slope), float(result.intercept), float(result.slope - t * result.stderr),
                     float(result.slope + t * result.stderr), float(result.rvalue**2), n)


@dataclass(frozen=True)
class Comparison:
    """Two groups compared: difference of means with a bootstrap interval, a permutation p-value, Cohen's d."""

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float  # mean_b − mean_a
    low: float
    high: float
    p_value: float
    cohens_d: float
    interval: str = "bootstrap"  # how low/high were found: "bootstrap" or "t" (few pairs)


def compare_means(a: Sequence[float], b: Sequence[float], *, permutations: int = 10_000, seed: int = 0,
                  confidence: float = 0.95) -> Comparison:
    """Mean of ``b`` minus mean of ``a``: a two-sided permutation test (exact for small groups, or
    ``permutations`` random relabellings), a percentile bootstrap interval, and Cohen's d (pooled SD)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        nan = math.nan
        return Comparison(len(a), len(b), float(np.mean(a)) if len(a) else nan, float(np.mean(b)) if len(b) else nan,
                          nan, nan, nan, nan, nan)
    rng = np.random.default_rng(seed)
    observed = b.mean() - a.mean()
    pooled = np.concatenate([a, b])
    count = 0
    for _ in range(permutations):
        rng.shuffle(pooled)
        diff = pooled[len(a):].mean() - pooled[:len(a)].mean()
        count += abs(diff) >= abs(observed) - 1e-12
    p = (count + 1) / (permutations + 1)
    boot = [rng.choice(b, len(b)).mean() - rng.choice(a, len(a)).mean() for _ in range(2000)]
    low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2])
    sd = math.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2))
    d = observed / sd if sd > 0 else math.nan
    return Comparison(len(a), len(b), float(a.mean()), float(b.mean()), float(observed), float(low), float(high),
                      float(p), float(d))


#: Below this many pairs a bootstrap interval has no coverage to speak of (3 pairs give 10 distinct resamples):
#: the interval is Student's t instead.
MIN_BOOTSTRAP_PAIRS = 8


def paired_comparison(a: Sequence[float], b: Sequence[float], *, seed: int = 0, confidence: float = 0.95) -> Comparison:
    """``b − a`` for paired samples (same seeds): a sign-flip permutation test on the differences (exact up to 2^16
    flips), an interval on the mean difference (Student's t below :data:`MIN_BOOTSTRAP_PAIRS` pairs, a percentile
    bootstrap from there on), and d = mean / SD of the differences."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    diff = (b - a)[keep]
    n = len(diff)
    if n < 2:
        return Comparison(n, n, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
    observed = diff.mean()
    if n <= 16:
        signs = np.array(list(np.ndindex(*(2,) * n))) * 2 - 1
    else:
        signs = np.random.default_rng(seed).choice([-1, 1], size=(20_000, n))
    null = (signs * diff).mean(axis=1)
    p = float(np.mean(np.abs(null) >= abs(observed) - 1e-12))
    sd = diff.std(ddof=1)
    if n < MIN_BOOTSTRAP_PAIRS:
        from scipy import stats

        half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
        low, high, method = observed - half, observed + half, "t"
    else:
        rng = np.random.default_rng(seed)
        boot = [rng.choice(diff, n).mean() for _ in range(2000)]
        low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2])
        method = "bootstrap"
    return Comparison(n, n, float(a[keep].mean()), float(b[keep].mean()), float(observed), float(low), float(high),
                      p, float(observed / sd) if sd > 0 else math.nan, method)
