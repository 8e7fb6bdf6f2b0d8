"""The web client in Debian's headless Chromium, against the real service on loopback.

- ``web_first_load_kb_gz``: what a phone downloads the first time a code opens the
  page (page, script, style, manifest, icon and service worker), each gzipped at
  level 9, in KB (1,000 bytes); the budget is 150;
- ``web_checkin_ms``: from opening a poster's URL to the check-in shown on the page,
  with the app cached by its service worker (median of 20 check-ins at different
  venues, each ending the stay before it);
- ``web_match_ms_diary300_vs_1e6_browser``: ``web_match_ms_diary300_vs_1e6`` (which
  ``bench.web`` measures in node) in the page, in Chromium: a 300-tag diary against
  a verified bundle of 10^6 entries (``clients/web/bench/browser-match.ts``, median
  of 15 runs); the budget is 50 ms.

``run()`` merges its figures into ``bench/results.json`` and returns them. Run alone
with ``python -m bench.browser``; ``make bench`` runs it after the node benchmarks.
"""

from __future__ import annotations

import gzip
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright
from werkzeug.serving import make_server

from placecode import crypto
from placecode.service import admin, create_app
from placecode.service.config import defaults
from placecode.service.keys import init_keys
from placecode.service.logs import QuietRequestHandler
from placecode.testing.browser import CHROMIUM, CHROMIUM_ARGS

from ._results import record

WEB = Path(__file__).resolve().parent.parent / "clients" / "web"
#: what the page loads on its first visit, service worker included
FIRST_LOAD = ("index.html", "app.js", "app.css", "manifest.webmanifest", "icon.svg", "sw.js")
CHECKINS = 20


def _first_load_kb(dist: Path) -> float:
    total = sum(len(gzip.compress((dist / name).read_bytes(), 9)) for name in FIRST_LOAD)
    return round(total / 1000, 1)


def _match_ms(browser: Browser, workdir: Path) -> float:
    script = workdir / "browser-match.js"
    subprocess.run(
        [
            str(WEB / "node_modules" / ".bin" / "esbuild"),
            str(WEB / "bench" / "browser-match.ts"),
            "--bundle",
            "--format=iife",
            "--platform=browser",
            "--target=es2022",
            f"--outfile={script}",
            "--log-level=warning",
        ],
        check=True,
    )
    page = browser.new_page()
    page.add_script_tag(path=str(script))
    result = page.evaluate("placecodeMatchBench()")
    page.close()
    return float(result["web_match_ms_diary300_vs_1e6_browser"])


def _checkin_ms(browser: Browser, base: str) -> float:
    checkin_url = crypto.checkin_url(base)
    venues = [crypto.Venue(bytes([i]) * 32, f"Venue {i}") for i in range(1, CHECKINS + 1)]
    times = []
    page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    page.goto(base + "/")
    for _ in range(100):
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            break
        page.wait_for_timeout(100)
    else:
        raise RuntimeError("the service worker never took control of the page")
    for venue in venues:
        url = venue.poster().to_url(checkin_url)
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(f"#venue-name:text-is('{venue.name}')")
        times.append(time.perf_counter() - started)
        page.wait_for_timeout(1100)  # the next check-in ends this stay a second later
    return round(statistics.median(times) * 1000, 1)


def run() -> dict[str, float | int]:
    subprocess.run(["node", str(WEB / "build.mjs")], check=True, cwd=WEB)
    dist = WEB / "dist"
    with tempfile.TemporaryDirectory() as tmp:
        key_dir = Path(tmp) / "authority"
        init_keys(key_dir)
        settings = {
            **defaults(),
            "DATABASE_URL": f"sqlite:///{tmp}/service.db",
            "KEY_DIR": str(key_dir),
            "WEB_DIR": str(dist),
        }
        admin.init(settings)
        app = create_app(settings)
        server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
                )
                figures: dict[str, float | int] = {
                    "web_first_load_kb_gz": _first_load_kb(dist),
                    "web_checkin_ms": _checkin_ms(
                        browser, f"http://127.0.0.1:{server.server_port}"
                    ),
                    "web_match_ms_diary300_vs_1e6_browser": _match_ms(browser, Path(tmp)),
                }
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
            app.extensions["placecode"].engine.dispose()
    record(figures)
    return figures


if __name__ == "__main__":
    run()
