"""Configs of the built-in architectures (no torch imported here; see ``gridzoo.configs`` entry points)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gridzoo.component import ComponentConfig

Activation = Literal["relu", "tanh", "sigmoid", "linear"]


class RecurrentConfig(ComponentConfig):
    hidden_size: int = Field(1024, gt=0, description="Recurrent units (Ng); NFL's default is 1024.")
    activation: Activation = Field("relu", description="Nonlinearity of the recurrent core and the g layer.")
    bias: bool = Field(True, description="Biases in the recurrent core, the initial-state map and readouts.")
    g_size: int | None = Field(
        None, gt=0, description="Units of the dense 'g' layer after the core; none if unset."
    )
    scored_layer: Literal["rnn", "g"] | None = Field(
        None, description="Layer that analyses score by default: 'g' when there is one, else 'rnn'."
    )
    recurrent_l2: float = Field(
        0.0, ge=0, description="λ of the penalty λ·ΣW_hh² on the recurrent kernel only (NFL uses 1e-4)."
    )

    @model_validator(mode="after")
    def _g_exists(self) -> "RecurrentConfig":
        if self.scored_layer == "g" and self.g_size is None:
            raise ValueError("scored_layer='g' needs g_size to be set")
        return self



class SorscherConfig(RecurrentConfig):
    hidden_size: int = Field(4096, gt=0, description="Recurrent units Ng (Sorscher: 4096).")
    activation: Literal["relu", "tanh", "sigmoid", "linear"] = Field("relu", description="Sorscher: ReLU.")
    bias: Literal[False] = Field(False, description="Sorscher's network has no biases anywhere.")
    g_size: None = Field(None, description="No g layer: the RNN state is read out and scored.")
    scored_layer: Literal["rnn"] = Field("rnn", description="The RNN state, as Sorscher et al.")
    recurrent_l2: float = Field(1e-4, ge=0, description="λ of λ·ΣW_hh² added to the loss (Sorscher: 1e-4).")



class BaninoConfig(ComponentConfig):
    hidden_size: int = Field(128, gt=0, description="LSTM units (Banino: 128).")
    bottleneck_size: int = Field(256, gt=0, description="Linear bottleneck units, no bias (Banino: 256).")
    dropout: float = Field(0.5, ge=0, lt=1, description="Dropout on the bottleneck while training (Banino: 0.5).")
    l2: float = Field(
        1e-5, ge=0, description="λ of λ·½Σw² on bottleneck and head weights, as in the paper; 0 matches the released code."
    )
