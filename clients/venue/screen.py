"""The rotating screen: a page with the live code and its verification code, served over HTTP."""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from placecode import crypto
from placecode.crypto import Error, Venue
from placecode.crypto import constants as c

from .. import qr
from .posters import SVG_FONTS, TITLE_EN, TITLE_ZH


def screen_page(venue: Venue, now: int, checkin_url: str = c.DEFAULT_CHECKIN_URL) -> str:
    """The screen's page at ``now``: the live QR code and verification code.

    It reloads itself when the 30-second epoch ends; without JavaScript.
    """
    code = venue.screen(now)
    q = qr.make(code, checkin_url)
    n = len(qr.modules(q))
    epoch = now // c.EPOCH_SECONDS
    assert code.proof is not None
    # the number of the proof this page's QR code carries (§6): only the live screen has it
    verify = crypto.verification_code(code.bound_key, code.proof)
    refresh = (epoch + 1) * c.EPOCH_SECONDS - now + 1
    name = html.escape(code.name)
    return f"""<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} · placecode</title>
<style>
body {{ font-family: {SVG_FONTS}; text-align: center; margin: 2vh; background: #fff; }}
h1 {{ font-size: 6vh; margin: 1vh; }}
svg {{ height: 62vh; width: 62vh; }}
.code {{ font-size: 9vh; font-weight: bold; letter-spacing: .3em; font-family: monospace; }}
p {{ font-size: 2.6vh; margin: .5vh; color: #333; }}
</style></head><body>
<h1>{name}</h1>
<svg viewBox="0 0 {n} {n}" role="img" aria-label="QR code">{qr.to_svg_path(q)}</svg>
<div class="code">{verify[:3]} {verify[3:]}</div>
<p>{html.escape(TITLE_ZH)}：扫码登记后，您手机上显示的验证码应与此处相同。</p>
<p>{html.escape(TITLE_EN)}: after scanning, your phone shows the same verification code.</p>
<p>The code changes every {c.EPOCH_SECONDS} seconds.</p>
</body></html>
"""


def screen_png(venue: Venue, now: int, checkin_url: str = c.DEFAULT_CHECKIN_URL) -> bytes:
    out = io.BytesIO()
    qr.to_image(qr.make(venue.screen(now), checkin_url), 600).save(out, format="PNG")
    return out.getvalue()


def screen_server(
    venue: Venue,
    host: str,
    port: int,
    clock: Callable[[], int],
    checkin_url: str = c.DEFAULT_CHECKIN_URL,
) -> ThreadingHTTPServer:
    """An HTTP server for the screen: ``/`` the page, ``/code.png`` the current code.

    ``clock`` gives the time in Unix seconds; a simulation may pass its own.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            now = clock()
            if self.path in ("/", "/index.html"):
                body = screen_page(venue, now, checkin_url).encode()
                kind = "text/html; charset=utf-8"
            elif self.path == "/code.png":
                body, kind = screen_png(venue, now, checkin_url), "image/png"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    try:
        return ThreadingHTTPServer((host, port), Handler)
    except OSError as e:
        raise Error(f"cannot serve the screen on {host}:{port}: {e.strerror}") from None


def serve_in_background(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
