"""A stand-in for the service, speaking docs/api.md, for tests that need no database."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from placecode import crypto
from placecode.crypto import AuthorityKeys, BundleHeader
from placecode.crypto.rules import DEFAULT_MESSAGES

(MESSAGE,) = DEFAULT_MESSAGES


@dataclass
class StubService:
    keys: AuthorityKeys
    bundles: list[bytes] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)
    consents: list[bytes] = field(default_factory=list)
    tamper: bool = False
    url: str = ""

    def config(self) -> tuple[bytes, bytes]:
        public = self.keys.public
        payload = json.dumps(
            {
                "protocol": 1,
                "authority": {
                    "sign_key": base64.b64encode(public.sign_key).decode(),
                    "seal_key": base64.b64encode(public.seal_key).decode(),
                    "key_id": public.key_id.hex(),
                },
                "policy": {"warn_levels": [1, 2, 3], "min_overlap_minutes": 10},
                "retention_days": 14,
                "upload_bytes": 65536,
                "consent_bytes": 512,
                "messages": [MESSAGE],
                "issued_at": 1780000000,
            }
        ).encode()
        return payload, crypto.sign_config(payload, self.keys.signing_key)

    def publish(self, entries: list[bytes], hours: tuple[int, int], created: int) -> None:
        header = BundleHeader(
            self.keys.public.key_id, len(self.bundles) + 1, created, hours[0], hours[1], (MESSAGE,)
        )
        self.bundles.append(crypto.sign_bundle(header, entries, self.keys.signing_key))


@contextmanager
def serve(stub: StubService) -> Iterator[StubService]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/v1/config":
                payload, signature = stub.config()
                doc = {
                    "payload": base64.b64encode(payload).decode(),
                    "signature": base64.b64encode(signature).decode(),
                }
                self._send(200, json.dumps(doc).encode())
            elif self.path.startswith("/v1/bundles/"):
                data = stub.bundles[int(self.path.rsplit("/", 1)[1]) - 1]
                if stub.tamper:
                    data = data[:-70] + bytes([data[-70] ^ 1]) + data[-69:]
                self._send(200, data, "application/octet-stream")
            elif self.path.startswith("/v1/bundles"):
                after = int(self.path.partition("after=")[2] or -1)
                rows = []
                for seq, data in enumerate(stub.bundles, 1):
                    if seq > after:
                        bundle = crypto.Bundle.verify(data, stub.keys.public)
                        rows.append(
                            {
                                "sequence": seq,
                                "url": f"/v1/bundles/{seq}",
                                "size": len(data),
                                "sha256": hashlib.sha256(data).hexdigest(),
                                "created_at": bundle.header.created_at,
                                "first_hour": bundle.header.first_hour,
                                "last_hour": bundle.header.last_hour,
                                "entries": bundle.count,
                            }
                        )
                doc = {"key_id": stub.keys.public.key_id.hex(), "bundles": rows}
                self._send(200, json.dumps(doc).encode())
            else:
                self._send(404, b'{"error": {"code": "not_found", "message": "not found"}}')

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/uploads":
                request = crypto.UploadRequest.from_bytes(body)
                if not request.dummy and request.tan != "ABCD-EFGH-JKMN":
                    error = {
                        "code": "invalid_tan",
                        "message": "this TAN is unknown, used or expired",
                    }
                    self._send(403, json.dumps({"error": error}).encode())
                    return
                stub.uploads.append(body)
            else:
                stub.consents.append(body)
            self._send(202, b'{"status": "accepted"}')

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
