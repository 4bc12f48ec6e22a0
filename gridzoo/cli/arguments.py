"""Argument types shared by commands: numbers are checked by argparse, so a bad one is one clear line."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def bins(text: str) -> int:
    value = positive_int(text)
    if not 5 <= value <= 256:
        raise argparse.ArgumentTypeError(f"use 5 to 256 bins per side (NFL: 44, 32 or 20), got {value}")
    return value
