"""Place-cell target codes: cells with centres uniform in the arena, tuned to distance.

With d² the squared distance from a position to a cell's centre (the short way round in periodic arenas):

- ``gaussian``: softmax over cells of −d²/2σ² (Sorscher's "global" normalisation), or raw exp(−d²/2σ²);
- ``dos``: Sorscher's "DoG", a *difference of softmaxes* softmax(−d²/2σ²) − softmax(−d²/2σ₂²), shifted so its
  minimum over cells is 0 and divided by its sum;
- ``dog``: a true difference of Gaussians exp(−d²/2σ²) − exp(−d²/2σ₂²), shifted and renormalised the same way;
- ``sod``: a *softmax of differences*, softmax(−d²/2σ² + d²/2σ₂²).

The surround width σ₂ comes from ``surround_scale`` s under an explicit ``surround_convention``:
``variance_ratio`` (Sorscher et al.: σ₂² = s·σ²) or ``width_ratio`` (the NFL code: σ₂ = s·σ).

Schaeffer et al.'s extensions, as their code has them: σ and s drawn per *field* from a range (heterogeneous
cells), and several fields per cell (1 + Poisson(λ) centres). A cell responds through the field nearest in units
of its own width (the smallest d²/2σ²), whose σ₂ then sets the surround.

Distances are computed from coordinate differences, exact in float32 at any σ (the expansion
|p|² + |c|² − 2p·c loses precision: at Banino's σ = 0.01 m it put targets off by 3.7e-4). Positions may have any
number of dimensions (2-D arenas, 3-D volumes): the environment's positions decide.

Centres and widths are drawn once from the generator the trainer seeds from the experiment's seed, and registered
as buffers so that they are saved with the weights.

Decoding (``decoder = "top_k"``, the papers' rule): the mean centre of the ``decode_top_k`` most active output
units (k = 3, as Sorscher et al. and NFL). With several fields per cell, NFL's rule: among the top-k cells'
fields, the combination with the smallest spread. For the true DoG, NFL takes the k *least* active units (the top
k of the negated output; see ``dog``'s ``decode_from``). ``decoder = "fit"`` refines the top-k estimate to the
position whose code best matches the output.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor

from gridzoo.encoder import TargetEncoder

from gridzoo_builtin.encoders.configs import GaussianConfig, PlaceCellConfig, Range, SurroundConfig, TrueDoGConfig
from gridzoo_builtin.encoders.losses import mse, soft_cross_entropy

SORSCHER = (
    "Sorscher, Mel, Ganguli & Ocko (2019). A unified theory for the origin of grid cells through the lens of "
    "pattern formation. NeurIPS 32; Sorscher et al. (2023), Neuron 111(1)."
)
NFL = (
    "Schaeffer, Khona & Fiete (2022). No Free Lunch from Deep Learning in Neuroscience: A Case Study through "
    "Models of the Entorhinal-Hippocampal Circuit. NeurIPS 35."
)


class PlaceCellEncoder(TargetEncoder):
    """Shared machinery of place-cell codes: centres, widths, distances, decoding, loss by normalisation."""

    config: PlaceCellConfig
    #: Whether targets sum to one over cells (trained with cross-entropy) or not (trained with MSE).
    normalized = True
    #: Decode from the most active units (+1) or, NFL's rule for the true DoG, the least active (−1).
    decode_sign = 1.0

    def __init__(self, config, environment, generator: torch.Generator | None = None) -> None:
        super().__init__(config, environment, generator)
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        n = config.n_cells
        fields = 1 + torch.poisson(torch.full((n,), float(config.fields_rate)), generator=generator).long()
        most = int(fields.max())
        centres = environment.sample_positions(n * most, generator=generator)
        self.register_buffer("centres", centres.reshape(n, most, centres.shape[-1]))  # (n, fields, D); field 0 first
        self.register_buffer("field_mask", torch.arange(most)[None, :] < fields[:, None])  # (n, fields)
        self.register_buffer("sigma", self._per_field(config.sigma, config.sigma_range, generator))  # (n, fields)

    def _per_field(self, value: float, value_range: Range | None, generator: torch.Generator) -> Tensor:
        shape = self.centres.shape[:2]
        if value_range is None:
            return torch.full(shape, float(value))
        low, high = value_range
        return low + (high - low) * torch.rand(shape, generator=generator)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Networks saved by gridzoo 0.1 hold one width per cell (n,); now there is one per field (n, fields).
        for name in ("sigma", "surround_sigma"):
            key = prefix + name
            if key in state_dict and state_dict[key].dim() == 1:
                state_dict[key] = state_dict[key][:, None].expand(-1, self.centres.shape[1]).clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def size(self) -> int:
        return self.config.n_cells

    @classmethod
    def size_for(cls, config, environment) -> int:
        return config.n_cells

    @property
    def multi_field(self) -> bool:
        return self.centres.shape[1] > 1

    def _field_distances(self, position: Tensor) -> Tensor:
        """Squared distance from each position (..., D) to every field: (..., n_cells, fields), exact."""
        flat = self.centres.reshape(-1, self.centres.shape[-1])
        d2 = self.environment.displacement(position, flat).pow(2).sum(-1)
        return d2.unflatten(-1, self.centres.shape[:2])

    def nearest_field(self, position: Tensor) -> tuple[Tensor, Tensor | None]:
        """d² to each cell's responding field (..., n_cells), and which field it is (None for one field each)."""
        if not self.multi_field:
            centres = self.centres[:, 0]
            if self.environment.periodic:
                return self.environment.displacement(position, centres).pow(2).sum(-1), None
            # One coordinate at a time: no (..., cells, D) intermediate, and exact (differences, not |p|²+|c|²−2p·c).
            d2 = (position[..., None, 0] - centres[:, 0]).square()
            for axis in range(1, centres.shape[-1]):
                term = (position[..., None, axis] - centres[:, axis]).square()
                d2 = d2 + term if d2.requires_grad else d2.add_(term)
            return d2, None
        d2 = self._field_distances(position)
        scaled = (d2 / (2 * self.sigma**2)).masked_fill(~self.field_mask, float("inf"))
        field = scaled.argmin(dim=-1, keepdim=True)
        return d2.gather(-1, field).squeeze(-1), field.squeeze(-1)

    def width(self, widths: Tensor, field: Tensor | None) -> Tensor:
        """Per-cell widths (n,) or, for multi-field cells, each position's responding field's widths (..., n)."""
        if field is None:
            return widths[:, 0]
        return widths.expand(*field.shape[:-1], *widths.shape).gather(-1, field[..., None]).squeeze(-1)

    def squared_distance(self, position: Tensor) -> Tensor:
        """Squared distance from each position to each cell's responding field: (..., n_cells)."""
        return self.nearest_field(position)[0]

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        return soft_cross_entropy(output, target) if self.normalized else mse(output, target)

    def decode(self, output: Tensor) -> Tensor:
        k = min(self.config.decode_top_k, self.size)
        top = (self.decode_sign * output).topk(k, dim=-1).indices
        estimate = self._vote(top)
        return estimate if self.config.decoder == "top_k" else self._fit(output, estimate)

    def _vote(self, top: Tensor) -> Tensor:
        """The mean of the top cells' centres; with several fields per cell, NFL's rule: of every combination of
        one field per top cell, the one whose centres spread least (summed variance over coordinates)."""
        voting = self.centres[top]  # (..., k, fields, D)
        if not self.multi_field:
            return voting[..., 0, :].mean(dim=-2)
        k, fields = voting.shape[-3], voting.shape[-2]
        combos = torch.tensor(list(itertools.product(range(fields), repeat=k)), device=top.device)  # (C, k)
        rows = torch.arange(k, device=top.device)
        chosen = voting[..., rows, combos, :]  # (..., C, k, D)
        valid = self.field_mask[top][..., rows, combos].all(dim=-1)  # (..., C)
        spread = chosen.var(dim=-2, unbiased=False).sum(dim=-1).masked_fill(~valid, float("inf"))
        best = spread.argmin(dim=-1)
        means = chosen.mean(dim=-2)  # (..., C, D)
        return means.gather(-2, best[..., None, None].expand(*best.shape, 1, means.shape[-1])).squeeze(-2)

    def _fit(self, output: Tensor, start: Tensor) -> Tensor:
        """Positions whose codes best match ``output``: cross-entropy against softmax(output) for normalised
        codes, squared error for raw ones, minimised by Adam from ``start``."""
        target = torch.softmax(output, dim=-1) if self.normalized else output
        target = target.detach()
        heading = start.new_zeros(start.shape[:-1])
        with torch.enable_grad():
            position = start.detach().clone().requires_grad_(True)
            optimizer = torch.optim.Adam([position], lr=0.01)
            for _ in range(self.config.fit_steps):
                code = self.encode(position, heading)
                if self.normalized:
                    mismatch = -(target * torch.log(code.clamp_min(1e-12))).sum()
                else:
                    mismatch = (code - target).pow(2).sum()
                optimizer.zero_grad()
                mismatch.backward()
                optimizer.step()
        return position.detach()


def _shift_and_normalize(code: Tensor) -> Tensor:
    """Shift so the minimum over cells is 0, then divide by the sum over cells (Sorscher's DoG convention).
    Works in place on ``code`` (a fresh intermediate; this runs on every batch) unless autograd tracks it."""
    if code.requires_grad:
        code = code - code.amin(dim=-1, keepdim=True)
        return code / code.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(code.dtype).tiny)
    code.sub_(code.amin(dim=-1, keepdim=True))
    return code.div_(code.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(code.dtype).tiny))


class GaussianPlaceCells(PlaceCellEncoder):
    """Gaussian place cells, softmax-normalised over cells (default) or raw."""

    Config = GaussianConfig
    summary = "Gaussian place cells (softmax-normalised or raw), cross-entropy, top-3 centre decoding."
    citation = f"{SORSCHER}; {NFL}"
    config: GaussianConfig

    @property
    def normalized(self) -> bool:  # type: ignore[override]
        return self.config.normalization == "softmax"

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        d2, field = self.nearest_field(position)
        logits = d2 / (-2 * self.width(self.sigma, field) ** 2)
        return torch.softmax(logits, dim=-1) if self.normalized else torch.exp(logits)


class SurroundPlaceCells(PlaceCellEncoder):
    """Place cells with an inhibitory surround; subclasses say how centre and surround combine."""

    Config = SurroundConfig
    citation = f"{SORSCHER}; {NFL}"
    config: SurroundConfig

    def __init__(self, config, environment, generator: torch.Generator | None = None) -> None:
        super().__init__(config, environment, generator)
        generator = generator if generator is not None else torch.Generator().manual_seed(1)
        scale = self._per_field(config.surround_scale, config.surround_scale_range, generator)
        if config.surround_convention == "variance_ratio":
            surround = self.sigma * scale.sqrt()
        else:
            surround = self.sigma * scale
        self.register_buffer("surround_sigma", surround)  # (n, fields)

    def centre_and_surround(self, position: Tensor) -> tuple[Tensor, Tensor]:
        """−d²/2σ² and −d²/2σ₂² of each cell's responding field, each (..., n_cells)."""
        d2, field = self.nearest_field(position)
        return (d2 * (-0.5 / self.width(self.sigma, field) ** 2),
                d2 * (-0.5 / self.width(self.surround_sigma, field) ** 2))


class DifferenceOfSoftmaxes(SurroundPlaceCells):
    """Sorscher et al.'s "DoG" targets: a difference of softmaxes, shifted to a minimum of 0 and normalised.

    The code that produced grid cells in Sorscher et al. and, in Schaeffer et al.'s sweep, the only target under
    which most networks grew them. Sorscher's defaults: Np = 512, σ = 0.12 m, s = 2 as a variance ratio."""

    summary = "Sorscher's 'DoG': difference of softmaxes, shifted and normalised; cross-entropy."

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        centre, surround = self.centre_and_surround(position)
        if centre.requires_grad:
            return _shift_and_normalize(torch.softmax(centre, -1) - torch.softmax(surround, -1))
        return _shift_and_normalize(torch.softmax(centre, -1).sub_(torch.softmax(surround, -1)))


class DifferenceOfGaussians(SurroundPlaceCells):
    """A true difference of Gaussians, exp(−d²/2σ²) − exp(−d²/2σ₂²), shifted to a minimum of 0 and normalised
    (Schaeffer et al.'s "true DoG").

    Decoding follows NFL's code by default (``decode_from = "least_active"``): the k least active units, i.e. the
    top k of the negated output. After the shift, the least active cells are those on the surround's ring around
    the position, so their mean lands near it (about 15 cm on a perfect output in a 1.1 m box with 256 cells),
    whereas the most active cells of this code are not the nearest ones (about 108 cm: worse than chance)."""

    Config = TrueDoGConfig
    config: TrueDoGConfig
    summary = "True difference of Gaussians, shifted and normalised; cross-entropy; NFL's negated top-k decoding."

    @property
    def decode_sign(self) -> float:  # type: ignore[override]
        return -1.0 if self.config.decode_from == "least_active" else 1.0

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        centre, surround = self.centre_and_surround(position)
        if centre.requires_grad:
            return _shift_and_normalize(torch.exp(centre) - torch.exp(surround))
        return _shift_and_normalize(centre.exp_().sub_(surround.exp_()))


class SoftmaxOfDifferences(SurroundPlaceCells):
    """A softmax of differences, softmax(−d²/2σ² + d²/2σ₂²) (Schaeffer et al.'s "SoD")."""

    summary = "Softmax of differences of centre and surround log-tuning; cross-entropy."

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        centre, surround = self.centre_and_surround(position)
        return torch.softmax(centre - surround, dim=-1)
