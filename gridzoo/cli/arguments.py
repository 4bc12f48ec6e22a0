"""Argument types shared by commands: numbers are checked by argparse, so a bad one is one clear line."""

from __future__ import annotations

import argparse


def _whole_number(text: str, low: int, bound: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    return _whole_number(text, 0, "0 or more")


#: Fewest evaluation positions a command accepts: below this a rate map is mostly empty bins and its scores noise.
MIN_SAMPLES = 1000


def samples(text: str) -> int:
    value = positive_int(text)
    if value < MIN_SAMPLES:
        raise argparse.ArgumentTypeError(f"use at least {MIN_SAMPLES} positions (rate maps of fewer are mostly empty "
                                         f"bins; the default is 200000), got {value}")
    return value


def bins(text: str) -> int:
    value = positive_int(text)
    if not 5 <= value <= 256:
        raise argparse.ArgumentTypeError(f"use 5 to 256 bins per side (NFL: 44, 32 or 20), got {value}")
    return value


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=positive_int, help="torch threads (default: $GRIDZOO_THREADS, else the cores "
                        "the rest of the machine leaves free)")


def set_threads(args: argparse.Namespace) -> int:
    """Apply the thread count for a heavy command (imports torch: call after the cheap validation)."""
    from gridzoo.runtime.threads import apply_threads, choose_threads

    return apply_threads(choose_threads(getattr(args, "threads", None)))
