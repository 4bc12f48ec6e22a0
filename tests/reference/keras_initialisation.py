"""Regenerate keras_initialisation.json: the initial weight statistics of NFL's layers as Keras itself draws them.

NFL (FieteLab/NeurIPS-2022-No-Free-Lunch, ``models/model.py``) builds its networks from Keras layers; its sweeps
set ``recurrent_initializer = "glorot_uniform"`` and leave every other initialiser at Keras's default. This script
builds the same layers, with the same settings, in Keras 3 (whose initialisers are TF2 Keras's) and records each
weight's shape and statistics, so that gridzoo's tests compare against Keras's numbers, not gridzoo's own.

    python -m venv /tmp/keras && /tmp/keras/bin/pip install torch==2.13.0 keras
    KERAS_BACKEND=torch /tmp/keras/bin/python tests/reference/keras_initialisation.py
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

NP, NG, SEQ = 128, 256, 5  # place cells, recurrent units, steps: small, so the tests are fast
REC = "glorot_uniform"  # NFL's sweeps: recurrent_initializer


def stats(weight) -> dict:
    w = np.asarray(weight)
    return {"shape": list(w.shape), "std": float(w.std()), "mean": float(w.mean()), "max_abs": float(np.abs(w).max())}


def dense(units: int, inputs: int, use_bias: bool = True) -> keras.layers.Dense:
    layer = keras.layers.Dense(units, use_bias=use_bias)
    layer.build((None, inputs))
    return layer


def recurrent(layer: keras.layers.Layer, inputs: int) -> keras.layers.Layer:
    layer.build((None, SEQ, inputs))
    return layer


def main() -> None:
    keras.utils.set_random_seed(0)
    out: dict[str, dict] = {"sizes": {"Np": NP, "Ng": NG}, "keras_version": keras.__version__}
    # NFL's RNN (Sorscher-style): encoder, SimpleRNN on the raw velocity, decoder; no biases.
    out["rnn"] = {
        "init_state": stats(dense(NG, NP, use_bias=False).kernel),
        "input_kernel": stats(recurrent(keras.layers.SimpleRNN(NG, use_bias=False, recurrent_initializer=REC), 2).weights[0]),
        "recurrent_kernel": stats(recurrent(keras.layers.SimpleRNN(NG, use_bias=False, recurrent_initializer=REC), 2).weights[1]),
        "readout": stats(dense(NP, NG, use_bias=False).kernel),
    }
    lstm = recurrent(keras.layers.LSTM(NG, recurrent_initializer=REC), NG)
    bias = np.asarray(lstm.weights[2])
    out["lstm"] = {
        "init_state_block": stats(dense(NG, NP).kernel),  # encoder1 and encoder2 are each Dense(Ng) on the code
        "projection": stats(dense(NG, 2).kernel),
        "input_kernel": stats(lstm.weights[0]),
        "recurrent_kernel": stats(lstm.weights[1]),
        "bias_by_gate": [float(b.mean()) for b in bias.reshape(4, NG)],  # i, f, c, o
        "g": stats(dense(NG, NG).kernel),
        "readout": stats(dense(NP, NG).kernel),
    }
    gru = recurrent(keras.layers.GRU(NG, recurrent_initializer=REC), NG)
    out["gru"] = {
        "reset_after": bool(gru.reset_after),
        "input_kernel": stats(gru.weights[0]),
        "recurrent_kernel": stats(gru.weights[1]),
        "bias": stats(gru.weights[2]),
    }
    out["srnn"] = {"input_kernel": stats(recurrent(keras.layers.SimpleRNN(NG, use_bias=False, recurrent_initializer=REC), NG).weights[0])}
    # NFL's UGRNN cell: one glorot_uniform kernel over [input, state] of shape (in + H, in + H), zero bias.
    out["ugrnn"] = {"kernel": stats(keras.initializers.GlorotUniform()(shape=(2 * NG, 2 * NG)))}
    path = Path(__file__).with_name("keras_initialisation.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
