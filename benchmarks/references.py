"""Load the reference implementations, unmodified, from folders the user cloned (their code is not part of
gridzoo):

    git clone https://github.com/google-deepmind/grid-cells             # Banino et al.: scores.py
    git clone https://github.com/ganguli-lab/grid-pattern-formation      # Sorscher et al.: trajectory_generator.py, place_cells.py

Pass the folders with --deepmind and --sorscher (or set GRIDZOO_DEEPMIND_GRID_CELLS / GRIDZOO_SORSCHER).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

HOW = {
    "deepmind": "git clone https://github.com/google-deepmind/grid-cells",
    "sorscher": "git clone https://github.com/ganguli-lab/grid-pattern-formation",
}
ENV = {"deepmind": "GRIDZOO_DEEPMIND_GRID_CELLS", "sorscher": "GRIDZOO_SORSCHER"}


def folder(which: str, given: str | None) -> Path:
    path = given or os.environ.get(ENV[which])
    if not path or not Path(path).is_dir():
        sys.exit(f"the {which} reference code is needed: {HOW[which]}, then pass its folder with --{which} DIR "
                 f"(or set {ENV[which]})")
    return Path(path)


def load(path: Path, filename: str, name: str) -> ModuleType:
    """Import ``path/filename`` as module ``name`` (its own folder first on sys.path, as when run from there)."""
    sys.path.insert(0, str(path))
    try:
        spec = importlib.util.spec_from_file_location(name, path / filename)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path))


def deepmind_scorer(path: Path, n_bins: int, width: float = 2.2):
    """The reference GridScorer as Sorscher's and NFL's code build it: rings from 0.2 to linspace(0.4, 1, 10),
    mean-difference score (min_max=False)."""
    import numpy as np

    scores = load(path, "scores.py", "deepmind_scores")
    starts, ends = [0.2] * 10, np.linspace(0.4, 1.0, num=10)
    half = width / 2
    return scores.GridScorer(n_bins, ((-half, half), (-half, half)), zip(starts, ends.tolist()), min_max=False)


def sorscher_generator(path: Path, batch: int, steps: int, cells: int, sigma: float, width: float = 2.2):
    """Sorscher's TrajectoryGenerator with its PlaceCells (DoS targets), on the CPU."""
    pc = load(path, "place_cells.py", "sorscher_place_cells")
    tg = load(path, "trajectory_generator.py", "sorscher_trajectory_generator")
    options = SimpleNamespace(Np=cells, place_cell_rf=sigma, surround_scale=2.0, box_width=width, box_height=width,
                              periodic=False, DoG=True, device="cpu", sequence_length=steps, batch_size=batch)
    return tg.TrajectoryGenerator(options, pc.PlaceCells(options))
