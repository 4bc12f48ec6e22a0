"""What every component has, whatever its kind: a strict pydantic config, a summary line and a citation.

A component class declares ``Config`` (a :class:`ComponentConfig` subclass), ``summary`` and, when it follows a
paper, ``citation``. The registry validates user parameters through ``Config`` before anything is built.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class ComponentConfig(BaseModel):
    """Base of every component config: unknown keys are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


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
