"""Web client benchmarks: the TypeScript protocol layer (clients/web) in node's V8.

- ``web_match_ms_diary300_vs_1e6``: matching a 14-day diary of 100 visits (300
  hour tags, three of them really published) against a verified bundle of 10^6
  entries, median of 15 runs, single thread;
- ``web_lookup_us_per_tag_1e6``: one binary search of the tag column, in place;
- ``web_bundle_verify_ms_1e6``: verifying that 52 MB bundle (SHA-256 of the body,
  one Ed25519 signature, the layout checks), all in JavaScript;
- ``web_bundle_verify_webcrypto_ms_1e6``: the same with WebCrypto's SHA-256
  (``verifyBundleAsync``, what the browser client uses);
- ``web_bundle_mb_1e6``: its size.

The script is ``clients/web/bench/match.ts``, built with esbuild (``make install``
installs the packages) and run with node; it prints one JSON object. Run alone
with ``python -m bench.web``; ``make bench`` runs it after the other benchmarks.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ._results import record

WEB = Path(__file__).resolve().parent.parent / "clients" / "web"


def run() -> dict[str, float | int]:
    """Builds and runs the node benchmark, records its figures and returns them."""
    subprocess.run(["node", str(WEB / "build.mjs"), "--tests"], check=True)
    out = subprocess.run(
        ["node", str(WEB / "build" / "bench" / "match.js")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float | int] = json.loads(out)
    record(figures)
    return figures


if __name__ == "__main__":
    run()
