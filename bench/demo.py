"""The demo's wall time: ``placecode demo`` end to end, as a newcomer runs it.

- ``demo_seconds``: the whole run of ``placecode demo`` in a fresh folder:
  starting the service, posters, visits, reports, bundles, syncs and consent,
  and stopping the service (tests/clients/test_e2e.py checks what it finds).

``run()`` merges its figures into ``bench/results.json`` and returns them.
Run alone with ``python -m bench.demo``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._results import record


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "placecode", "demo", "--out", str(Path(workdir) / "out")],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
    if done.returncode != 0 or "Exactly the 7 visitors" not in done.stdout:
        raise SystemExit(f"the demo failed:\n{done.stdout}{done.stderr}")
    results = {"demo_seconds": seconds}
    record(results)
    return results


if __name__ == "__main__":
    run()
