"""Configs of the built-in target encoders (no torch imported here; see ``gridzoo.configs`` entry points)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gridzoo.component import ComponentConfig

Range = tuple[float, float]


class CartesianConfig(ComponentConfig):
    pass


class PolarConfig(ComponentConfig):
    pass


class HighDimConfig(ComponentConfig):
    n_dims: int = Field(512, ge=2, description="Dimensions of the code (NFL uses Np).")
    distribution: Literal["uniform", "normal"] = Field(
        "uniform", description="How W and b of the map W·p + b are drawn: 'uniform' U(−1, 1) (NFL's code) or "
        "'normal' N(0, 1) (gridzoo 0.1)."
    )


class PlaceCellConfig(ComponentConfig):
    n_cells: int = Field(
        512, ge=2, description="Number of place cells (Np); at least 2 (one cell's normalised code is constant)."
    )
    sigma: float = Field(0.12, gt=0, description="Tuning width σ in metres (centre of the cell's field).")
    sigma_range: Range | None = Field(
        None, description="Draw σ per field uniformly from [low, high] metres (NFL heterogeneity); overrides sigma."
    )
    fields_rate: float = Field(
        0.0, ge=0, description="λ: each cell has 1 + Poisson(λ) fields and responds through the nearest (NFL)."
    )
    decode_top_k: int = Field(3, gt=0, description="Decode as the mean centre of the k most active cells.")
    decoder: Literal["top_k", "fit"] = Field(
        "top_k",
        description="'top_k': mean centre of the k most active cells (Sorscher, NFL; about 4 cm at Np = 512 "
        "even for a perfect code). 'fit': from there, fit the position whose code best matches the output "
        "(sub-centimetre on a perfect code; slower). Reported decoding errors of the papers use 'top_k'.",
    )
    fit_steps: int = Field(50, gt=0, description="Gradient steps of the 'fit' decoder.")

    @model_validator(mode="after")
    def _consistent(self):
        for name in ("sigma_range", "surround_scale_range"):
            value = getattr(self, name, None)
            if value is not None and not (0 < value[0] <= value[1]):
                raise ValueError(f"{name} must be [low, high] with 0 < low <= high, got {list(value)}")
        if self.decode_top_k > self.n_cells:
            raise ValueError(
                f"decode_top_k = {self.decode_top_k} is more than n_cells = {self.n_cells}; lower decode_top_k"
            )
        return self


class GaussianConfig(PlaceCellConfig):
    normalization: Literal["softmax", "none"] = Field(
        "softmax",
        description="'softmax' over cells (trained with cross-entropy) or 'none' (raw Gaussians, trained with MSE).",
    )


class SurroundConfig(PlaceCellConfig):
    surround_scale: float = Field(2.0, gt=1, description="s: how much wider the surround is than the centre.")
    surround_convention: Literal["variance_ratio", "width_ratio"] = Field(
        "variance_ratio",
        description="How s sets the surround: 'variance_ratio' σ₂² = s·σ² (Sorscher et al.) or "
        "'width_ratio' σ₂ = s·σ (the NFL code; its default s = 2 is a 4× variance ratio).",
    )
    surround_scale_range: Range | None = Field(
        None, description="Draw s per field uniformly from [low, high] (NFL heterogeneity); overrides surround_scale."
    )


class TrueDoGConfig(SurroundConfig):
    decode_from: Literal["least_active", "most_active"] = Field(
        "least_active", description="Top-k decoding from the k least active units (NFL's rule for the true DoG: the "
        "top k of the negated output) or the k most active (the rule for the other codes; worse than chance here)."
    )


class HeadDirectionConfig(ComponentConfig):
    n_cells: int = Field(12, ge=2, description="Number of head-direction cells (Banino: 12).")
    concentration: float = Field(20.0, gt=0, description="von Mises concentration κ (Banino: 20).")
