"""``gridzoo train`` and ``gridzoo demo``.

The config and the output folder are checked before torch or Lightning is imported, so a typo is reported at
once; the model is built and checked (device, memory, compatible components) before the run folder appears."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.markup import escape

from gridzoo.cli import arguments
from gridzoo.cli.console import out
from gridzoo.errors import GridzooError


def cmd_train(args: argparse.Namespace) -> int:
    from gridzoo.config import load_experiment
    from gridzoo.presets import preset_path
    from gridzoo.run_folder import check_new_run_folder, default_run_dir

    if args.reproduce:
        return _reproduce(args)
    if args.resume:
        if args.config or args.preset or args.out:
            raise GridzooError("--resume continues a run in its own folder with its own config; drop CONFIG, "
                               "--preset and --out")
        from gridzoo.cli.arguments import set_threads
        from gridzoo.training import resume

        set_threads(args)
        result = resume(Path(args.resume), args.set or [], console=out)
        if result.resumed_finished:
            out.print(f"{escape(args.resume)} has already finished these steps; nothing to do (metrics kept). "
                      "Train longer with --set training.steps=N.")
        _report(result)
        return 0
    if bool(args.config) == bool(args.preset):
        raise GridzooError("give a CONFIG file or --preset NAME (see `gridzoo presets`), not both or neither")
    path = Path(args.config) if args.config else preset_path(args.preset)
    label = args.preset or path.stem
    experiment = load_experiment(path, args.set or [])
    run_dir = check_new_run_folder(Path(args.out) if args.out else default_run_dir(label))
    from gridzoo.cli.arguments import set_threads
    from gridzoo.training import train  # Lightning is imported only from here on

    set_threads(args)

    out.print(f"Training [bold]{escape(label)}[/bold] into {escape(str(run_dir))}")
    result = train(experiment, run_dir, console=out, meta={"source": str(path), "overrides": args.set or []})
    _report(result)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    """``gridzoo train --reproduce RECORD``: train the record's config again; exit 0 only if everything matches."""
    from rich.table import Table

    from gridzoo.run_folder import check_new_run_folder, default_run_dir

    if args.config or args.preset or args.resume or args.set:
        raise GridzooError("--reproduce trains a record's own config: drop CONFIG, --preset, --resume and --set")
    record = Path(args.reproduce)
    if not (record / "config.json").is_file():
        raise GridzooError(f"{args.reproduce!r} is not a run folder or run record (no config.json); check the path")
    run_dir = check_new_run_folder(Path(args.out) if args.out else default_run_dir(f"reproduce-{record.name}"))
    from gridzoo.training.reproduce import reproduce

    out.print(f"Reproducing {escape(str(record))} into {escape(str(run_dir))}")
    result = reproduce(record, run_dir, console=out)
    table = Table(title=f"{escape(str(record))}, re-trained with {result.threads} thread(s)", title_justify="left")
    for column in ("metric", "recorded", "reproduced", "verdict"):
        table.add_column(column)
    fmt = lambda v: "–" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)  # noqa: E731
    for name, a, b, verdict in result.metrics:
        table.add_row(escape(name), fmt(a), fmt(b), verdict)
    out.print(table)
    out.print(f"weights: {result.weights}")
    for line in result.differences:
        out.print(f"differs from the record: {escape(line)}")
    out.print("bit for bit: yes" if result.identical else "bit for bit: no")
    return 0 if result.identical else 4


def cmd_demo(args: argparse.Namespace) -> int:
    args.config, args.preset, args.resume, args.reproduce = None, "demo", None, None
    return cmd_train(args)


def _report(result: Any) -> None:
    if not result.resumed_finished:
        out.print(f"Finished in {result.seconds:.1f} s. Run folder: {escape(str(result.run_dir))}")
    for name, value in result.metrics.items():
        if value is None:
            continue
        before = result.initial_metrics.get(name)
        change = f"  (untrained: {before:.4g})" if before is not None else ""
        out.print(f"  {name}: {value:.4g}{change}")


def register(sub: argparse._SubParsersAction) -> None:
    for name, func, help_text in (
        ("train", cmd_train, "train a model from a TOML config or a preset"),
        ("demo", cmd_demo, "a one-minute CPU demo training (same as train --preset demo)"),
    ):
        p = sub.add_parser(name, help=help_text)
        if name == "train":
            p.add_argument("config", nargs="?", help="experiment TOML file")
            p.add_argument("--preset", help="a shipped config (see `gridzoo presets`)")
            p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
            p.add_argument("--reproduce", metavar="RECORD", help="train a finished run's (or a sweep record's) config "
                           "again under its recorded thread count and compare; exit 4 if anything differs")
        p.add_argument(
            "--set",
            action="append",
            metavar="DOTTED.PATH=VALUE",
            help="override a config value, e.g. --set training.steps=500 (repeatable)",
        )
        p.add_argument("--out", metavar="DIR", help="run folder to create (default runs/NAME-TIMESTAMP)")
        arguments.add_threads(p)
        p.set_defaults(func=func)
