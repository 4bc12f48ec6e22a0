"""Sweep specs: a base experiment plus axes over any dotted config path, expanded into validated runs.

    name = "nfl-mini"
    base = "nfl2022-dos-mini"             # a preset name, or an experiment TOML (relative to this file)
    seeds = [0, 1, 2]                     # every run is repeated once per seed (training.seed), unless its grid
                                          # lists "training.seed" as an axis of its own
    samples = 50000                       # evaluation positions per run
    records = "nfl-mini"                  # optional: keep each finished run's record here (relative to this
                                          # file; commit it); a recorded run is never trained again
    threads = 1                           # optional: torch threads of every run, whatever executor or machine
                                          # runs it (a run is bit-reproducible only at its thread count)
    order = "by_seed"                     # optional: run seed 0 of every arm first, then seed 1... (default
                                          # "listed": grid by grid), so a study stopped part-way holds whole pairs

    [set]                                 # applied to every run
    "training.steps" = 2000

    [[grid]]                              # the product of its axes; several [[grid]] tables are unioned
    "architecture.name" = ["rnn", "lstm", "gru"]
    "encoder" = [{name = "cartesian"}, {name = "dos", n_cells = 256}]   # a whole section per value

    [[random]]                            # random draws
    count = 4
    seed = 0
    [random.axes]
    "encoder.sigma" = {uniform = [0.08, 0.16]}

An axis on a section (``"encoder"``) replaces the whole section, so components with different parameters can
share a sweep; an axis on a leaf (``"encoder.sigma"``) sets one value. Every run's config is validated before
anything runs; identical configs are run once. A run's id is a hash of its resolved config.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from gridzoo.component import StrictConfig

from gridzoo.config import Experiment, bulleted, read_toml, resolve_experiment, set_path
from gridzoo.errors import ConfigError, GridzooError
from gridzoo.presets import preset_names, preset_path


class Distribution(StrictConfig):
    """One random axis: exactly one of uniform, loguniform, randint (inclusive), choice."""

    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None
    randint: tuple[int, int] | None = None
    choice: list[Any] | None = None

    @model_validator(mode="after")
    def _one(self) -> "Distribution":
        given = [k for k in ("uniform", "loguniform", "randint", "choice") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of uniform, loguniform, randint, choice (got {given or 'none'})")
        for kind in ("uniform", "loguniform", "randint"):
            bounds = getattr(self, kind)
            if bounds is not None and not (math.isfinite(bounds[0]) and math.isfinite(bounds[1])
                                           and bounds[0] <= bounds[1]):
                raise ValueError(f"{kind} = {list(bounds)}: give [low, high] with low <= high, both finite")
        if self.loguniform is not None and self.loguniform[0] <= 0:
            raise ValueError(f"loguniform = {list(self.loguniform)}: both bounds must be above 0 (it draws log x)")
        if self.choice is not None and not self.choice:
            raise ValueError("choice = []: list at least one value")
        return self

    def draw(self, rng: random.Random) -> Any:
        if self.uniform:
            return rng.uniform(*self.uniform)
        if self.loguniform:
            return math.exp(rng.uniform(math.log(self.loguniform[0]), math.log(self.loguniform[1])))
        if self.randint:
            return rng.randint(*self.randint)
        return rng.choice(self.choice)


#: The most runs a spec may plan: a bigger grid is a typo (an axis meant as a list of lists), not a study.
MAX_RUNS = 100_000


class RandomBlock(StrictConfig):
    count: int = Field(gt=0, le=MAX_RUNS, description="Number of draws.")
    seed: int = Field(0, ge=0, description="Seed of the draws.")
    axes: dict[str, Distribution]


class SweepSpec(StrictConfig):
    name: str = ""
    base: str = Field(description="A preset name, or an experiment TOML file (relative to the spec).")
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    samples: int = Field(50_000, gt=0, description="Evaluation positions per run.")
    evaluate_metrics: list[str] = Field(default_factory=list, description="Extra metric plugins run on every finished "
                                        "run's evaluation (e.g. robustness).")
    null_seeds: int | None = Field(None, ge=0, description="Untrained networks in the best-unit null (default: the "
                                   "metric's, 19).")
    records: str | None = Field(None, description="A folder (relative to the spec) that keeps each finished run's "
                                "committable record (no weights); runs recorded there are not trained again.")
    threads: int | None = Field(None, ge=1, le=1024, description="Torch threads of every run, on every machine "
                                "and executor (default: what the executor gives). A study whose runs must reproduce "
                                "bit for bit from their records fixes it.")
    order: Literal["listed", "by_seed"] = Field("listed", description="The order runs start in: as listed, or "
                                                "every arm's seed 0 first, then seed 1..., so that a study run in "
                                                "pieces holds complete paired sets early. Ids do not depend on it.")
    set: dict[str, Any] = Field(default_factory=dict)
    grid: list[dict[str, list[Any]]] = Field(default_factory=list)
    random: list[RandomBlock] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sized(self) -> "SweepSpec":
        for i, grid in enumerate(self.grid):
            for key, values in grid.items():
                if not values:
                    raise ValueError(f"grid {i + 1}, axis {key!r} lists no values (an empty axis makes no runs); "
                                     "list at least one, or remove the axis")
                if key in self.set:
                    raise ValueError(f"{key!r} is both in [set] and an axis of grid {i + 1}: the axis would win "
                                     "silently; keep one")
        count = sum(math.prod(len(v) for v in grid.values()) for grid in self.grid) + sum(b.count for b in self.random)
        count *= 1 if all("training.seed" in g for g in self.grid) and not self.random else len(self.seeds)
        if count > MAX_RUNS:
            raise ValueError(f"plans about {count:,} runs, over the limit of {MAX_RUNS:,}; check the axes (a list "
                             "nested one level too deep multiplies them)")
        return self


@dataclass(frozen=True)
class PlannedRun:
    id: str
    assignment: dict[str, Any]  # the axis values that made this run (seed included)
    experiment: Experiment

    @property
    def config(self) -> dict[str, Any]:
        return self.experiment.to_dict()


#: Fields added after runs were recorded, left out of a run's id while they hold these values, so that an id
#: keeps naming the run it named before the field existed.
ID_NEUTRAL_DEFAULTS: dict[tuple[str, str], Any] = {("training", "precision"): "fp32"}


def run_id(config: dict[str, Any]) -> str:
    """A hash of the resolved config (trackers left out: where a run is logged is not what it is)."""
    config = json.loads(json.dumps(config))
    for (section, key), value in ID_NEUTRAL_DEFAULTS.items():
        if isinstance(config.get(section), dict) and config[section].get(key, value) == value:
            config[section].pop(key, None)
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def read_spec(path: str | Path) -> tuple[SweepSpec, dict[str, Any]]:
    """The validated spec and the base experiment's raw config."""
    path = Path(path)
    raw = read_toml(path)
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        lines = [(f"{'.'.join(map(str, e['loc']))}: " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
                 for e in exc.errors()]
        raise ConfigError(bulleted(f"invalid sweep spec {path}", lines)) from None
    base_path = path.parent / spec.base
    if spec.base in preset_names():
        base_path = preset_path(spec.base)
    elif not base_path.is_file():
        raise ConfigError(f"{path}: base {spec.base!r} is neither a preset (`gridzoo presets`) nor a file")
    return spec, read_toml(base_path)


def assignments(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every combination of axis values: the union of the grids' products and the random draws, × seeds."""
    combos: list[dict[str, Any]] = []
    for grid in spec.grid:
        keys = list(grid)
        combos += [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]
    for block in spec.random:
        rng = random.Random(block.seed)
        combos += [{k: d.draw(rng) for k, d in block.axes.items()} for _ in range(block.count)]
    combos = combos or [{}]
    # A grid that lists "training.seed" itself keeps its own seeds; the others get every seed of the spec.
    return [combo if "training.seed" in combo else {**combo, "training.seed": seed}
            for combo in combos for seed in ([None] if "training.seed" in combo else spec.seeds)]


def plan(spec: SweepSpec, base: dict[str, Any], source: str = "sweep") -> list[PlannedRun]:
    """Validate every run before anything runs; report all bad runs at once."""
    runs: dict[str, PlannedRun] = {}
    errors = []
    for i, assignment in enumerate(assignments(spec)):
        data = json.loads(json.dumps(base))
        try:
            for key, value in {**spec.set, **assignment}.items():
                set_path(data, key.split("."), json.loads(json.dumps(value)), where=key)
            if isinstance(data.get("logging"), dict) and not data["logging"].get("group"):
                data["logging"]["group"] = spec.name or "sweep"  # a sweep's runs are one group in the trackers
            experiment = resolve_experiment(data, source=f"run {i} {assignment}")
        except GridzooError as exc:
            errors.append(str(exc))
            continue
        planned = PlannedRun(run_id(experiment.to_dict(logging=False)), assignment, experiment)
        runs.setdefault(planned.id, planned)
    if errors:
        if len(errors) == 1:
            raise ConfigError(f"{source}: a run has an invalid config; nothing was run: {errors[0]}")
        shown = "\n".join(errors[:10]) + (f"\n... and {len(errors) - 10} more" if len(errors) > 10 else "")
        raise ConfigError(f"{source}: {len(errors)} run(s) have invalid configs; nothing was run:\n{shown}")
    ordered = list(runs.values())
    if spec.order == "by_seed":  # stable: within a seed, runs keep the order they are listed in
        ordered.sort(key=lambda r: r.experiment.training.seed)
    return ordered


def value_at(config: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a resolved config; a section gives its component's name."""
    node: Any = config
    for part in path.split("."):
        if isinstance(node, list):
            if part.isdigit():
                node = node[int(part)] if int(part) < len(node) else None
                continue
            node = node[0] if node else None
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, list) and node and isinstance(node[0], dict):
        node = node[0]
    return node.get("name") if isinstance(node, dict) else node
