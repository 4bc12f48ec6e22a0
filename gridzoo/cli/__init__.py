"""The ``gridzoo`` command line.

User errors (a bad config, an unknown name) exit with code 2 and one message, without a traceback;
Ctrl-C during training saves a checkpoint and exits with 130; bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gridzoo import __version__
from gridzoo.errors import GridzooError, TrainingInterrupted
from gridzoo.registry import KINDS, default_registry, normalize_kind

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _print_json(data: Any) -> None:
    # Plain print: rich would wrap long lines and break the JSON for scripts.
    print(json.dumps(data, indent=2, default=str))


# --- gridzoo list ----------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    registry = default_registry()
    kind = normalize_kind(args.kind) if args.kind else None
    if args.metadata_only:
        loaded = [(info, None) for info in registry.infos(kind)]
    else:
        loaded = registry.load_all(kind)
    failures = [f for f in registry.failures.values() if kind is None or f.info.kind == kind]
    rows = [
        {
            "kind": info.kind,
            "name": info.name,
            "qualified_name": info.qualified_name,
            "summary": getattr(cls, "summary", None),
            "distribution": info.distribution,
            "version": info.version,
            "target": info.target,
            "loaded": cls is not None,
        }
        for info, cls in loaded
        if cls is not None or args.metadata_only
    ]
    if args.json:
        _print_json(
            {
                "components": rows,
                "failures": [
                    {
                        "kind": f.info.kind,
                        "name": f.info.name,
                        "distribution": f.info.distribution,
                        "version": f.info.version,
                        "target": f.info.target,
                        "error": f.error,
                    }
                    for f in failures
                ],
            }
        )
        return 0
    table = Table(title="gridzoo components", title_justify="left")
    for column in ("kind", "name", "summary", "distribution", "version"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["kind"], r["name"], escape(r["summary"] or ""), r["distribution"], r["version"])
    out.print(table)
    if failures:
        broken = Table(title="plugins that failed to load", title_justify="left", title_style="bold red")
        for column in ("kind", "name", "distribution", "entry point", "error"):
            broken.add_column(column, overflow="fold")
        for f in failures:
            i = f.info
            broken.add_row(i.kind, i.name, f"{i.distribution} {i.version}", i.target, escape(f.error))
        out.print(broken)
    return 0


# --- gridzoo info ----------------------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    registry = default_registry()
    info = registry.resolve(args.kind, args.name)
    cls = registry.load(info.kind, info.qualified_name)
    fields = cls.describe_fields()
    data = {
        "kind": info.kind,
        "name": info.name,
        "qualified_name": info.qualified_name,
        "distribution": info.distribution,
        "version": info.version,
        "target": info.target,
        "summary": cls.summary,
        "citation": cls.citation,
        "doc": (cls.__doc__ or "").strip(),
        "fields": fields,
    }
    if args.json:
        _print_json(data)
        return 0
    out.print(f"[bold]{escape(info.kind[:-1])} {escape(info.name)}[/bold]  ({escape(info.distribution)} {info.version})")
    out.print(escape(cls.summary))
    if cls.citation:
        out.print(f"[dim]Citation:[/dim] {escape(cls.citation)}")
    if data["doc"]:
        out.print()
        out.print(escape(data["doc"]))
    table = Table(title="config fields", title_justify="left")
    for column in ("field", "type", "default", "description"):
        table.add_column(column, overflow="fold")
    for f in fields:
        default = "(required)" if f["required"] else json.dumps(f["default"], default=str)
        table.add_row(f["name"], escape(f["type"]), escape(default), escape(f["description"]))
    out.print()
    out.print(table if fields else "This component has no parameters.")
    return 0


# --- gridzoo presets -------------------------------------------------------------------------------


def cmd_presets(args: argparse.Namespace) -> int:
    from gridzoo.presets import preset_names, preset_path

    rows = []
    for name in preset_names():
        first = preset_path(name).read_text().splitlines()[0].lstrip("# ").strip()
        rows.append({"name": name, "description": first})
    if args.json:
        _print_json(rows)
        return 0
    table = Table(title="presets (gridzoo train --preset NAME)", title_justify="left")
    table.add_column("name")
    table.add_column("description", overflow="fold")
    for r in rows:
        table.add_row(r["name"], escape(r["description"]))
    out.print(table)
    return 0


# --- gridzoo train / demo --------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from gridzoo.config import load_experiment
    from gridzoo.presets import preset_path
    from gridzoo.training import resume, train
    from gridzoo.training.run import default_run_dir

    if args.resume:
        if args.config or args.preset:
            raise GridzooError("--resume continues a run with its own config; drop CONFIG / --preset")
        result = resume(Path(args.resume), args.set or [], console=out)
    else:
        if bool(args.config) == bool(args.preset):
            raise GridzooError("give a CONFIG file or --preset NAME (see `gridzoo presets`), not both or neither")
        path = Path(args.config) if args.config else preset_path(args.preset)
        label = args.preset or path.stem
        experiment = load_experiment(path, args.set or [])
        run_dir = Path(args.out) if args.out else default_run_dir(label)
        out.print(f"Training [bold]{escape(label)}[/bold] into {escape(str(run_dir))}")
        result = train(experiment, run_dir, console=out, meta={"source": str(path), "overrides": args.set or []})
    _report(result)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    args.config, args.preset, args.resume = None, "demo", None
    return cmd_train(args)


def _report(result: Any) -> None:
    out.print(f"Finished in {result.seconds:.1f} s. Run folder: {escape(str(result.run_dir))}")
    for name, value in result.metrics.items():
        before = result.initial_metrics.get(name)
        change = f"  (untrained: {before:.4g})" if before is not None else ""
        out.print(f"  {name}: {value:.4g}{change}")


# --- gridzoo evaluate -----------------------------------------------------------------------------


def cmd_evaluate(args: argparse.Namespace) -> int:
    from gridzoo.evaluation import evaluate, summary_rows

    result = evaluate(
        Path(args.run_dir), layer=args.layer, bins=args.bins, units=args.units, samples=args.samples,
        out=args.out, device=args.device, draw=not args.no_figures,
    )
    table = Table(title=f"evaluation of {escape(args.run_dir)}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in summary_rows(result.values):
        table.add_row(label, value)
    out.print(table)
    out.print(f"metrics: {escape(str(result.out_dir / 'metrics.json'))}")
    for path in result.figures:
        out.print(f"figure: {escape(str(path))}")
    return 0


# --- gridzoo zoo ----------------------------------------------------------------------------------


def cmd_zoo_list(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    entries = zoo.list(args.pattern, registry=args.registry)
    if args.json:
        _print_json([e.model_dump(mode="json", exclude_none=True) for e in entries])
        return 0
    table = Table(title="gridzoo zoo", title_justify="left")
    for column in ("name", "summary", "decoding error (cm)", "best score_60", "over null", "period (m)", "tags"):
        table.add_column(column, overflow="fold")
    for e in entries:
        m = e.metrics
        fmt = lambda k: f"{m[k]:.3g}" if k in m else ""  # noqa: E731
        table.add_row(e.name, escape(e.summary), fmt("decoding_error_cm"), fmt("score_60_max"),
                      fmt("fraction_score_60_over_null"), fmt("period_median_m"), ", ".join(e.tags))
    out.print(table if entries else "No zoo network matches." if args.pattern else "The zoo catalogue is empty.")
    return 0


def cmd_zoo_info(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    entry = zoo.entry(args.name, registry=args.registry)
    if args.json:
        _print_json(entry.model_dump(mode="json", exclude_none=True))
        return 0
    out.print(f"[bold]{escape(entry.name)}[/bold]: {escape(entry.summary)}")
    if entry.paper:
        out.print(f"[dim]Paper:[/dim] {escape(entry.paper)}")
    out.print(f"[dim]Licence:[/dim] {escape(entry.licence)}   [dim]Tags:[/dim] {escape(', '.join(entry.tags))}")
    out.print(f"[dim]Files:[/dim] {escape(entry.path or entry.url or '')}")
    table = Table(title_justify="left")
    table.add_column("file")
    table.add_column("size", justify="right")
    table.add_column("sha256")
    for name, record in entry.files.items():
        table.add_row(name, f"{record.size:,}", record.sha256)
    out.print(table)
    metrics = Table(title="metrics", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for key, value in entry.metrics.items():
        metrics.add_row(key, f"{value:.4g}")
    out.print(metrics)
    return 0


def cmd_zoo_verify(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    names = [args.name] if args.name else [e.name for e in zoo.list(registry=args.registry)]
    failed = 0
    for name in names:
        try:
            zoo.verify(name, registry=args.registry)
            out.print(f"[green]ok[/green]     {escape(name)}")
        except GridzooError as exc:
            failed += 1
            out.print(f"[red]FAILED[/red] {escape(name)}: {escape(str(exc))}", soft_wrap=True)
    if failed:
        raise GridzooError(f"{failed} of {len(names)} zoo network(s) failed verification")
    out.print(f"{len(names)} network(s) verified")
    return 0


def cmd_zoo_pull(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    folder = zoo.pull(args.name, registry=args.registry)
    out.print(f"{escape(args.name)}: verified in {escape(str(folder))}")
    return 0


def cmd_zoo_export(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    entry = zoo.export(args.run_dir, args.name, registry=args.registry, summary=args.summary, tags=args.tag,
                       url=args.url)
    out.print(f"exported {escape(entry.name)}: " + ", ".join(f"{k} {v:.4g}" for k, v in entry.metrics.items()))
    return 0


def cmd_zoo_rebuild(args: argparse.Namespace) -> int:
    import tempfile

    from gridzoo import zoo
    from gridzoo.evaluation import evaluate_model, load_run
    from gridzoo.io import write_json
    from gridzoo.training import train

    recorded = zoo.load(args.name, registry=args.registry)
    run_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix=f"gridzoo-rebuild-{args.name}-")) / "run"
    out.print(f"Retraining {escape(args.name)} from its recorded config and seed into {escape(str(run_dir))}")
    train(recorded.experiment, run_dir, console=out, meta={"source": f"zoo:{args.name}"})
    experiment, model = load_run(run_dir)
    rebuilt = evaluate_model(experiment, model, draw=False).values
    table = Table(title=f"{args.name}: recorded against rebuilt", title_justify="left")
    for column in ("metric", "recorded", "rebuilt", "difference"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for key in zoo.KEY_METRICS:
        if key in recorded.metrics and key in rebuilt:
            a, b = recorded.metrics[key], rebuilt[key]
            table.add_row(key, f"{a:.4g}", f"{b:.4g}", f"{b - a:+.3g}")
    out.print(table)
    write_json(run_dir / "rebuild.json", {"recorded": recorded.metrics, "rebuilt": rebuilt})
    return 0


# --- gridzoo sweep / report ------------------------------------------------------------------------


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
        line = f"[{done[0]}/{total[0]}] {run_id} {result['status']}: {detail}"
        if progress is not None:
            progress.console.print(escape(line), soft_wrap=True)
            progress.update(task, advance=1)
        else:
            out.print(escape(line), soft_wrap=True)

    sweep = prepare_sweep(args.spec, executor=args.executor, executor_options=options)
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
              f"executor {escape(args.executor)}; folder {escape(args.out)}")
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
    from gridzoo.sweeps.report import COLUMNS, make_report

    report = make_report(args.dir, args.by, draw=not args.no_figures)
    table = Table(title=f"sweep report: {escape(args.dir)}", title_justify="left")
    for column in (*report.by, *COLUMNS):
        table.add_column(column.replace("fraction_", "").replace("_", " "), justify="left" if column in report.by else "right")
    for g in report.groups:
        table.add_row(*(escape(str(g[c])) for c in report.by),
                      *(f"{g[c]:.3g}" if isinstance(g[c], float) else str(g[c]) for c in COLUMNS))
    out.print(table)
    out.print(f"table: {escape(str(report.csv_path))}")
    for path in report.figures:
        out.print(f"figure: {escape(str(path))}")
    return 0


# --- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridzoo", description="Train, compare and share deep-network models of grid cells."
    )
    parser.add_argument("--version", action="version", version=f"gridzoo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list registered components")
    p.add_argument("kind", nargs="?", help=f"one of: {', '.join(KINDS)}")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--metadata-only", action="store_true", help="read entry-point metadata only; import no plugin (no summaries)"
    )
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="describe one component and its config fields")
    p.add_argument("kind", help=f"one of: {', '.join(KINDS)}")
    p.add_argument("name", help="NAME or DIST:NAME")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("presets", help="list the shipped experiment presets")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("evaluate", help="score a trained run: grid scores, nulls, periods, modules, figures")
    p.add_argument("run_dir", help="a run folder from gridzoo train")
    p.add_argument("--layer", help="layer to analyse (default: the architecture's scored layer)")
    p.add_argument("--bins", type=int, help="bins per side of the rate maps (default 44, as NFL)")
    p.add_argument("--units", type=int, help="analyse only the first N units")
    p.add_argument("--samples", type=int, default=200_000, help="positions for the rate maps (default 200000)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--out", metavar="DIR", help="where to write metrics.json and figures (default RUN_DIR/evaluation)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(func=cmd_evaluate)

    zoo = sub.add_parser("zoo", help="the zoo of trained networks").add_subparsers(dest="zoo_command", required=True, metavar="ZOO_COMMAND")
    p = zoo.add_parser("list", help="list zoo networks (wildcards match names and tags)")
    p.add_argument("pattern", nargs="?", help="e.g. 'nfl*' or 'dos'")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_zoo_list)
    p = zoo.add_parser("info", help="one network: paper, licence, files with sha256, metrics")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_zoo_info)
    p = zoo.add_parser("verify", help="check files against their sha256 (all networks if no NAME)")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_zoo_verify)
    p = zoo.add_parser("pull", help="download a network into the cache ($GRIDZOO_HOME) and verify it")
    p.add_argument("name")
    p.set_defaults(func=cmd_zoo_pull)
    p = zoo.add_parser("export", help="publish a finished run into a registry (evaluates it first)")
    p.add_argument("run_dir")
    p.add_argument("--name", required=True, help="zoo name: lower case, digits, '.', '_' and '-'")
    p.add_argument("--summary", help="one line for the catalogue (default: made from the components)")
    p.add_argument("--tag", action="append", help="extra tag (repeatable)")
    p.add_argument("--url", help="base URL the files will be served from (instead of shipping them)")
    p.set_defaults(func=cmd_zoo_export)
    p = zoo.add_parser("rebuild", help="retrain a network from its recorded config and seed; compare metrics")
    p.add_argument("name")
    p.add_argument("--out", metavar="DIR", help="run folder for the retraining (default: a temporary folder)")
    p.set_defaults(func=cmd_zoo_rebuild)
    for p in zoo.choices.values():
        p.add_argument("--registry", metavar="DIR", help="registry folder (default: $GRIDZOO_REGISTRY or the installed one)")

    p = sub.add_parser("sweep", help="train and evaluate every run of a sweep spec (resumable)")
    p.add_argument("spec", help="sweep spec (TOML)")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep folder; rerunning the same command resumes")
    p.add_argument("--executor", default="local", help="executor plugin (gridzoo list executors); default local")
    p.add_argument("--workers", type=int, help="runs at a time (local executor)")
    p.add_argument("--executor-option", action="append", metavar="KEY=VALUE", help="an executor config value")
    p.add_argument("--dry-run", action="store_true", help="validate and list the runs; run nothing")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("report", help="summarise a sweep per group: table, CSV and figures")
    p.add_argument("dir", help="a sweep folder")
    p.add_argument("--by", action="append", metavar="AXIS", help="group by this config path (repeatable); "
                   "default: encoder and architecture")
    p.add_argument("--no-figures", action="store_true")
    p.set_defaults(func=cmd_report)

    for name, func, help_text in (
        ("train", cmd_train, "train a model from a TOML config or a preset"),
        ("demo", cmd_demo, "a one-minute CPU demo training (same as train --preset demo)"),
    ):
        p = sub.add_parser(name, help=help_text)
        if name == "train":
            p.add_argument("config", nargs="?", help="experiment TOML file")
            p.add_argument("--preset", help="a shipped config (see `gridzoo presets`)")
            p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
        p.add_argument(
            "--set",
            action="append",
            metavar="DOTTED.PATH=VALUE",
            help="override a config value, e.g. --set training.steps=500 (repeatable)",
        )
        p.add_argument("--out", metavar="DIR", help="run folder to create (default runs/NAME-TIMESTAMP)")
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GridzooError as exc:
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", soft_wrap=True)
        return 2
    except TrainingInterrupted as exc:
        err.print(escape(str(exc)), soft_wrap=True)
        return 130
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
