"""Optimizers with the semantics of the papers' frameworks.

``training.optimizer`` names the algorithm; ``training.optimizer_convention`` names whose defaults and update
rule it follows, since the same name means different updates in different frameworks:

| optimizer | torch (Sorscher's code) | keras (NFL's code, TF2 Keras) |
|---|---|---|
| adam | ε 1e-8 added after bias-correcting v | ε 1e-7 added to √v before bias correction ("ε-hat") |
| rmsprop | decay 0.99, ε 1e-8 outside the root, mean square from 0 | decay 0.9, ε 1e-7 outside the root, from 0 |
| adagrad | accumulator from 0, ε 1e-10 | accumulator from 0.1, ε 1e-7 |
| sgd | the same | the same |

``rmsprop_tf1`` is TensorFlow 1's ``RMSPropOptimizer`` (Banino et al.'s code): decay 0.9, ε 1e-10 *inside* the
root, the mean square starting at **1**, momentum on the scaled step:
ms ← ρ·ms + (1 − ρ)·g²;  mom ← μ·mom + lr·g / √(ms + ε);  θ ← θ − mom.
Against torch's RMSprop under Banino's ±1e-5 gradient clipping this moves small-gradient parameters up to 245×
less far in the first steps (ms starts at 1, not at g²).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

import torch
from torch import Tensor


class KerasAdam(torch.optim.Optimizer):
    """Adam as TF2 Keras computes it: lr_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ); θ ← θ − lr_t·m/(√v + ε)."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-7, weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                state["m"].mul_(beta1).add_(g, alpha=1 - beta1)
                state["v"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                lr_t = group["lr"] * math.sqrt(1 - beta2**t) / (1 - beta1**t)
                p.addcdiv_(state["m"], state["v"].sqrt().add_(group["eps"]), value=-lr_t)
        return loss


class TF1RMSProp(torch.optim.Optimizer):
    """TensorFlow 1's ``tf.train.RMSPropOptimizer`` (non-centred): see the module docstring."""

    def __init__(self, params: Iterable, lr: float = 1e-3, decay: float = 0.9, momentum: float = 0.0,
                 eps: float = 1e-10, weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, decay=decay, momentum=momentum, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            rho, mu, eps, lr = group["decay"], group["momentum"], group["eps"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["ms"] = torch.ones_like(p)  # TF1 initialises the mean square to 1
                    state["mom"] = torch.zeros_like(p)
                ms, mom = state["ms"], state["mom"]
                ms.mul_(rho).addcmul_(g, g, value=1 - rho)
                mom.mul_(mu).addcdiv_(g, ms.add(eps).sqrt_(), value=lr)
                p.sub_(mom)
        return loss


def _fused(cls: type[torch.optim.Optimizer], params, **options) -> torch.optim.Optimizer:
    """The optimizer's fused implementation (one kernel per step over all parameters; on a Sorscher-size model
    Adam's per-tensor updates are a visible share of the step) where this torch has one, else the default."""
    params = list(params)
    try:
        return cls(params, fused=True, **options)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, **options)


def build_optimizer(params: Iterable[Tensor], t) -> torch.optim.Optimizer:
    """The optimizer ``t`` (a TrainingConfig) names, under its convention."""
    params = [p for p in params if p.requires_grad]
    keras = t.optimizer_convention == "keras"
    wd = t.weight_decay
    if t.optimizer == "adam":
        if keras:
            return KerasAdam(params, lr=t.lr, eps=1e-7, weight_decay=wd)
        return _fused(torch.optim.Adam, params, lr=t.lr, weight_decay=wd)
    if t.optimizer == "rmsprop":
        options = dict(alpha=0.9, eps=1e-7) if keras else {}
        return torch.optim.RMSprop(params, lr=t.lr, momentum=t.momentum, weight_decay=wd, **options)
    if t.optimizer == "sgd":
        return _fused(torch.optim.SGD, params, lr=t.lr, momentum=t.momentum, weight_decay=wd)
    if t.optimizer == "adagrad":
        options = dict(initial_accumulator_value=0.1, eps=1e-7) if keras else {}
        return _fused(torch.optim.Adagrad, params, lr=t.lr, weight_decay=wd, **options)
    if t.optimizer == "rmsprop_tf1":
        return TF1RMSProp(params, lr=t.lr, momentum=t.momentum, weight_decay=wd)
    raise ValueError(f"unknown optimizer {t.optimizer!r}")  # pragma: no cover - the config's Literal prevents it
