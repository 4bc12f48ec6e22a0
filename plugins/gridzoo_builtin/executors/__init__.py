"""Built-in executors for sweeps."""
