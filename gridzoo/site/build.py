"""Write the static site: an index with the zoo's networks (a sortable table), one page per network (its card,
metrics, and figures of its best units' rate maps and autocorrelograms, its score distribution and periods), and
one page per sweep report (its table, with 95 % intervals, and its figures).

Everything is local files: HTML with inline CSS and a few lines of inline JavaScript for sorting, and PNG figures
beside the pages. The network figures come from evaluating each network (as ``gridzoo evaluate`` does).

Pages are inert whatever a card or a sweep folder holds: cards are rendered by markdown-it-py with raw HTML
escaped (and its link validation: no ``javascript:`` links), every interpolated name is escaped (and URL-quoted in
links), only regular files of a sweep folder are read or copied (never through a symbolic link), and each page's
Content-Security-Policy allows no script or style but the site's own, by hash.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
from pathlib import Path
from urllib.parse import quote
from typing import Any, Sequence

from gridzoo.errors import GridzooError
from gridzoo.io import read_regular, regular_files, write_bytes, write_text

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #222; line-height: 1.45; }
a { color: #0b5cad; } h1, h2 { font-weight: 600; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; cursor: pointer; user-select: none; } th:hover { background: #e8e8e8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5rem 0; }
.card { background: #fafafa; border: 1px solid #eee; padding: 0.5rem 1rem; }
.muted { color: #777; font-size: 0.85rem; }
"""

# Click a header to sort by that column (numbers numerically, text alphabetically); click again to reverse.
SORT = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute('data-order') !== 'asc';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-order'); });
    th.setAttribute('data-order', asc ? 'asc' : 'desc');
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute('data-value') || a.cells[col].textContent;
      var y = b.cells[col].getAttribute('data-value') || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var cmp = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? cmp : -cmp;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


#: Nothing runs or loads but the page's own style, its own sorting script and images beside it.
CSP = (f"default-src 'none'; img-src 'self' file:; style-src {_hash(STYLE)}; script-src {_hash(SORT)}; "
       "base-uri 'none'; form-action 'none'")


def page(title: str, body: str, root: str = "") -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\"><title>{html.escape(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head>"
            f"<body><p class=\"muted\"><a href=\"{root}index.html\">gridzoo</a></p>{body}"
            f"<script>{SORT}</script></body></html>\n")


def link(target: str, text: str | None = None) -> str:
    """An ``<a>`` to a file name beside the page: the name URL-quoted in ``href``, escaped in the text."""
    return f"<a href=\"{html.escape(quote(target))}\">{html.escape(text if text is not None else target)}</a>"


def image(name: str, alt: str) -> str:
    return f"<img src=\"{html.escape(quote(name))}\" alt=\"{html.escape(alt)}\">"


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], sortable: bool = True) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, tuple):  # (html, sort value)
                cells.append(f"<td data-value=\"{html.escape(str(value[1]))}\">{value[0]}</td>")
            elif isinstance(value, float):
                text = "–" if value != value else f"{value:.4g}"
                cells.append(f"<td class=\"num\" data-value=\"{value if value == value else ''}\">{text}</td>")
            elif isinstance(value, int):
                cells.append(f"<td class=\"num\">{value}</td>")
            else:
                cells.append(f"<td>{html.escape(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table class=\"{'sortable' if sortable else ''}\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def markdown_html(text: str) -> str:
    """A card's Markdown as HTML: markdown-it-py (CommonMark with tables), raw HTML escaped, not passed through."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def network_page(entry, out: Path, registry, samples: int, null_seeds: int | None) -> dict[str, Any]:
    """Evaluate one zoo network into ``out/networks/NAME`` and write its page; return its index row."""
    from gridzoo import zoo
    from gridzoo.evaluation import evaluate_model

    model = zoo.load(entry.name, registry=registry, revision=entry.revision)
    folder = out / "networks" / entry.name
    evaluation = evaluate_model(model.experiment, model.model, samples=samples, out=folder, draw=True,
                                label=f"zoo:{entry.name}", null_seeds=null_seeds)
    # The page and the index show the published metrics (the network's metrics.json, which the catalogue and card
    # quote); the figures' own evaluation at ``samples`` positions differs a little and is shown beside them.
    values = dict(model.metrics) or evaluation.values
    figures = "".join(f"<h3>{html.escape(p.stem.replace('_', ' '))}</h3>{image(p.name, p.stem)}"
                      for p in evaluation.figures if p.suffix == ".png")

    def number(v: Any) -> Any:
        return float(v) if isinstance(v, (int, float)) else ("–" if v is None else str(v))

    metrics = table(["metric", "published", f"this page's figures ({samples:,} positions)"],
                    [[k, number(v), number(evaluation.values.get(k))] for k, v in values.items()])
    body = (f"<h1>{html.escape(entry.name)} <span class=\"muted\">revision {entry.revision}</span></h1>"
            f"<p>{html.escape(entry.summary)}</p><p class=\"muted\">{html.escape(entry.paper)}</p>"
            f"<h2>Figures (evaluated for this page: {samples:,} positions)</h2>{figures}"
            f"<h2>Metrics</h2><p>Published: <code>gridzoo evaluate</code> defaults when the network was exported "
            f"(the catalogue's numbers).</p>{metrics}<h2>Card</h2><div class=\"card\">{markdown_html(model.card)}</div>")
    write_text(folder / "index.html", page(entry.name, body, root="../../"))
    return {"entry": entry, "values": values}


def _copy_in(source: Path, folder: Path) -> None:
    write_bytes(folder / source.name, read_regular(source))


def report_page(sweep: Path, out: Path) -> dict[str, Any]:
    """Copy a sweep folder's reports (CSV tables and figures made by `gridzoo report`) into a page. Only regular
    files directly in the folder are read; a symbolic link is skipped, never followed."""
    name = sweep.name
    folder = out / "reports" / name
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for csv_path in regular_files(sweep, "*.csv"):
        if csv_path.name.endswith("runs.csv"):
            _copy_in(csv_path, folder)
            continue
        data = read_regular(csv_path)
        rows = list(csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline="")))
        if not rows:
            continue
        stem = csv_path.stem
        images = regular_files(sweep, f"{stem}_*.png") if stem != "report" else regular_files(sweep, "report_*.png")
        for picture in images:
            _copy_in(picture, folder)
        write_bytes(folder / csv_path.name, data)
        runs_name = "runs.csv" if stem == "report" else f"{stem}_runs.csv"
        has_runs = runs_name in {p.name for p in regular_files(sweep, runs_name)}
        body_rows = [[_number(v) for v in row] for row in rows[1:]]
        sections.append(f"<h2>{html.escape(stem)}</h2>{table(rows[0], body_rows)}"
                        f"<p class=\"muted\">{link(csv_path.name)}"
                        + (f" · every run ({link(runs_name)})" if has_runs else "")
                        + "</p>" + "".join(image(i.name, i.stem) for i in images))
    if not sections:
        raise GridzooError(f"{sweep} has no report yet: run `gridzoo report {sweep}` first")
    write_text(folder / "index.html", page(f"sweep {name}", f"<h1>Sweep {html.escape(name)}</h1>" + "".join(sections),
                                           root="../../"))
    return {"name": name}


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def build_site(out: str | Path, *, registry=None, sweeps: Sequence[str | Path] = (), samples: int = 50_000,
               null_seeds: int | None = None, networks: Sequence[str] | None = None) -> Path:
    """Write the site into ``out`` (created; an existing site there is replaced page by page)."""
    from gridzoo import zoo

    out = Path(out)
    for sweep in sweeps:
        if not (Path(sweep) / "manifest.json").is_file():
            raise GridzooError(f"{sweep} is not a sweep folder (no manifest.json)")
    entries = [e for e in zoo.list(registry=registry) if networks is None or e.name in networks]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GridzooError(f"cannot create {out}: {exc.strerror}; choose a writable --out") from None
    rows = [network_page(e, out, registry, samples, null_seeds) for e in entries]
    reports = [report_page(Path(s), out) for s in sweeps]
    network_rows = [[(link(f"networks/{r['entry'].name}/index.html", r["entry"].name), r["entry"].name), r["entry"].revision, r["entry"].summary,
                     *(float(r["values"].get(k)) if isinstance(r["values"].get(k), (int, float)) else float("nan")
                       for k in ("decoding_error_cm", "score_60_max", "best_unit_null_60", "n_lattice_units",
                                 "period_median_m")),
                     ", ".join(r["entry"].tags)] for r in rows]
    body = ("<h1>gridzoo</h1><p>Trained path-integrating networks and the studies run on them. Click a column to "
            "sort.</p><h2>The zoo</h2>"
            + table(["network", "revision", "summary", "decoding error (cm)", "best score_60", "best-unit null",
                     "lattice units", "period (m)", "tags"], network_rows)
            + "<h2>Sweep reports</h2><ul>"
            + "".join("<li>" + link(f"reports/{r['name']}/index.html", r["name"]) + "</li>" for r in reports)
            + "</ul>"
            + "<p class=\"muted\">Made by <code>gridzoo site</code>; every page opens from file://.</p>")
    write_text(out / "index.html", page("gridzoo", body))
    return out / "index.html"
