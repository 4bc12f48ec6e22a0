"""gridzoo: train, compare and share deep-network models of grid cells.

Components (environments, target encoders, architectures, metrics) are plugins found through entry points:

>>> import gridzoo
>>> [c.name for c in gridzoo.list_components("architectures")]   # metadata only, nothing imported
>>> RNN = gridzoo.get_component("architectures", "rnn")             # imports that plugin
>>> env = gridzoo.build("environments", "box", width=1.5)            # validated through its config
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gridzoo")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

from gridzoo.registry import build, get_component, list_components  # noqa: E402  (light: imports no torch)

__all__ = ["__version__", "build", "get_component", "list_components", "zoo"]


def __getattr__(name: str):
    # ``gridzoo.zoo`` without importing torch at ``import gridzoo`` time.
    if name == "zoo":
        import importlib

        return importlib.import_module("gridzoo.zoo")
    raise AttributeError(f"module 'gridzoo' has no attribute {name!r}")
