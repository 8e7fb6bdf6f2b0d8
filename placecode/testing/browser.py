"""How every test and benchmark here starts Chromium: Debian's build, never a download."""

from __future__ import annotations

from pathlib import Path

#: Debian's chromium package, which ``make test`` installs
CHROMIUM = Path("/usr/bin/chromium")
#: no sandbox (root in CI), nothing phoning home: the network here is closed
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
