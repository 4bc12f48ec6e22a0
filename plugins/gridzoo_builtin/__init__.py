"""gridzoo's built-in components. They reach the core only through the entry points in gridzoo's
pyproject.toml, exactly as a third-party plugin does; nothing in ``gridzoo/`` imports this package."""
