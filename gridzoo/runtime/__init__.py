"""Plumbing that decides how this process runs: threads, the C allocator, floating-point modes, provenance.

Nothing here is a component interface; everything here is set on purpose by the commands that need it.
"""
