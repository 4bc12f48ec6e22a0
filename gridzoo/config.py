"""Experiment configs: TOML in, one validated :class:`Experiment` out, or one :class:`ConfigError` naming
every bad dotted path. Nothing is built or written until validation has passed.

An experiment file has the sections ``environment``, ``encoder`` (a table, or an array of tables for several
target ensembles), ``architecture``, ``training`` and ``metrics``. Each component section names its component
(``name = "gaussian"`` or ``name = "DIST:gaussian"``) and sets its parameters beside the name.
"""

from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gridzoo.component import StrictConfig
from gridzoo.errors import ConfigError, GridzooError
from gridzoo.registry import ComponentInfo, Registry, default_registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ComponentSpec(BaseModel):
    """One component section: its name plus parameters, which its own config validates later."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(description="Registered component name, NAME or DIST:NAME.")

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.params}


class TrainingConfig(StrictConfig):
    """How to train. Paper-specific regularisers live in the architecture's config, not here."""

    steps: int = Field(1000, gt=0, le=10**9, description="Optimizer steps (at most 10⁹).")
    batch_size: int = Field(200, gt=0, le=10**6, description="Trajectories per batch.")
    seq_len: int = Field(20, gt=0, le=10**5, description="Steps per trajectory.")
    optimizer: Literal["adam", "rmsprop", "sgd", "adagrad", "rmsprop_tf1"] = Field(
        "adam", description="Optimizer; 'rmsprop_tf1' is TensorFlow 1's RMSPropOptimizer (Banino's code)."
    )
    optimizer_convention: Literal["torch", "keras"] = Field(
        "torch", description="Whose update rule and defaults the optimizer follows: 'torch' (Sorscher's code) or "
        "'keras' (TF2 Keras, NFL's code: Adam's ε-hat 1e-7, RMSprop decay 0.9, Adagrad accumulator from 0.1)."
    )
    lr: float = Field(1e-4, gt=0, description="Learning rate.")
    momentum: float = Field(0.0, ge=0, description="Momentum (rmsprop, sgd).")
    weight_decay: float = Field(
        0.0, ge=0, description="The optimizer's L2 weight decay on every parameter (torch semantics)."
    )
    grad_clip: float | None = Field(None, gt=0, description="Clip gradients at this value or norm; none if unset.")
    grad_clip_algorithm: Literal["value", "norm"] = Field("norm", description="How grad_clip applies.")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Fixes everything: cell centres, initial weights, every batch.")
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Where to train and generate data.")
    precision: Literal["fp32", "bf16"] = Field(
        "fp32", description="'bf16': the architecture's forward pass under bfloat16 autocast (about 1.6x faster steps "
        "on CPUs with AMX or AVX-512 BF16, and on recent GPUs); master weights, targets, losses, decoding and every "
        "evaluation stay float32. Not exact: see docs/experiments/bf16-check before using it in a study."
    )
    checkpoint_every: int = Field(500, gt=0, le=10**9, description="Save a resumable checkpoint every N steps.")
    log_every: int = Field(50, gt=0, le=10**9, description="Record the training loss every N steps.")
    eval_every: int = Field(250, gt=0, le=10**9, description="Evaluate the metrics every N steps (and at the end).")
    eval_batch_size: int = Field(200, gt=0, le=10**6, description="Trajectories in the fixed evaluation batch.")
    eval_seq_len: int | None = Field(None, gt=0, le=10**5, description="Steps per evaluation trajectory (default seq_len).")
    memory_limit_gb: float | None = Field(
        None, gt=0, description="Refuse experiments estimated to need more memory than this (default: 90 % of the "
        "machine's, or the GPU's); raise it if you know a larger experiment fits."
    )


Tracker = Literal["csv", "tensorboard", "mlflow", "wandb"]


class LoggingConfig(StrictConfig):
    """Where training is tracked, besides the run folder. Not part of a run's identity: a sweep's run ids and a zoo
    network's rebuild ignore it."""

    trackers: list[Tracker] = Field(
        default_factory=lambda: ["csv"],
        description="'csv' (the run folder's metrics.csv, always written), 'tensorboard' (gridzoo[trackers]), "
        "'mlflow' (a local file store by default; gridzoo[trackers]), 'wandb' (offline by default; gridzoo[wandb]).",
    )
    project: str = Field("gridzoo", description="W&B project; MLflow experiment when no group is set.")
    group: str | None = Field(None, description="A W&B group / MLflow experiment for related runs (a sweep sets it).")
    run_name: str | None = Field(None, description="The run's name in the trackers (default: its folder's name).")
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking URI (default: a file store 'mlruns' beside the run folder)."
    )
    wandb_mode: Literal["offline", "online"] = Field("offline", description="'offline' needs no account or network.")
    log_figures: bool = Field(True, description="At the end, evaluate the network and send the figures to the trackers.")
    figure_samples: int = Field(50_000, gt=0, description="Analysis positions for those figures.")


class ExperimentConfig(StrictConfig):
    """The whole experiment, before components are resolved."""

    environment: ComponentSpec
    encoder: list[ComponentSpec] = Field(min_length=1)
    architecture: ComponentSpec
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    metrics: list[ComponentSpec] = Field(default_factory=lambda: [ComponentSpec(name="decoding_error")])
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @field_validator("encoder", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, Mapping) else value

    @field_validator("metrics", mode="before")
    @classmethod
    def _names_or_tables(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


@dataclass(frozen=True)
class ResolvedComponent:
    """A component section after resolution: which component, from which distribution, with which config.

    The component's class is imported on first use of :attr:`cls`: validating a config needs only the config
    class, which plugins may keep in a light module (see :mod:`gridzoo.registry`)."""

    section: str  # dotted path in the experiment file, e.g. "encoder" or "encoder.1"
    info: ComponentInfo
    config: Any  # the component's validated ComponentConfig
    registry: Registry = field(repr=False, compare=False, default_factory=default_registry)

    @property
    def cls(self) -> type:
        return self.registry.load(self.info.kind, self.info.qualified_name)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.info.name, **self.config.model_dump(mode="json")}

    def provenance(self) -> dict[str, str]:
        return {
            "name": self.info.name,
            "distribution": self.info.distribution,
            "version": self.info.version,
            "class": self.info.target,
        }


@dataclass(frozen=True)
class Experiment:
    """A fully validated experiment: every component resolved, every default filled in."""

    environment: ResolvedComponent
    encoders: tuple[ResolvedComponent, ...]
    architecture: ResolvedComponent
    training: TrainingConfig
    metrics: tuple[ResolvedComponent, ...]
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    def to_dict(self, logging: bool = True) -> dict[str, Any]:
        """The resolved config, in the same shape as the input file (loadable again). ``logging=False`` leaves
        out the trackers, which are not part of what the experiment *is*."""
        encoders = [e.as_dict() for e in self.encoders]
        data = {
            "environment": self.environment.as_dict(),
            "encoder": encoders[0] if len(encoders) == 1 else encoders,
            "architecture": self.architecture.as_dict(),
            "training": self.training.model_dump(mode="json"),
            "metrics": [m.as_dict() for m in self.metrics],
        }
        if logging and self.logging != LoggingConfig():
            data["logging"] = self.logging.model_dump(mode="json")
        return data

    def provenance(self) -> dict[str, Any]:
        return {
            "environment": self.environment.provenance(),
            "encoder": [e.provenance() for e in self.encoders],
            "architecture": self.architecture.provenance(),
            "metrics": [m.provenance() for m in self.metrics],
        }


# ---------------------------------------------------------------------------------------------------
# Reading and overriding


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into a ConfigError that names the file and position."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {str(path)!r} is a folder; give a TOML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {str(path)!r} is not UTF-8 text (byte {exc.start}); give a TOML experiment file"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}") from None
    if "\x00" in text:
        raise ConfigError(f"config file {str(path)!r} is binary, not TOML; give a TOML experiment file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}. Fix the syntax at that position.") from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=VALUE``: VALUE is read as a TOML value (``3``, ``1e-4``, ``true``, ``"x"``, ``[1, 2]``);
    anything that is not valid TOML is taken as a plain string."""
    key, sep, raw = text.partition("=")
    path = [part.strip() for part in key.split(".")]
    if not sep or not all(path):
        raise ConfigError(f"--set {text!r}: expected DOTTED.PATH=VALUE, e.g. --set training.steps=500")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return path, value


def set_path(data: dict[str, Any], path: Sequence[str], value: Any, where: str = "") -> None:
    """Set ``data[a][b][c] = value`` for the path (a, b, c), creating sections; a list index may appear
    (``encoder.1.sigma``), and a one-element list of sections is entered without one (``encoder.sigma``)."""
    where = where or ".".join(path)
    node: Any = data
    for i, part in enumerate(path[:-1]):
        here = ".".join(path[: i + 1])
        if isinstance(node, list):
            node = _list_item(node, part, here)
        else:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif isinstance(child, list) and len(child) == 1 and not path[i + 1].isdigit():
                child = child[0]
            elif not isinstance(child, (dict, list)):
                raise ConfigError(f"{where}: {here} is a value, not a section")
            node = child
    if isinstance(node, list):
        node[_list_index(node, path[-1], where)] = value
    else:
        node[path[-1]] = value


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of ``data`` with each ``--set`` applied; a list index may appear in the path (``encoder.1.sigma``)."""
    data = json.loads(json.dumps(data))  # deep copy of plain TOML data
    for text in overrides:
        path, value = parse_override(text)
        set_path(data, path, value, where=f"--set {text!r}")
    return data


def _list_index(items: list, part: str, where: str) -> int:
    if not part.isdigit() or int(part) >= len(items):
        raise ConfigError(f"--set: {where!r} needs an index from 0 to {len(items) - 1} here")
    return int(part)


def _list_item(items: list, part: str, where: str) -> Any:
    return items[_list_index(items, part, where)]


# ---------------------------------------------------------------------------------------------------
# Validation


def _error_line(err: dict, path: str, allowed: Sequence[str], what: str = "key") -> str:
    """One pydantic error as one line: the dotted path, what is wrong, and how to fix it."""
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(err["loc"][-1]), list(allowed), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed) or 'none'}"
        return f"{path}: unknown {what} ({hint})"
    if err["type"] == "missing":
        return f"{path}: required, but missing"
    return f"{path}: {err['msg']} (got {err.get('input')!r})"


def _format_errors(error: ValidationError, prefix: str, allowed: Sequence[str] = ()) -> list[str]:
    return [
        _error_line(err, ".".join(str(p) for p in (prefix, *err["loc"]) if p != ""), allowed)
        for err in error.errors()
    ]


def validate_component_params(config_cls: type, params: Mapping[str, Any], prefix: str = "") -> Any:
    """Validate ``params`` through a component's config class; raise ConfigError naming each bad
    ``prefix.field``."""
    try:
        return config_cls(**params)
    except ValidationError as exc:
        lines = _format_errors(exc, prefix, list(config_cls.model_fields))
        raise ConfigError(bulleted("invalid parameters", lines)) from None


def bulleted(title: str, lines: Sequence[str]) -> str:
    """One line for one error; one line per error, under the title, for several."""
    if len(lines) == 1:
        return f"{title}: {lines[0]}"
    return f"{title}:\n" + "\n".join(f"  - {line}" for line in lines)


_TOP_KEYS = list(ExperimentConfig.model_fields)


def _section_path(loc: tuple, data: Mapping[str, Any]) -> str:
    parts = [str(p) for p in loc]
    # Show "encoder.sigma" rather than "encoder.0.sigma" when the file had a single [encoder] table.
    if len(parts) > 1 and parts[0] == "encoder" and parts[1] == "0" and isinstance(data.get("encoder"), Mapping):
        parts.pop(1)
    return ".".join(parts)


def resolve_experiment(
    data: Mapping[str, Any], registry: Registry | None = None, source: str = "config"
) -> Experiment:
    """Validate plain config data completely, resolving every component through the registry."""
    registry = registry or default_registry()
    try:
        raw = ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            path = _section_path(err["loc"], data)
            if len(err["loc"]) == 1:
                lines.append(_error_line(err, path, _TOP_KEYS, what="section"))
            else:
                sections = {"training": TrainingConfig, "logging": LoggingConfig}
                section = sections.get(err["loc"][0])
                lines.append(_error_line(err, path, list(section.model_fields) if section else []))
        raise ConfigError(bulleted(f"invalid {source}", lines)) from None

    errors: list[str] = []

    def resolve(kind: str, spec: ComponentSpec, section: str) -> ResolvedComponent | None:
        try:
            info = registry.resolve(kind, spec.name)
            config_cls = registry.load_config(kind, info.qualified_name)
        except GridzooError as exc:
            errors.append(f"{section}.name: {exc}")
            return None
        try:
            config = config_cls(**spec.params)
        except ValidationError as exc:
            errors.extend(_format_errors(exc, section, list(config_cls.model_fields)))
            return None
        return ResolvedComponent(section, info, config, registry)

    single = len(raw.encoder) == 1
    environment = resolve("environments", raw.environment, "environment")
    encoders = [resolve("encoders", e, "encoder" if single else f"encoder.{i}") for i, e in enumerate(raw.encoder)]
    architecture = resolve("architectures", raw.architecture, "architecture")
    metrics = [resolve("metrics", m, f"metrics.{i}") for i, m in enumerate(raw.metrics)]
    if errors:
        raise ConfigError(bulleted(f"invalid {source}", errors))
    return Experiment(
        environment=environment,  # type: ignore[arg-type]
        encoders=tuple(encoders),  # type: ignore[arg-type]
        architecture=architecture,  # type: ignore[arg-type]
        training=raw.training,
        metrics=tuple(metrics),  # type: ignore[arg-type]
        logging=raw.logging,
    )


def load_experiment(
    path: str | Path | None = None,
    overrides: Sequence[str] = (),
    *,
    data: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
) -> Experiment:
    """Read a TOML file (or take ``data``), apply ``--set`` overrides, and validate everything."""
    if (path is None) == (data is None):
        raise ValueError("give exactly one of path or data")
    source = str(path) if path is not None else "config"
    raw = read_toml(path) if path is not None else dict(data)  # type: ignore[arg-type]
    return resolve_experiment(apply_overrides(raw, overrides), registry, source)
