"""``gridzoo list``, ``gridzoo info`` and ``gridzoo presets``: what is installed and what it takes."""

from __future__ import annotations

import argparse
import json

from rich.markup import escape
from rich.table import Table

from gridzoo.cli.console import out, print_json as _print_json
from gridzoo.registry import KINDS, default_registry, normalize_kind


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


def cmd_presets(args: argparse.Namespace) -> int:
    from gridzoo.presets import preset_names, preset_path

    if args.name:
        return _show_preset(args)
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



def _show_preset(args: argparse.Namespace) -> int:
    """One preset: what its file says (papers, deviations, measured cost) and its resolved config, every default."""
    import json

    from gridzoo.config import load_experiment
    from gridzoo.presets import preset_path

    path = preset_path(args.name)
    resolved = load_experiment(path).to_dict(logging=False)
    if args.json:
        _print_json({"name": args.name, "file": str(path), "config": resolved})
        return 0
    notes = [line.lstrip("#").strip() for line in path.read_text().splitlines() if line.startswith("#")]
    out.print(f"[bold]{escape(args.name)}[/bold]  ({escape(str(path))})")
    paragraphs: list[str] = []
    for line in notes:  # the file's comment lines, rejoined into sentences so that they fold at any width
        if paragraphs and line and not paragraphs[-1].endswith((".", ":")) and not line.startswith("-"):
            paragraphs[-1] += " " + line
        elif line:
            paragraphs.append(line)
    for paragraph in paragraphs:
        out.print(escape(paragraph))
    out.print("\n[dim]resolved config (every default; `gridzoo train --preset NAME --set KEY=VALUE` changes one):[/dim]")
    out.print(escape(json.dumps(resolved, indent=2)), soft_wrap=True)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
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

    p = sub.add_parser("presets", help="list the shipped experiment presets, or show one (its notes, measured cost "
                       "and resolved config)")
    p.add_argument("name", nargs="?", help="a preset to show in full")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_presets)
