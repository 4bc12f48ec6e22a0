"""Screenshot one page of each kind of a site written by ``gridzoo site``, in headless Chromium, failing on any
console error or image that does not load (the same checks as the site's test).

    gridzoo site --out /tmp/site --sweep runs/mini-studies
    python docs/site/screenshots.py /tmp/site docs/site          # index.png, network.png, report.png

Needs Debian's ``chromium`` (or --chromium PATH) and ``pip install playwright`` (it drives the installed browser;
no browser download).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="folder written by gridzoo site")
    parser.add_argument("out", type=Path, help="folder for the screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--network", help="which network page (default: the first)")
    parser.add_argument("--report", help="which report page (default: the first)")
    parser.add_argument("--height", type=int, default=2200, help="cut pages taller than this many pixels")
    args = parser.parse_args()
    if not args.chromium:
        sys.exit("Chromium not found: apt-get install chromium, or pass --chromium PATH")
    from playwright.sync_api import sync_playwright

    def first(kind: str, name: str | None) -> Path:
        pages = sorted((args.site / kind).glob(f"{name or '*'}/index.html"))
        if not pages:
            sys.exit(f"no {kind} page in {args.site}")
        return pages[0]

    pages = {"index": args.site / "index.html", "network": first("networks", args.network),
             "report": first("reports", args.report)}
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
        for kind, path in pages.items():
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            broken = page.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length")
            if errors or broken:
                sys.exit(f"{path}: console errors {errors}, {broken} images did not load")
            height = min(args.height, page.evaluate("document.body.scrollHeight"))
            page.screenshot(path=str(args.out / f"{kind}.png"), clip={"x": 0, "y": 0, "width": 1280, "height": height},
                            full_page=True)
            print(f"{kind}: {path} -> {args.out / f'{kind}.png'} ({height} px)")
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
