"""Configs of the built-in architectures (no torch imported here; see ``gridzoo.configs`` entry points).

Every built-in architecture has the same named regularisers, with the papers' meanings (defaults: off):
``input_dropout`` (Keras ``dropout``: one mask per sequence on the core's input; what NFL's code calls
``readout_dropout``), ``recurrent_dropout`` (Keras ``recurrent_dropout``: one mask per sequence on the state fed
back, Gal & Ghahramani 2016), ``readout_dropout`` (fresh masks every step on the features before the readouts;
Banino's bottleneck dropout), and ``state_noise`` (Gaussian noise added to the recurrent state at every step).
All are active only while training; evaluation and ``rollout`` never see them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gridzoo.component import TRAINING_ONLY, ComponentConfig

Activation = Literal["relu", "tanh", "sigmoid", "linear"]
Init = Literal["glorot_uniform", "orthogonal", "torch", "torch_rnn"]

INIT_DESCRIPTION = (
    "Initialisation: 'glorot_uniform' (Keras Glorot-uniform kernels and recurrent kernels, zero biases, LSTM forget "
    "bias 1: NFL's sweeps), 'orthogonal' (Keras's own defaults: as glorot_uniform but orthogonal recurrent "
    "kernels), 'torch' (every layer as torch's nn.Linear: U(±1/√fan_in)), 'torch_rnn' (the core as torch's "
    "nn.RNN/LSTM/GRU, every core weight U(±1/√H), other layers as nn.Linear: Sorscher's code)."
)


class Regularisers(ComponentConfig):
    """Dropout and noise shared by every built-in architecture (see the module docstring)."""

    input_dropout: float = Field(
        0.0, ge=0, lt=1, description="Dropout on the core's input, one mask per sequence (Keras `dropout`; NFL's "
        "`readout_dropout` is this one).",
        json_schema_extra=TRAINING_ONLY,
    )
    recurrent_dropout: float = Field(
        0.0, ge=0, lt=1, description="Dropout on the state fed back into the core, one mask per sequence "
        "(Keras `recurrent_dropout`, Gal & Ghahramani 2016).",
        json_schema_extra=TRAINING_ONLY,
    )
    readout_dropout: float = Field(
        0.0, ge=0, lt=1, description="Dropout on the features before the readouts, fresh masks every step "
        "(Banino et al.'s bottleneck dropout).",
        json_schema_extra=TRAINING_ONLY,
    )
    state_noise: float = Field(
        0.0, ge=0, description="Std of Gaussian noise added to the recurrent state at every step while training.",
        json_schema_extra=TRAINING_ONLY,
    )


class RecurrentConfig(Regularisers):
    """The NFL-style recurrent networks (Schaeffer, Khona & Fiete 2022). Defaults here are those of NFL's
    LSTM/GRU/UGRNN/SRNN classes; the ``rnn`` architecture (NFL's Sorscher-style ``RNN``) overrides them."""

    hidden_size: int = Field(1024, gt=0, description="Recurrent units (Ng); NFL's default is 1024.")
    activation: Activation = Field("relu", description="Nonlinearity of the recurrent core and the g layer.")
    bias: bool = Field(True, description="Biases in the dense layers: initial-state map(s), input projection, g "
                       "layer and readouts.")
    core_bias: bool = Field(True, description="Biases inside the recurrent core.")
    input_projection: bool = Field(
        True, description="A dense layer (Ng units, linear) between the velocity and the core, as NFL's LSTM, GRU, "
        "UGRNN and SRNN have ('M')."
    )
    g_layer: bool = Field(True, description="A dense layer with the activation after the core ('g'; NFL scores it).")
    g_size: int | None = Field(None, gt=0, description="Units of the g layer (default: hidden_size, as NFL).")
    scored_layer: Literal["rnn", "g"] | None = Field(
        None, description="Layer that analyses score by default: 'g' when there is one, else 'rnn'."
    )
    recurrent_l2: float = Field(
        0.0, ge=0, description="λ of the penalty λ·ΣW² on the recurrent kernel, added to the loss (NFL: 1e-4).",
        json_schema_extra=TRAINING_ONLY,
    )
    init: Init = Field("glorot_uniform", description=INIT_DESCRIPTION)

    @model_validator(mode="after")
    def _g_exists(self) -> "RecurrentConfig":
        if self.scored_layer == "g" and not self.g_layer:
            raise ValueError("scored_layer='g' needs g_layer = true")
        if self.g_size is not None and not self.g_layer:
            raise ValueError("g_size is set but g_layer = false; drop g_size or set g_layer = true")
        return self


class RNNConfig(RecurrentConfig):
    """NFL's ``RNN`` (the Sorscher-style class of its sweeps): no biases, no projection, no g layer."""

    bias: bool = Field(False, description="Biases in the dense layers (NFL's RNN: none).")
    core_bias: bool = Field(False, description="Bias inside the core (NFL's RNN: none).")
    input_projection: bool = Field(False, description="A dense layer before the core (NFL's RNN: none).")
    g_layer: bool = Field(False, description="A dense g layer after the core (NFL's RNN: none; the state is scored).")


class SRNNConfig(RecurrentConfig):
    """NFL's ``SRNN``/``VanillaRNN``: encoder, projection M, bias-free SimpleRNN, dense g, decoder."""

    core_bias: bool = Field(False, description="Bias inside the core (NFL's SimpleRNN here: none).")


class GRUConfig(RecurrentConfig):
    recurrent_bias: bool = Field(
        True, description="A bias inside the reset gate's recurrent term, r·(W_h h + b_h) (Keras reset_after=True, "
        "torch's GRU); gridzoo 0.1 had none."
    )


class UGRNNConfig(RecurrentConfig):
    l2_on: Literal["bias", "recurrent_kernel"] = Field(
        "bias", description="What recurrent_l2 penalises. NFL's code penalises RNN.weights[1], which for its UGRNN "
        "cell is the bias (its only other weight is one fused kernel): 'bias' reproduces that; 'recurrent_kernel' "
        "penalises the h→ part of the kernel, as for the other cores.",
        json_schema_extra=TRAINING_ONLY,
    )


class SorscherConfig(Regularisers):
    hidden_size: int = Field(4096, gt=0, description="Recurrent units Ng (Sorscher: 4096).")
    activation: Activation = Field("relu", description="Sorscher: ReLU.")
    recurrent_l2: float = Field(1e-4, ge=0, description="λ of λ·ΣW_hh² added to the loss (Sorscher: 1e-4).",
                                json_schema_extra=TRAINING_ONLY)
    init: Init = Field("torch_rnn", description=INIT_DESCRIPTION + " Sorscher's code: 'torch_rnn'.")


class BaninoConfig(ComponentConfig):
    hidden_size: int = Field(128, gt=0, description="LSTM units (Banino: 128).")
    bottleneck_size: int = Field(256, gt=0, description="Linear bottleneck units, no bias (Banino: 256).")
    readout_dropout: float = Field(
        0.5, ge=0, lt=1, description="Dropout on the bottleneck before the heads while training (Banino: 0.5).",
        json_schema_extra=TRAINING_ONLY,
    )
    input_dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on the LSTM's input, one mask per sequence.",
                                 json_schema_extra=TRAINING_ONLY)
    recurrent_dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on h fed back, one mask per sequence.",
                                     json_schema_extra=TRAINING_ONLY)
    state_noise: float = Field(0.0, ge=0, description="Std of Gaussian noise added to h at every step while "
                               "training.", json_schema_extra=TRAINING_ONLY)
    l2: float = Field(
        1e-5, ge=0, description="λ of λ·½Σw² on bottleneck and head weights, as in the paper; 0 matches the released code.",
        json_schema_extra=TRAINING_ONLY,
    )
    init: Literal["sonnet", "torch"] = Field(
        "sonnet", description="'sonnet': as DeepMind's code (Sonnet 1): every weight truncated-normal with std "
        "1/√fan_in (the LSTM's biases too, over its input and state), forget bias +1, zero head biases; 'torch': "
        "torch's defaults (gridzoo 0.1)."
    )
