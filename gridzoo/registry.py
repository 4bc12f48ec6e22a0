"""Plugin discovery through Python entry points, in two phases (as flake8 does).

1. *List* reads installed distributions' metadata only (``importlib.metadata``): no plugin code runs.
2. *Load* imports one entry point when it is used. A plugin that fails to import is recorded in
   :attr:`Registry.failures` and reported; it never breaks ``import gridzoo``, listing, or other plugins.
   With ``GRIDZOO_STRICT_PLUGINS=1`` such a failure raises instead (for plugin authors' CI).

A name registered by two distributions stays reachable as ``DIST:NAME``; the bare name is then ambiguous.

Between the two phases sits an optional light step: a plugin may also register its config class in the group
``gridzoo.configs`` under ``KIND.NAME`` (e.g. ``environments.box``), in a module that imports no torch. Configs are
then validated without importing the implementation, so a typo in an experiment file is reported at once. A
plugin without such an entry has its config read from the loaded class, as before.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from gridzoo.errors import AmbiguousComponentError, PluginLoadError, UnknownComponentError

#: kind -> (entry-point group, "module:BaseClass" every plugin of that kind must subclass)
KINDS: dict[str, tuple[str, str]] = {
    "environments": ("gridzoo.environments", "gridzoo.environment:Environment"),
    "encoders": ("gridzoo.encoders", "gridzoo.encoder:TargetEncoder"),
    "architectures": ("gridzoo.architectures", "gridzoo.architecture:Architecture"),
    "metrics": ("gridzoo.metrics", "gridzoo.metric:Metric"),
    "executors": ("gridzoo.executors", "gridzoo.executor:Executor"),
}

CONFIG_GROUP = "gridzoo.configs"

_SINGULAR = {kind[:-1]: kind for kind in KINDS}


def normalize_kind(kind: str) -> str:
    """Accept ``architectures`` or ``architecture``; raise a helpful error for anything else."""
    if kind in KINDS:
        return kind
    if kind in _SINGULAR:
        return _SINGULAR[kind]
    raise UnknownComponentError(f"unknown component kind {kind!r}; choose one of: {', '.join(KINDS)}")


def _canonical_dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class ComponentInfo:
    """One registered component, as read from metadata (nothing imported)."""

    kind: str
    name: str
    distribution: str
    version: str
    target: str  # "module:attribute"

    @property
    def qualified_name(self) -> str:
        return f"{self.distribution}:{self.name}"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, with the reason."""

    info: ComponentInfo
    error: str
    details: str = ""


def strict_plugins() -> bool:
    from gridzoo.runtime.environment import flag

    return flag("GRIDZOO_STRICT_PLUGINS")


@dataclass
class Registry:
    """Every component of every kind that the installed distributions register."""

    _infos: dict[str, list[ComponentInfo]] | None = None
    _config_targets: dict[tuple[str, str, str], str] | None = None
    _loaded: dict[tuple[str, str], type] = field(default_factory=dict)
    _configs: dict[tuple[str, str], type] = field(default_factory=dict)
    failures: dict[tuple[str, str], PluginFailure] = field(default_factory=dict)

    # -- phase 1: metadata ------------------------------------------------------------------------
    def infos(self, kind: str | None = None) -> list[ComponentInfo]:
        """Registered components (of one kind, or all), sorted by kind and name; imports no plugin."""
        if self._infos is None:
            self._infos = {k: self._read_group(k, group) for k, (group, _) in KINDS.items()}
        kinds = [normalize_kind(kind)] if kind else list(KINDS)
        return [info for k in kinds for info in self._infos[k]]

    @staticmethod
    def _read_group(kind: str, group: str) -> list[ComponentInfo]:
        seen: dict[tuple[str, str], ComponentInfo] = {}
        for ep in entry_points(group=group):
            dist = ep.dist
            info = ComponentInfo(
                kind=kind,
                name=ep.name,
                distribution=dist.name if dist is not None else "unknown",
                version=dist.version if dist is not None else "",
                target=ep.value,
            )
            # The same distribution found twice on sys.path (e.g. a build dir) registers once.
            seen.setdefault((_canonical_dist(info.distribution), info.name), info)
        return sorted(seen.values(), key=lambda i: (i.name, i.distribution))

    def resolve(self, kind: str, name: str) -> ComponentInfo:
        """The component a user's name refers to: ``NAME`` or ``DIST:NAME``."""
        kind = normalize_kind(kind)
        infos = self.infos(kind)
        dist, _, bare = name.rpartition(":")
        matches = [i for i in infos if i.name == bare]
        if dist:
            matches = [i for i in matches if _canonical_dist(i.distribution) == _canonical_dist(dist)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            options = ", ".join(repr(m.qualified_name) for m in matches)
            raise AmbiguousComponentError(
                f"{kind[:-1]} name {name!r} is registered by {len(matches)} distributions; "
                f"name one of them in full: {options}"
            )
        candidates = sorted({i.name for i in infos} | {i.qualified_name for i in infos})
        close = difflib.get_close_matches(bare if not dist else name, candidates, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownComponentError(
            f"no {kind[:-1]} named {name!r} is registered.{hint} "
            f"Run `gridzoo list {kind}` to see them all."
        )

    # -- between the phases: configs from light modules --------------------------------------------
    def _config_target(self, info: ComponentInfo) -> str | None:
        if self._config_targets is None:
            targets = {}
            for ep in entry_points(group=CONFIG_GROUP):
                kind, _, name = ep.name.partition(".")
                dist = _canonical_dist(ep.dist.name) if ep.dist is not None else "unknown"
                targets.setdefault((dist, kind, name), ep.value)
            self._config_targets = targets
        return self._config_targets.get((_canonical_dist(info.distribution), info.kind, info.name))

    def load_config(self, kind: str, name: str) -> type:
        """The config class of the component ``name`` refers to, imported from its light module when the plugin
        registers one in ``gridzoo.configs``, else from the component class itself."""
        info = self.resolve(kind, name)
        key = (info.kind, info.qualified_name)
        if key in self._configs:
            return self._configs[key]
        target = self._config_target(info)
        if target is None:
            config = self.load(info.kind, info.qualified_name).Config
        else:
            try:
                config = EntryPoint(name=info.name, value=target, group=CONFIG_GROUP).load()
                _check_config(config, target)
            except Exception as exc:
                failure = PluginFailure(info, f"config {target}: {type(exc).__name__}: {exc}", traceback.format_exc())
                self.failures[key] = failure
                raise PluginLoadError(self._failure_message(failure)) from exc
        self._configs[key] = config
        return config

    # -- phase 2: import on use -------------------------------------------------------------------
    def load(self, kind: str, name: str) -> type:
        """Import the component class that ``name`` refers to, checking it implements the kind's interface."""
        info = self.resolve(kind, name)
        key = (info.kind, info.qualified_name)
        if key in self._loaded:
            return self._loaded[key]
        if key in self.failures:
            raise PluginLoadError(self._failure_message(self.failures[key]))
        try:
            cls = _import_target(info)
            declared = self._config_target(info)
            if declared is not None and f"{cls.Config.__module__}:{cls.Config.__qualname__}" != declared:
                raise TypeError(f"its Config is {cls.Config.__module__}:{cls.Config.__qualname__}, but the "
                                f"gridzoo.configs entry point names {declared}")
        except Exception as exc:  # a broken plugin must not take the rest down
            failure = PluginFailure(info, f"{type(exc).__name__}: {exc}", traceback.format_exc())
            self.failures[key] = failure
            raise PluginLoadError(self._failure_message(failure)) from exc
        self._loaded[key] = cls
        return cls

    def load_all(self, kind: str | None = None) -> list[tuple[ComponentInfo, type | None]]:
        """Load every component (for listing summaries); failures are recorded, or raised when strict."""
        result = []
        for info in self.infos(kind):
            try:
                result.append((info, self.load(info.kind, info.qualified_name)))
            except PluginLoadError:
                if strict_plugins():
                    raise
                result.append((info, None))
        return result

    @staticmethod
    def _failure_message(failure: PluginFailure) -> str:
        i = failure.info
        return (
            f"plugin {i.qualified_name!r} ({i.kind}, {i.distribution} {i.version}, entry point {i.target}) "
            f"failed to load: {failure.error}"
        )


def _import_target(info: ComponentInfo) -> type:
    # EntryPoint.load() does the import and attribute walk; we add the interface check.
    obj = EntryPoint(name=info.name, value=info.target, group=KINDS[info.kind][0]).load()
    base = _base_class(info.kind)
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise TypeError(f"{info.target} is not a subclass of {base.__module__}.{base.__qualname__}")
    _check_config(getattr(obj, "Config", None), f"{info.target}.Config")
    if not isinstance(getattr(obj, "summary", ""), str):
        raise TypeError(f"{info.target}.summary must be a string")
    return obj


def _check_config(config: object, where: str) -> None:
    """A component's config must be a ComponentConfig that forbids unknown keys, or typos would pass silently."""
    from gridzoo.component import ComponentConfig

    if not (isinstance(config, type) and issubclass(config, ComponentConfig)):
        raise TypeError(f"{where} is not a subclass of gridzoo.component.ComponentConfig")
    if config.model_config.get("extra") != "forbid":
        raise TypeError(f"{where} accepts unknown keys (model_config extra={config.model_config.get('extra')!r}); "
                        "it must forbid them")


def _base_class(kind: str) -> type:
    module, _, attr = KINDS[kind][1].partition(":")
    return getattr(importlib.import_module(module), attr)


_registry: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry, read on first use."""
    global _registry
    if _registry is None:
        _registry = Registry()
    return _registry


def refresh() -> Registry:
    """Forget what was read and loaded (after installing a plugin in a running process, or in tests)."""
    global _registry
    importlib.invalidate_caches()
    _registry = Registry()
    return _registry


def list_components(kind: str | None = None) -> list[ComponentInfo]:
    """Registered components, from metadata only (no plugin is imported)."""
    return default_registry().infos(kind)


def get_component(kind: str, name: str) -> type:
    """The class registered under ``name`` (``NAME`` or ``DIST:NAME``) for ``kind``; imports it."""
    return default_registry().load(kind, name)


def build(kind: str, name: str, /, *args: Any, **params: Any) -> Any:
    """Build a component: ``params`` are validated through its config (unknown keys are errors) and
    ``args`` are passed on positionally: an encoder takes the environment, an architecture
    ``input_size, init_size, output_sizes``; environments and metrics take none.

    >>> env = gridzoo.build("environments", "box", width=1.0)
    """
    from gridzoo.config import validate_component_params

    config_cls = default_registry().load_config(kind, name)
    config = validate_component_params(config_cls, params, prefix=normalize_kind(kind)[:-1])
    return get_component(kind, name)(config, *args)
