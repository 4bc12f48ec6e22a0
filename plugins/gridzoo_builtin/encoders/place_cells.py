"""Place-cell target codes: cells with centres uniform in the arena, tuned to distance.

With d² the squared distance from a position to a cell's centre (the short way round in periodic arenas):

- ``gaussian``: softmax over cells of −d²/2σ² (Sorscher's "global" normalisation), or raw exp(−d²/2σ²);
- ``dos``: Sorscher's "DoG", a *difference of softmaxes* softmax(−d²/2σ²) − softmax(−d²/2σ₂²), shifted so its
  minimum over cells is 0 and divided by its sum;
- ``dog``: a true difference of Gaussians exp(−d²/2σ²) − exp(−d²/2σ₂²), shifted and renormalised the same way;
- ``sod``: a *softmax of differences*, softmax(−d²/2σ² + d²/2σ₂²).

The surround width σ₂ comes from ``surround_scale`` s under an explicit ``surround_convention``:
``variance_ratio`` (Sorscher et al.: σ₂² = s·σ²) or ``width_ratio`` (the NFL code: σ₂ = s·σ).

Schaeffer et al.'s extensions: σ and s drawn per cell from a range (heterogeneous cells), and several fields per
cell (1 + Poisson(λ) centres; a cell responds through its nearest field).

Centres (and per-cell widths) are drawn once from the generator the trainer seeds from the experiment's seed,
and registered as buffers so that they are saved with the weights. Positions are decoded as the mean centre
(the first field) of the ``decode_top_k`` most active output units (k = 3, as Sorscher et al. and NFL), or,
with ``decoder = "fit"``, refined from there to the position whose code best matches the output.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gridzoo.encoder import TargetEncoder

from gridzoo_builtin.encoders.configs import GaussianConfig, PlaceCellConfig, Range, SurroundConfig
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

    def __init__(self, config, environment, generator: torch.Generator | None = None) -> None:
        super().__init__(config, environment, generator)
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        n = config.n_cells
        fields = 1 + torch.poisson(torch.full((n,), float(config.fields_rate)), generator=generator).long()
        most = int(fields.max())
        centres = environment.sample_positions(n * most, generator=generator).reshape(n, most, 2)
        self.register_buffer("centres", centres)  # (n, fields, 2); field 0 is the primary field
        self.register_buffer("field_mask", torch.arange(most)[None, :] < fields[:, None])  # (n, fields)
        self.register_buffer("sigma", self._per_cell(config.sigma, config.sigma_range, generator))

    def _per_cell(self, value: float, value_range: Range | None, generator: torch.Generator) -> Tensor:
        n = self.config.n_cells
        if value_range is None:
            return torch.full((n,), float(value))
        low, high = value_range
        return low + (high - low) * torch.rand(n, generator=generator)

    @property
    def size(self) -> int:
        return self.config.n_cells

    @classmethod
    def size_for(cls, config, environment) -> int:
        return config.n_cells

    def squared_distance(self, position: Tensor) -> Tensor:
        """Squared distance from each position (..., 2) to each cell's nearest field: (..., n_cells)."""
        if self.centres.shape[1] == 1:
            centres = self.centres[:, 0]
            if not self.environment.periodic:
                # |p|² + |c|² − 2 p·c: one small matmul instead of a (..., n_cells, 2) difference tensor.
                # Rounding adds ~1e-7 m² (float32), i.e. ~5e-6 in the logits at σ = 0.12 m.
                cross = position @ centres.T
                d2 = position.pow(2).sum(-1, keepdim=True) + centres.pow(2).sum(-1) - 2 * cross
                return d2.clamp_min_(0)
            return self.environment.displacement(position, centres).pow(2).sum(-1)
        flat = self.centres.reshape(-1, 2)
        d2 = self.environment.displacement(position, flat).pow(2).sum(-1)
        d2 = d2.unflatten(-1, self.centres.shape[:2])
        return d2.masked_fill(~self.field_mask, float("inf")).amin(dim=-1)

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        return soft_cross_entropy(output, target) if self.normalized else mse(output, target)

    def decode(self, output: Tensor) -> Tensor:
        k = min(self.config.decode_top_k, self.size)
        top = output.topk(k, dim=-1).indices
        estimate = self.centres[:, 0][top].mean(dim=-2)
        return estimate if self.config.decoder == "top_k" else self._fit(output, estimate)

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
        logits = -self.squared_distance(position) / (2 * self.sigma**2)
        return torch.softmax(logits, dim=-1) if self.normalized else torch.exp(logits)


class SurroundPlaceCells(PlaceCellEncoder):
    """Place cells with an inhibitory surround; subclasses say how centre and surround combine."""

    Config = SurroundConfig
    citation = f"{SORSCHER}; {NFL}"
    config: SurroundConfig

    def __init__(self, config, environment, generator: torch.Generator | None = None) -> None:
        super().__init__(config, environment, generator)
        generator = generator if generator is not None else torch.Generator().manual_seed(1)
        scale = self._per_cell(config.surround_scale, config.surround_scale_range, generator)
        if config.surround_convention == "variance_ratio":
            surround = self.sigma * scale.sqrt()
        else:
            surround = self.sigma * scale
        self.register_buffer("surround_sigma", surround)

    def centre_and_surround(self, position: Tensor) -> tuple[Tensor, Tensor]:
        """−d²/2σ² and −d²/2σ₂², each (..., n_cells)."""
        d2 = self.squared_distance(position)
        return d2 * (-0.5 / self.sigma**2), d2 * (-0.5 / self.surround_sigma**2)


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
    (Schaeffer et al.'s "true DoG")."""

    summary = "True difference of Gaussians, shifted and normalised; cross-entropy."

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
