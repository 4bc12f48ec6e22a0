"""``gridzoo site``: a static web site of the zoo and of sweep reports."""

from __future__ import annotations

import argparse

from rich.markup import escape

from gridzoo.cli import arguments
from gridzoo.cli.console import out


def cmd_site(args: argparse.Namespace) -> int:
    from gridzoo.site.build import build_site

    arguments.set_threads(args)
    index = build_site(args.out, registry=args.registry, sweeps=args.sweep or (), samples=args.samples,
                       null_seeds=args.null_seeds, networks=args.network)
    out.print(f"site written: {escape(str(index))} (open it in a browser; it needs no server)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("site", help="write a static web site of the zoo and sweep reports (opens from file://)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the site")
    p.add_argument("--sweep", action="append", metavar="DIR", help="also a page for this sweep's reports (repeatable)")
    p.add_argument("--network", action="append", metavar="NAME", help="only these zoo networks (repeatable; default all)")
    p.add_argument("--samples", type=arguments.samples, default=50_000, help="analysis positions per network")
    p.add_argument("--null-seeds", type=arguments.non_negative_int, help="untrained networks in the best-unit null (default 19)")
    p.add_argument("--registry", metavar="DIR", help="registry folder (default: $GRIDZOO_REGISTRY or the installed one)")
    arguments.add_threads(p)
    p.set_defaults(func=cmd_site)
