"""``gridzoo zoo ...``: list, inspect, verify, pull, publish and rebuild zoo networks."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from gridzoo.cli import arguments
from gridzoo.cli.console import out, print_json as _print_json
from gridzoo.errors import GridzooError


def cmd_zoo_list(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    entries = zoo.list(args.pattern, registry=args.registry, all_revisions=args.all_revisions)
    if args.json:
        _print_json([e.model_dump(mode="json", exclude_none=True) for e in entries])
        return 0
    table = Table(title="gridzoo zoo", title_justify="left")
    for column in ("name", "rev", "summary", "decoding error (cm)", "best score_60", "over null", "period (m)", "tags"):
        table.add_column(column, overflow="fold")
    for e in entries:
        m = e.metrics
        fmt = lambda k: f"{m[k]:.3g}" if m.get(k) is not None else ""  # noqa: E731
        status = " (superseded)" if e.superseded_by else " (deprecated)" if e.replaced_by else ""
        table.add_row(e.name, f"{e.revision}{status}", escape(e.summary), fmt("decoding_error_cm"), fmt("score_60_max"),
                      fmt("fraction_score_60_over_null"), fmt("period_median_m"), ", ".join(e.tags))
    out.print(table if entries else "No zoo network matches." if args.pattern else "The zoo catalogue is empty.")
    return 0


def cmd_zoo_info(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    entry = zoo.entry(args.name, registry=args.registry, revision=args.revision)
    if args.json:
        _print_json(entry.model_dump(mode="json", exclude_none=True))
        return 0
    out.print(f"[bold]{escape(entry.name)}[/bold] revision {entry.revision}: {escape(entry.summary)}")
    from gridzoo.analysis.verdicts import verdicts

    for line in verdicts(entry.metrics):  # the answer before the details
        out.print(escape(line.replace("**", "")))
    if entry.superseded_by:
        out.print(f"[yellow]Superseded by revision {entry.superseded_by}[/yellow]: {escape(entry.note)}")
    if entry.replaced_by:
        out.print(f"[yellow]Deprecated: use {escape(entry.replaced_by)}[/yellow]. {escape(entry.note)}")
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
        metrics.add_row(key, f"{value:.4g}" if value is not None else "undefined")
    out.print(metrics)
    return 0


def cmd_zoo_verify(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    from gridzoo.zoo.catalogue import read_catalogue

    catalogue = read_catalogue(args.registry)
    checks = [(e.name, e.revision) for e in catalogue.networks if not args.name or e.name == args.name]
    invalid = [(n, why) for n, why in catalogue.invalid if not args.name or n == args.name]
    if args.name and not checks and not invalid:
        zoo.entry(args.name, registry=args.registry)  # the unknown-name error, with suggestions
    failed = 0
    for name, reason in invalid:
        failed += 1
        out.print(f"[red]FAILED[/red] {escape(name)}: invalid catalogue entry ({escape(reason)})", soft_wrap=True)
    for name, revision in checks:
        try:
            zoo.verify(name, registry=args.registry, revision=revision)
            out.print(f"[green]ok[/green]     {escape(name)} r{revision}")
        except GridzooError as exc:
            failed += 1
            out.print(f"[red]FAILED[/red] {escape(name)} r{revision}: {escape(str(exc))}", soft_wrap=True)
    total = len(checks) + len(invalid)
    if failed:
        raise GridzooError(f"{failed} of {total} zoo network revision(s) failed verification")
    out.print(f"{total} network revision(s) verified")
    return 0


def cmd_zoo_pull(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    folder = zoo.pull(args.name, registry=args.registry, revision=args.revision)
    out.print(f"{escape(args.name)}: verified in {escape(str(folder))}")
    return 0


def cmd_zoo_export(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    arguments.set_threads(args)
    entry = zoo.export(args.run_dir, args.name, registry=args.registry, summary=args.summary, tags=args.tag,
                       url=args.url, note=args.note)
    out.print(f"exported {escape(entry.name)} revision {entry.revision}: "
              + ", ".join(f"{k} {v:.4g}" for k, v in entry.metrics.items() if v is not None))
    return 0


def cmd_zoo_rescore(args: argparse.Namespace) -> int:
    from gridzoo import zoo

    arguments.set_threads(args)
    entry = zoo.rescore(args.name, args.note, registry=args.registry, samples=args.samples)
    out.print(f"{escape(entry.name)} revision {entry.revision}: the same weights, re-scored and re-carded: "
              + ", ".join(f"{k} {v:.4g}" for k, v in entry.metrics.items() if v is not None))
    return 0


def cmd_zoo_rebuild(args: argparse.Namespace) -> int:
    import tempfile

    from gridzoo import zoo
    from gridzoo.evaluation import evaluate_model, load_run
    from gridzoo.io import write_json
    from gridzoo.training import train

    arguments.set_threads(args)
    recorded = zoo.load(args.name, registry=args.registry, revision=args.revision)
    run_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix=f"gridzoo-rebuild-{args.name}-")) / "run"
    out.print(f"Retraining {escape(args.name)} from its recorded config and seed into {escape(str(run_dir))}")
    train(recorded.experiment, run_dir, console=out, meta={"source": f"zoo:{args.name}"})
    experiment, model = load_run(run_dir)
    rebuilt = evaluate_model(experiment, model, draw=False).values
    table = Table(title=f"{args.name}: recorded against rebuilt", title_justify="left")
    for column in ("metric", "recorded", "rebuilt", "difference"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for key in zoo.KEY_METRICS:
        if recorded.metrics.get(key) is not None and rebuilt.get(key) is not None:
            a, b = recorded.metrics[key], rebuilt[key]
            table.add_row(key, f"{a:.4g}", f"{b:.4g}", f"{b - a:+.3g}")
    out.print(table)
    write_json(run_dir / "rebuild.json", {"recorded": recorded.metrics, "rebuilt": rebuilt})
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    zoo = sub.add_parser("zoo", help="the zoo of trained networks").add_subparsers(
        dest="zoo_command", required=True, metavar="ZOO_COMMAND")
    p = zoo.add_parser("list", help="list zoo networks (wildcards match names and tags)")
    p.add_argument("pattern", nargs="?", help="e.g. 'nfl*' or 'dos'")
    p.add_argument("--all-revisions", action="store_true", help="every revision, not only the latest of each name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_zoo_list)
    p = zoo.add_parser("info", help="one network: paper, licence, files with sha256, metrics, revisions")
    p.add_argument("name")
    p.add_argument("--revision", type=arguments.positive_int, help="an older revision (default: the latest)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_zoo_info)
    p = zoo.add_parser("verify", help="check files against their sha256 (every revision of every network if no NAME)")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_zoo_verify)
    p = zoo.add_parser("pull", help="download a network into the cache ($GRIDZOO_HOME) and verify it")
    p.add_argument("name")
    p.add_argument("--revision", type=arguments.positive_int, help="an older revision (default: the latest)")
    p.set_defaults(func=cmd_zoo_pull)
    p = zoo.add_parser("export", help="publish a finished run as a new revision in a registry (evaluates it first)")
    p.add_argument("run_dir")
    p.add_argument("--name", required=True, help="zoo name: lower case, digits, '.', '_' and '-'")
    p.add_argument("--summary", help="one line for the catalogue (default: made from the components)")
    p.add_argument("--tag", action="append", help="extra tag (repeatable)")
    p.add_argument("--note", default="", help="what changed in this revision (shown on the superseded one too)")
    p.add_argument("--url", help="https base URL the files will be served from (instead of shipping them)")
    arguments.add_threads(p)
    p.set_defaults(func=cmd_zoo_export)
    p = zoo.add_parser("rescore", help="publish the latest revision's weights again, re-evaluated with the installed "
                       "analysis and with a new card (a new revision; the weights' sha256 is unchanged)")
    p.add_argument("name")
    p.add_argument("--note", required=True, help="why this revision exists (shown on the superseded one too)")
    p.add_argument("--samples", type=arguments.samples, default=200_000, help="evaluation positions (default 200000, as export)")
    arguments.add_threads(p)
    p.set_defaults(func=cmd_zoo_rescore)
    p = zoo.add_parser("rebuild", help="retrain a network from its recorded config and seed; compare metrics")
    p.add_argument("name")
    p.add_argument("--revision", type=arguments.positive_int, help="an older revision (default: the latest)")
    p.add_argument("--out", metavar="DIR", help="run folder for the retraining (default: a temporary folder)")
    arguments.add_threads(p)
    p.set_defaults(func=cmd_zoo_rebuild)
    for p in zoo.choices.values():
        p.add_argument("--registry", metavar="DIR", help="registry folder (default: $GRIDZOO_REGISTRY or the installed one)")
