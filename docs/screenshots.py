"""Screenshots of the built documentation in headless Chromium, to look at the pages as a reader
does (run after ``make docs``)::

    python docs/screenshots.py                  # site/ -> site/_screenshots/*.png
    python docs/screenshots.py --out shots --pages index.html studies/compare.html

Each page is opened from disk (``file://``; the site needs no server and no network) at a
1280-pixel-wide window. The browser is ``$CHROMIUM`` or the first of chromium, chromium-browser,
google-chrome found on the path. Exits 1 when a page is missing or a screenshot is not written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The home page, one study page and one API page (the pages the issue asks to look at).
PAGES = ("index.html", "studies/analogy.html", "api/generated/pairspace.measures.nngs.html")


def browser() -> str | None:
    """The Chromium executable, or None."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(exe: str, page: Path, png: Path, height: int = 2000) -> None:
    """One full-width screenshot of a local page."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--window-size=1280,{height}",
                        "--virtual-time-budget=5000", f"--screenshot={png}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default=str(ROOT / "site"), help="the built site (default: site/)")
    parser.add_argument("--out", default=None, help="folder of the PNGs (default: SITE/_screenshots)")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), help="pages, relative to the site")
    parser.add_argument("--height", type=int, default=2000, help="window height in pixels (default: 2000)")
    args = parser.parse_args(argv)
    exe = browser()
    if exe is None:
        print("no Chromium found (set CHROMIUM=...)", file=sys.stderr)
        return 1
    site = Path(args.site)
    out = Path(args.out) if args.out else site / "_screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for rel in args.pages:
        page = site / rel
        if not page.is_file():
            print(f"missing page {page} (run make docs)", file=sys.stderr)
            return 1
        png = out / (rel.replace("/", "_").removesuffix(".html") + ".png")
        screenshot(exe, page.resolve(), png.resolve(), args.height)
        if not png.is_file() or png.stat().st_size == 0:
            print(f"no screenshot written for {rel}", file=sys.stderr)
            return 1
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
