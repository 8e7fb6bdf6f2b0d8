"""The web client's files, served from the API's origin, and its public URL."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from placecode.service import admin, create_app
from placecode.service.errors import AdminError

PAGE = b"<!doctype html><title>placecode</title><script src=app.js></script>"


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_bytes(PAGE)
    (web / "app.js").write_text("console.log(1)")
    (web / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    return web


@pytest.fixture
def web(settings: dict[str, Any], web_dir: Path) -> FlaskClient:
    return create_app({**settings, "WEB_DIR": str(web_dir)}).test_client()


@pytest.mark.parametrize("path", ["/", "/C"])
def test_the_page_is_served_at_the_root_and_the_check_in_path(web: FlaskClient, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 200 and response.data == PAGE
    assert response.content_type == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_assets_are_served_and_nothing_else(web: FlaskClient, web_dir: Path) -> None:
    assert web.get("/app.js").data == b"console.log(1)"
    assert web.get("/sw.js").status_code == 200
    (web_dir.parent / "secret.txt").write_text("no")
    for path in ("/missing.js", "/..%2Fsecret.txt", "/.hidden", "/%2e%2e/secret.txt"):
        response = web.get(path)
        assert response.status_code == 404, path
        assert response.json is not None and response.json["error"]["code"] == "not_found"
    # the API keeps its own answers
    assert web.get("/v1/config").status_code == 200


def test_an_unbuilt_client_is_a_clear_404(settings: dict[str, Any], tmp_path: Path) -> None:
    client = create_app({**settings, "WEB_DIR": str(tmp_path / "nothing")}).test_client()
    response = client.get("/C")
    assert response.status_code == 404
    assert response.json is not None and "make install" in response.json["error"]["message"]


def test_the_public_url_is_in_the_signed_configuration(settings: dict[str, Any]) -> None:
    url = "https://checkin.health.example.org"
    client = create_app({**settings, "PUBLIC_URL": url}).test_client()
    body = client.get("/v1/config").json
    assert body is not None
    assert json.loads(base64.b64decode(body["payload"]))["public_url"] == url


@pytest.mark.parametrize(
    "url", ["checkin.example.org", "ftp://example.org", "https://a.org/?x=1", "https://a b.org"]
)
def test_a_malformed_public_url_is_refused(settings: dict[str, Any], url: str) -> None:
    with pytest.raises(AdminError, match="PLACECODE_PUBLIC_URL"):
        create_app({**settings, "PUBLIC_URL": url})


def test_export_writes_the_web_client_beside_the_bundles(
    settings: dict[str, Any], web_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cdn"
    admin.export({**settings, "WEB_DIR": str(web_dir)}, out)
    assert (out / "index.html").read_bytes() == PAGE == (out / "C").read_bytes()
    assert (out / "app.js").read_text() == "console.log(1)"
    assert (out / "v1" / "config").is_file()
    assert not admin.web_client_built({**settings, "WEB_DIR": str(tmp_path / "none")})


def _serve(app: Any) -> Any:
    import threading

    from werkzeug.serving import make_server

    from placecode.service.logs import QuietRequestHandler

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("public_url", ["https://checkin.health.example.org", None])
def test_venue_codes_open_the_services_check_in_path(
    settings: dict[str, Any],
    web_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    public_url: str | None,
) -> None:
    import urllib.request

    from placecode.cli import main
    from placecode.clients import qr

    server = _serve(create_app({**settings, "PUBLIC_URL": public_url, "WEB_DIR": str(web_dir)}))
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        out = tmp_path / "cafe"
        assert main(["venue", "create", "--name", "Café", "--out", str(out), "--service", url]) == 0
        key = str(out / "venue.key")
        assert main(["venue", "poster", "--key", key, "--out", str(tmp_path)]) == 0
        expected = "HTTPS://CHECKIN.HEALTH.EXAMPLE.ORG/C" if public_url else url.upper() + "/C"
        said = capsys.readouterr().out
        assert f"The codes open {expected}." in said
        nfc = re.search(r"write this URL to it: (\S+)", said)
        assert nfc is not None and nfc.group(1) == qr.read_file(out / "poster.png").to_url(expected)
        for poster in (out / "poster.png", tmp_path / "poster.png"):
            import zxingcpp
            from PIL import Image

            with Image.open(poster) as image:
                text = zxingcpp.read_barcodes(image.convert("L"))[0].text
            assert text.startswith(expected + "#")
            assert qr.read_file(poster).name == "Café"
        if public_url is None:
            # the URL without its fragment (all a browser sends) is the web client
            with urllib.request.urlopen(text.partition("#")[0]) as response:
                assert response.read() == PAGE
    finally:
        server.shutdown()
        server.server_close()


def test_a_venue_made_without_a_service_says_its_codes_open_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from placecode.cli import main

    assert main(["venue", "create", "--name", "Café", "--out", str(tmp_path / "v")]) == 0
    assert "pass --service URL" in capsys.readouterr().err


def test_an_unreachable_service_is_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from placecode.cli import main

    argv = ["venue", "create", "--name", "Café", "--out", str(tmp_path / "v")]
    assert main([*argv, "--service", "http://127.0.0.1:9"]) == 1
    assert "cannot reach the service" in capsys.readouterr().err
    assert not (tmp_path / "v" / "venue.key").exists()
