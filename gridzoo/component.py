"""What every component has, whatever its kind: a strict pydantic config, a summary line and a citation.

A component class declares ``Config`` (a :class:`ComponentConfig` subclass), ``summary`` and, when it follows a
paper, ``citation``. The registry validates user parameters through ``Config`` before anything is built.
"""

from __future__ import annotations

import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _admits_bool(annotation: Any) -> bool:
    """Whether a field's type accepts True/False as such (bool, Any, or a union or Literal holding a bool)."""
    if annotation is bool or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return any(isinstance(a, bool) for a in args)
    if origin in (typing.Union, types.UnionType):
        return any(_admits_bool(a) for a in args)
    return False


class StrictConfig(BaseModel):
    """Base of every config a user writes: unknown keys are errors, numbers must be finite, and a boolean is
    never silently taken as the number 0 or 1 (pydantic's lax mode would read ``steps = true`` as 1)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_non_bool(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name in cls.model_fields:
            if not _admits_bool(cls.model_fields[info.field_name].annotation):
                raise ValueError("expected a number or text, not true/false")
        return value


#: Mark a config field that acts only while training (a dropout rate, a noise level, a weight penalty):
#: ``Field(0.0, json_schema_extra=TRAINING_ONLY)``. An untrained network in evaluation mode does not depend on
#: such fields, so analyses that cache results of untrained networks (the best-unit null) leave them out of the
#: cache key.
TRAINING_ONLY: dict[str, Any] = {"training_only": True}


class ComponentConfig(StrictConfig):
    """Base of every component config: strict as :class:`StrictConfig`, and frozen once validated."""

    model_config = ConfigDict(frozen=True)

    @classmethod
    def training_only_fields(cls) -> frozenset[str]:
        """The fields marked :data:`TRAINING_ONLY`."""
        return frozenset(name for name, f in cls.model_fields.items()
                         if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("training_only"))


class Component:
    """Class-level description shared by environments, encoders, architectures and metrics."""

    Config: ClassVar[type[ComponentConfig]] = ComponentConfig
    summary: ClassVar[str] = ""
    citation: ClassVar[str | None] = None

    @classmethod
    def describe_fields(cls) -> list[dict[str, Any]]:
        """Every config field with its type, default and description (for ``gridzoo info``)."""
        rows = []
        for name, field in cls.Config.model_fields.items():
            default = None if field.is_required() else field.get_default(call_default_factory=True)
            rows.append(
                {
                    "name": name,
                    "type": _type_name(field.annotation),
                    "required": field.is_required(),
                    "default": default,
                    "description": field.description or "",
                }
            )
        return rows


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not getattr(annotation, "__args__", None) else None
    return text or str(annotation).replace("typing.", "")
