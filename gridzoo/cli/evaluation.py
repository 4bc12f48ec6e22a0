"""``gridzoo evaluate``: score a run folder, a zoo network folder, or a zoo network by name."""

from __future__ import annotations

import argparse

from rich.markup import escape
from rich.table import Table

from gridzoo.cli import arguments
from gridzoo.cli.console import out


def cmd_evaluate(args: argparse.Namespace) -> int:
    from gridzoo.evaluation import evaluate, summary_rows

    arguments.set_threads(args)
    result = evaluate(
        args.target, zoo_name=args.zoo, layer=args.layer, bins=args.bins, units=args.units, samples=args.samples,
        out=args.out, device=args.device, draw=not args.no_figures, analysis_seed=args.analysis_seed,
        metrics=args.metric or (), null_seeds=args.null_seeds,
    )
    title = args.target or f"zoo network {args.zoo}"
    from gridzoo.analysis.verdicts import verdicts

    for line in verdicts(result.values):  # the answer first, then the numbers
        out.print(escape(line.replace("**", "")))
    table = Table(title=f"evaluation of {escape(title)}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in summary_rows(result.values):
        table.add_row(label, value)
    out.print(table)
    out.print(f"metrics: {escape(str(result.out_dir / 'metrics.json'))}")
    for path in result.figures:
        out.print(f"figure: {escape(str(path))}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score a trained network: grid scores, nulls, periods, modules, figures")
    p.add_argument("target", nargs="?", help="a run folder (gridzoo train) or a zoo network folder")
    p.add_argument("--zoo", metavar="NAME", help="evaluate the zoo network NAME instead (see `gridzoo zoo list`)")
    p.add_argument("--layer", help="layer to analyse (default: the architecture's scored layer)")
    p.add_argument("--bins", type=arguments.bins, help="bins per side of the rate maps, 5-256 (default 44, as NFL)")
    p.add_argument("--units", type=arguments.positive_int, help="analyse only the first N units")
    p.add_argument("--samples", type=arguments.samples, default=200_000,
                   help="positions for the rate maps (default 200000)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="cpu or cuda")
    p.add_argument("--out", metavar="DIR", help="where to write metrics.json and figures (default RUN_DIR/evaluation, "
                   "or evaluations/NAME for --zoo)")
    p.add_argument("--null-seeds", type=arguments.non_negative_int, help="untrained networks in the best-unit null (default 19: p <= 0.05; "
                   "fewer is faster and weaker)")
    p.add_argument("--analysis-seed", type=arguments.non_negative_int, default=0, help="an independent set of analysis trajectories (default 0)")
    p.add_argument("--metric", action="append", metavar="NAME", help="an extra metric plugin to run, e.g. robustness "
                   "(repeatable; `gridzoo list metrics`)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    arguments.add_threads(p)
    p.set_defaults(func=cmd_evaluate)
