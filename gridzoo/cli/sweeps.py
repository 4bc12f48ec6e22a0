"""``gridzoo sweep`` and ``gridzoo report``: many runs from one spec, and their summary."""

from __future__ import annotations

import argparse
import json

from rich.markup import escape
from rich.table import Table

from gridzoo.cli.console import out


def short_assignment(assignment: dict) -> str:
    """A run's axis values in a few words: each axis by its last name, a whole section by its component's name."""
    parts = []
    for key, value in assignment.items():
        if isinstance(value, dict):
            value = value.get("name", "?")
        parts.append(f"{key.rpartition('.')[2]}={value}")
    return " ".join(parts)


def cmd_sweep(args: argparse.Namespace) -> int:
    from gridzoo.config import parse_override
    from gridzoo.sweeps.runner import execute_sweep, pending_runs, prepare_sweep

    options = {}
    for text in args.executor_option or []:
        path, value = parse_override(text)
        options[".".join(path)] = value
    if args.workers is not None:
        options["workers"] = args.workers
    done = [0]
    progress = None
    total = [0]

    def on_result(run_id: str, result: dict) -> None:
        done[0] += 1
        metrics = result.get("metrics") or {}
        detail = (f"error {metrics.get('decoding_error_cm', float('nan')):.3g} cm, best score "
                  f"{metrics.get('score_60_max') if metrics.get('score_60_max') is not None else float('nan'):.3g}"
                  if result["status"] == "finished" else result.get("error", ""))
        line = f"[{done[0]}/{total[0]}] {run_id} ({short_assignment(result.get('assignment') or {})}) {result['status']}: {detail}"
        if progress is not None:
            progress.console.print(escape(line), soft_wrap=True)
            progress.update(task, advance=1)
        else:
            out.print(escape(line), soft_wrap=True)

    if args.reevaluate:
        from gridzoo.sweeps.runner import reevaluate_sweep

        count = reevaluate_sweep(args.out, lambda run_id, result: out.print(f"re-evaluated {escape(run_id)}"))
        out.print(f"{count} finished run(s) re-evaluated. Summarise with: gridzoo report {escape(args.out)}")
        return 0
    sweep = prepare_sweep(args.spec, executor=args.executor, executor_options=options, records=args.records)
    if args.dry_run:
        table = Table(title=f"{len(sweep.runs)} runs (dry run: nothing was run)", title_justify="left")
        table.add_column("id")
        table.add_column("axis values", overflow="fold")
        for r in sweep.runs:
            table.add_row(r.id, escape(json.dumps(r.assignment)))
        out.print(table)
        return 0
    total[0] = len(pending_runs(sweep, args.out))
    out.print(f"Sweep {escape(args.spec)}: {len(sweep.runs)} runs, {len(sweep.runs) - total[0]} already done; "
              f"executor {escape(args.executor)}; folder {escape(args.out)}"
              + (f"; records {escape(str(sweep.records))}" if sweep.records is not None else ""))
    if out.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        progress = Progress("[bold]sweep", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=out)
        progress.start()
        task = progress.add_task("", total=total[0])
    try:
        summary = execute_sweep(sweep, args.out, on_result)
    finally:
        if progress is not None:
            progress.stop()
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary.counts.items())) or "nothing left to run"
    out.print(f"Done in {summary.seconds:.0f} s: {counts}. Summarise with: gridzoo report {escape(args.out)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from gridzoo.sweeps.report import FRACTIONS, make_report

    report = make_report(args.dir, args.by, draw=not args.no_figures, where=args.where or (), name=args.name,
                         compare=args.compare)
    table = Table(title=f"sweep report: {escape(args.dir)} (fractions with 95 % intervals)", title_justify="left")
    shown = [name for name, _ in FRACTIONS if name != "path_integrating_relative"]
    for column in (*report.by, "runs", "done/div/fail", *shown, "period (m)"):
        table.add_column(column.replace("_", " "), justify="left" if column in report.by else "right")

    def fraction(g, name):
        v, lo, hi = g[f"fraction_{name}"], g[f"fraction_{name}_low"], g[f"fraction_{name}_high"]
        return "–" if v != v else f"{v:.2f} [{lo:.2f}, {hi:.2f}]"

    for g in report.groups:
        table.add_row(*(escape(str(g[c])) for c in report.by), str(g["runs"]),
                      f"{g['finished']}/{g['diverged']}/{g['failed']}", *(fraction(g, n) for n in shown),
                      "–" if g["median_period_m"] != g["median_period_m"] else f"{g['median_period_m']:.2f}")
    out.print(table)
    for name, meaning in FRACTIONS:
        out.print(f"[dim]{escape(name)}: {escape(meaning)}[/dim]")
    if report.comparisons:
        comparisons = Table(title="paired comparisons (difference b - a, 95 % interval: t below 8 pairs, else bootstrap; sign-flip p; d)",
                            title_justify="left")
        for column in ("comparison", "outcome", "pairs", "a", "b", "b - a [95 %]", "p", "d"):
            comparisons.add_column(column, justify="left" if column in ("comparison", "outcome") else "right")
        for c in report.comparisons:
            comparisons.add_row(escape(c["comparison"]), escape(c["outcome"]), str(c["pairs"]), f"{c['mean_a']:.3g}",
                                f"{c['mean_b']:.3g}", f"{c['difference']:.3g} [{c['difference_low']:.3g}, "
                                f"{c['difference_high']:.3g}]", f"{c['p_value']:.3g}", f"{c['effect_d']:.2f}")
        out.print(comparisons)
        out.print(f"comparisons: {escape(str(report.comparisons_path))}")
    out.print(f"table: {escape(str(report.csv_path))}; every run: {escape(str(report.runs_path))}")
    for path in report.figures:
        out.print(f"figure: {escape(str(path))}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from gridzoo.cli import arguments

    p = sub.add_parser("sweep", help="train and evaluate every run of a sweep spec (resumable)")
    p.add_argument("spec", help="sweep spec (TOML)")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep folder; rerunning the same command resumes")
    p.add_argument("--executor", default="local", help="executor plugin (gridzoo list executors); default local")
    p.add_argument("--workers", type=arguments.positive_int, help="runs at a time (local executor)")
    p.add_argument("--executor-option", action="append", metavar="KEY=VALUE", help="an executor config value")
    p.add_argument("--records", metavar="DIR", help="keep each finished run's committable record here (default: the "
                   "spec's `records`); runs recorded there are not trained again")
    p.add_argument("--dry-run", action="store_true", help="validate and list the runs; run nothing")
    p.add_argument("--reevaluate", action="store_true", help="evaluate every finished run again with the current "
                   "analysis code; train nothing")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("report", help="summarise a sweep per group: table, CSV and figures")
    p.add_argument("dir", help="a sweep folder, or a sweep's records folder")
    p.add_argument("--by", action="append", metavar="AXIS", help="group by this config path (repeatable); "
                   "default: encoder and architecture")
    p.add_argument("--where", action="append", metavar="PATH=VALUE", help="only the runs whose config has this "
                   "value (repeatable), e.g. --where encoder=dos")
    p.add_argument("--name", default="report", help="file name stem of the outputs (default report)")
    p.add_argument("--compare", metavar="PATH=BASELINE", help="paired comparisons of every level of PATH against "
                   "BASELINE (runs identical but for PATH), e.g. --compare architecture.input_dropout=0.0")
    p.add_argument("--no-figures", action="store_true")
    p.set_defaults(func=cmd_report)
