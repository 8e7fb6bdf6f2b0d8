"""A stand-in for the service, speaking docs/api.md, for tests that need no database."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
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
    #: hostile index: these fields replace every row's; these sequences are left out
    index_override: dict[str, object] = field(default_factory=dict)
    hidden: set[int] = field(default_factory=set)
    #: hostile bundle server: send this many more bytes than the bundle, without a
    #: Content-Length; or send the bundle one byte every ``drip`` seconds
    endless: int = 0
    drip: float = 0.0
    #: (path, If-None-Match) of every bundle request, and how many were answered 304
    bundle_requests: list[tuple[str, str | None]] = field(default_factory=list)
    not_modified: int = 0
    #: protocol §18: publish each bundle's index and shards (k = 4) and list them
    indexed: bool = False
    indexes: list[bytes] = field(default_factory=list)
    shards: list[tuple[bytes, ...]] = field(default_factory=list)
    #: hostile index and shard server: serve these bytes instead, by path
    replace: dict[str, bytes] = field(default_factory=dict)
    #: the path of every index and shard request, in order
    index_requests: list[str] = field(default_factory=list)
    #: index and shard paths answered without a Content-Length (with ``endless`` or ``drip``)
    hostile_paths: set[str] = field(default_factory=set)

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
                "index": {"shard_min_entries": 4, "shard_fetches": 2},
                "issued_at": 1780000000,
            }
        ).encode()
        return payload, crypto.sign_config(payload, self.keys.signing_key)

    def publish(self, entries: list[bytes], hours: tuple[int, int], created: int) -> None:
        header = BundleHeader(
            self.keys.public.key_id, len(self.bundles) + 1, created, hours[0], hours[1], (MESSAGE,)
        )
        self.bundles.append(crypto.sign_bundle(header, entries, self.keys.signing_key))
        signed = crypto.sign_index(
            header, entries, self.keys.signing_key, salt=os.urandom(8), shard_min_entries=4
        )
        self.indexes.append(signed.index)
        self.shards.append(signed.shards)

    def served(self, path: str) -> bytes | None:
        """What the stub answers at an index or shard path (``None``: 404)."""
        if path in self.replace:
            return self.replace[path]
        parts = path.split("/")
        try:
            sequence = int(parts[3])
            if parts[2] == "indexes" and len(parts) == 4:
                return self.indexes[sequence - 1]
            if parts[2] == "shards" and len(parts) == 5:
                return self.shards[sequence - 1][int(parts[4])]
        except (ValueError, IndexError):
            pass
        return None


@contextmanager
def serve(stub: StubService) -> Iterator[StubService]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass  # the client hung up on a body it refuses, as it should

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
                etag = f'"{hashlib.sha256(data).hexdigest()}"'
                stub.bundle_requests.append((self.path, self.headers.get("If-None-Match")))
                if self.headers.get("If-None-Match") == etag:
                    stub.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                elif stub.endless or stub.drip:
                    self._hostile(data)
                else:
                    self._send(200, data, "application/octet-stream")
            elif self.path.startswith(("/v1/indexes/", "/v1/shards/")):
                stub.index_requests.append(self.path)
                data = stub.served(self.path)
                if data is None:
                    self._send(404, b'{"error": {"code": "not_found", "message": "not found"}}')
                elif (stub.endless or stub.drip) and (
                    not stub.hostile_paths or self.path in stub.hostile_paths
                ):
                    self._hostile(data)
                else:
                    self._send(200, data, "application/octet-stream")
            elif self.path.startswith("/v1/bundles"):
                after = int(self.path.partition("after=")[2] or -1)
                rows = []
                for seq, data in enumerate(stub.bundles, 1):
                    if seq > after and seq not in stub.hidden:
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
                                "index": None
                                if not stub.indexed
                                else {
                                    "url": f"/v1/indexes/{seq}",
                                    "size": len(stub.served(f"/v1/indexes/{seq}") or b""),
                                    "sha256": hashlib.sha256(
                                        stub.served(f"/v1/indexes/{seq}") or b""
                                    ).hexdigest(),
                                    "shards": len(stub.shards[seq - 1]),
                                },
                                **stub.index_override,
                            }
                        )
                doc = {"key_id": stub.keys.public.key_id.hex(), "bundles": rows}
                self._send(200, json.dumps(doc).encode())
            else:
                self._send(404, b'{"error": {"code": "not_found", "message": "not found"}}')

        def _hostile(self, data: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                if stub.drip:
                    for i in range(len(data)):
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                        time.sleep(stub.drip)
                else:
                    self.wfile.write(data)
                    for _ in range(stub.endless // 65536):
                        self.wfile.write(bytes(65536))
            except OSError:
                pass  # the client hung up, as it should
            self.close_connection = True

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
