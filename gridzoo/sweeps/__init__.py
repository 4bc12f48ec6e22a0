"""Sweeps: many experiments from one spec, run by an executor, resumable, summarised by `gridzoo report`."""
