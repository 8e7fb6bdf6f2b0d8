"""The web client in a real browser: Debian's Chromium, driven by Playwright, against
the real service on a free loopback port (SQLite), serving the built client.

Nothing here downloads a browser: Playwright drives /usr/bin/chromium, which
`make test` installs with apt.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from placecode.crypto import SealingKey
from placecode.service import admin, create_app
from placecode.service.config import defaults
from placecode.service.keys import SEALING_KEY, init_keys
from placecode.service.logs import QuietRequestHandler
from placecode.testing.browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "clients" / "web"
#: where the run leaves its screenshots (gitignored)
SHOTS = ROOT / "test-output" / "web"
#: a small phone, held in one hand
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def web_dist() -> Path:
    if not (WEB / "node_modules").is_dir():
        pytest.fail("the web client's packages are missing: run `make install`")
    subprocess.run(["node", str(WEB / "build.mjs")], check=True, cwd=WEB)
    return WEB / "dist"


@dataclass
class Service:
    url: str
    settings: dict[str, Any]
    key_dir: Path
    server: BaseWSGIServer
    #: the path of every request the service answered
    hits: list[str]

    @property
    def checkin_url(self) -> str:
        from placecode import crypto

        return crypto.checkin_url(self.url)

    @property
    def sealing(self) -> SealingKey:
        return SealingKey((self.key_dir / SEALING_KEY).read_bytes())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_service(tmp: Path, web_dist: Path) -> Service:
    key_dir = tmp / "authority"
    init_keys(key_dir)
    settings = {
        **defaults(),
        "DATABASE_URL": f"sqlite:///{tmp / 'service.db'}",
        "KEY_DIR": str(key_dir),
        "WEB_DIR": str(web_dist),
        "UPLOAD_FLOOR_MS": 0,
        "MIN_BUNDLE_ENTRIES": 5,
    }
    admin.init(settings)
    app = create_app(settings)
    hits: list[str] = []
    wsgi = app.wsgi_app

    def counted(environ: Any, start_response: Any) -> Any:
        hits.append(environ["PATH_INFO"])
        return wsgi(environ, start_response)

    app.wsgi_app = counted  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Service(f"http://127.0.0.1:{server.server_port}", settings, key_dir, server, hits)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, web_dist: Path) -> Iterator[Service]:
    running = start_service(tmp_path_factory.mktemp("service"), web_dist)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium with apt")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        yield chromium
        chromium.close()


def screenshot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
