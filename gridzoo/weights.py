"""Reading and writing weights without ever unpickling: safetensors for models, and Lightning checkpoints read
with ``torch.load(weights_only=True)``, whose refusal of a pickled object is turned into one clear message.

Every failure names the file and what to do; nothing a file contains is executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gridzoo.errors import GridzooError
from gridzoo.io import atomic_path


class WeightsError(GridzooError):
    """A weights file is missing, truncated, corrupt, or not of a format that loads without running code."""


def save_safetensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Save tensors as safetensors (contiguous, no shared storage), atomically."""
    from safetensors.torch import save_file

    clean = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(clean, str(tmp), metadata=metadata)


def read_safetensors(path: str | Path, label: str = "") -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors file; a malformed file (a pickle renamed, a header claiming gigabytes, a
    truncated body) is refused by name."""
    from safetensors.torch import load_file

    path = Path(path)
    where = f"{label}: " if label else ""
    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise WeightsError(f"{where}{path} does not exist") from None
    except Exception as exc:  # safetensors raises its own error types for every malformed file
        raise WeightsError(
            f"{where}{path.name} is not a valid safetensors file ({type(exc).__name__}: {_first_line(exc)}); "
            "it was not loaded, and nothing in it was executed"
        ) from None


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A Lightning checkpoint read with ``weights_only=True``: tensors and plain containers only.

    A checkpoint that needs unpickling (a pickled object, a tampered file), or a truncated or corrupt one, is
    refused; the message never suggests ``weights_only=False``."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            is_archive = f.read(4) == b"PK\x03\x04"  # torch.save's zip format
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"checkpoint {path} does not exist") from None
    except Exception as exc:
        text = str(exc)
        if is_archive and ("Unsupported global" in text or "GLOBAL" in text or "Unsupported operand" in text):
            reason = "it holds objects that only unpickling could restore, and gridzoo never unpickles"
        else:
            reason = f"it is truncated or corrupt ({type(exc).__name__}: {_first_line(exc)})"
        raise WeightsError(
            f"checkpoint {path} cannot be read: {reason}. It was not loaded. Delete it to restart the run from "
            "scratch, or keep the run's model.safetensors if it has one."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("state_dict"), dict):
        raise WeightsError(f"checkpoint {path} is not a gridzoo training checkpoint (no state_dict)")
    return data


def model_state_from_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The model's weights and buffers from a training checkpoint (keys as in ``PathIntegrator``)."""
    raw = read_checkpoint(path)["state_dict"]
    return {k.removeprefix("model."): v for k, v in raw.items()}


def checkpoint_step(path: str | Path) -> int:
    """The optimizer step a training checkpoint was saved at."""
    return int(read_checkpoint(path).get("global_step", 0))


def non_finite(tensors: dict[str, torch.Tensor] | Any) -> list[str]:
    """Names of floating-point tensors that hold a NaN or an infinity."""
    items = tensors.items() if isinstance(tensors, dict) else tensors
    return [name for name, t in items if t.is_floating_point() and not bool(torch.isfinite(t).all())]


def check_state(model: torch.nn.Module, state: dict[str, torch.Tensor], label: str) -> None:
    """Refuse weights that would load silently but wrongly: a tensor stored in another dtype than the network's
    (an I32, F16 or BOOL tensor where a float32 one belongs) or holding a NaN or an infinity."""
    from gridzoo.errors import GridzooError

    expected = model.state_dict()
    wrong = [f"{name} is {t.dtype} (the network's is {expected[name].dtype})" for name, t in state.items()
             if name in expected and t.dtype != expected[name].dtype]
    if wrong:
        raise GridzooError(f"{label}: the weights are stored in the wrong type ({'; '.join(wrong[:2])}); "
                           "refusing to load them")
    bad = non_finite(state)
    if bad:
        raise GridzooError(f"{label}: the weights are not finite ({', '.join(bad[:3])}): a diverged or damaged "
                           "network; nothing was evaluated")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) < 200 else line[:197] + "..."


__all__ = ["WeightsError", "save_safetensors", "read_safetensors", "read_checkpoint", "model_state_from_checkpoint",
           "checkpoint_step", "non_finite"]
