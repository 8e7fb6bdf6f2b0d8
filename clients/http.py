"""A small client of the service's HTTP API (docs/api.md), over urllib.

Every failure becomes a ``crypto.Error`` subclass whose message a person can act on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from placecode.crypto import Error

DEFAULT_SERVER = "http://127.0.0.1:8000"
#: seconds to wait for the service before giving up
TIMEOUT = 20.0
#: the largest bundle the app downloads: far above a busy hour's bundle (about
#: 70 bytes an entry), far below what would strain a phone's memory
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
#: bytes read from the network at a time while downloading a bundle
CHUNK_BYTES = 64 * 1024


class ServiceError(Error):
    """The service could not be reached, or refused a request."""

    def __init__(self, message: str, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class UnreachableError(ServiceError):
    """No answer from the service at all."""


@dataclass(frozen=True)
class BundleInfo:
    """What the app takes from a row of the bundle index: where a bundle is, how big.

    The index is not signed: the app trusts none of it beyond where to look and
    how much to read, and checks the bytes against ``sha256`` and the signature.
    """

    sequence: int
    url: str
    size: int
    sha256: str


@dataclass(frozen=True)
class IndexInfo:
    """Where a bundle's compact index is (protocol §18), how big: unsigned, like the row."""

    url: str
    size: int
    sha256: str


@dataclass(frozen=True)
class IndexRow(BundleInfo):
    """A whole row of the bundle index, as the authority's statistics show it (unsigned)."""

    created_at: int
    first_hour: int
    last_hour: int
    entries: int
    #: the bundle's compact index, when the service has made one
    index: IndexInfo | None = None


def _index_info(value: object) -> IndexInfo | None:
    """A row's ``index`` field: absent or null (no index yet), or an object."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("an index is an object")
    return IndexInfo(str(value["url"]), int(value["size"]), str(value["sha256"]))


def server_url(explicit: str | None = None) -> str:
    return (explicit or os.environ.get("PLACECODE_SERVER") or DEFAULT_SERVER).rstrip("/")


class Client:
    """Calls the service at ``base`` (like ``http://127.0.0.1:8000``)."""

    def __init__(self, base: str, token: str | None = None, timeout: float = TIMEOUT) -> None:
        parsed = urllib.parse.urlsplit(base)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ServiceError(f"{base!r} is not a service address like {DEFAULT_SERVER}")
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        staff: bool = False,
    ) -> tuple[int, dict[str, str], bytes]:
        url = urllib.parse.urljoin(self.base + "/", path.lstrip("/"))
        request = urllib.request.Request(url, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", content_type)
        if staff:
            if not self.token:
                raise ServiceError(
                    "this needs a staff token: pass --token or set PLACECODE_TOKEN "
                    "(made with `placecode admin create-token`)"
                )
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as e:
            raise self._refusal(e) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            raise UnreachableError(
                f"cannot reach the service at {self.base}: is it running?"
            ) from None

    def _refusal(self, e: urllib.error.HTTPError) -> ServiceError:
        try:
            error = json.loads(e.read())["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError, OSError):
            return ServiceError(f"the service at {self.base} failed (HTTP {e.code})", "", e.code)
        return ServiceError(f"the service refused: {message}", code, e.code)

    def _json(self, method: str, path: str, payload: Any = None, staff: bool = False) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        _, _, data = self._request(method, path, body, staff=staff)
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise ServiceError(
                f"the service at {self.base} answered something unexpected"
            ) from None

    # --- public -------------------------------------------------------------------

    def config(self) -> tuple[bytes, bytes]:
        """The signed configuration: (payload, signature), not yet verified."""
        doc = self._json("GET", "/v1/config")
        try:
            return (
                base64.b64decode(doc["payload"], validate=True),
                base64.b64decode(doc["signature"], validate=True),
            )
        except (KeyError, TypeError, binascii.Error):
            raise ServiceError(
                f"the service at {self.base} sent a malformed configuration"
            ) from None

    def upload(self, request: bytes) -> None:
        self._request("POST", "/v1/uploads", request, "application/octet-stream")

    def consent(self, sealed: bytes) -> None:
        self._request("POST", "/v1/consent", sealed, "application/octet-stream")

    def bundle_index(self, after: int | None = None) -> list[IndexRow]:
        """The bundle index (above ``after``), unsigned: only the bundles themselves are."""
        path = "/v1/bundles" if after is None or after < 0 else f"/v1/bundles?after={after}"
        doc = self._json("GET", path)
        try:
            return [
                IndexRow(
                    int(b["sequence"]),
                    str(b["url"]),
                    int(b["size"]),
                    str(b["sha256"]),
                    int(b["created_at"]),
                    int(b["first_hour"]),
                    int(b["last_hour"]),
                    int(b["entries"]),
                    _index_info(b.get("index")),
                )
                for b in doc["bundles"]
            ]
        except (KeyError, TypeError, ValueError):
            raise ServiceError(
                f"the service at {self.base} sent a malformed bundle index"
            ) from None

    def bundle(
        self,
        info: BundleInfo,
        *,
        deadline: float | None = None,
        have: bytes | None = None,
        max_bytes: int = MAX_BUNDLE_BYTES,
    ) -> bytes:
        """The bundle's bytes; its signature is for the caller to verify.

        Reads at most ``info.size`` bytes (itself at most ``max_bytes``), in
        chunks, and gives up at ``deadline`` (``time.monotonic()``): a server or
        CDN that sends more than it declared, or drips its answer, gets nowhere.
        ``have`` is a copy the app already holds: it is asked for with
        ``If-None-Match`` and returned as it is when the server answers 304.
        """
        return self._immutable(
            info.url or f"/v1/bundles/{info.sequence}",
            f"bundle {info.sequence}",
            info.size,
            max_bytes,
            deadline=deadline,
            have=have,
        )

    def index(
        self,
        sequence: int,
        info: IndexInfo,
        *,
        deadline: float | None = None,
        have: bytes | None = None,
        max_bytes: int = MAX_BUNDLE_BYTES,
    ) -> bytes:
        """Bundle ``sequence``'s compact index (protocol §18), bounded as a bundle is."""
        return self._immutable(
            info.url or f"/v1/indexes/{sequence}",
            f"the index of bundle {sequence}",
            info.size,
            max_bytes,
            deadline=deadline,
            have=have,
        )

    def shard(
        self, sequence: int, number: int, max_bytes: int, *, deadline: float | None = None
    ) -> bytes:
        """Shard ``number`` of bundle ``sequence`` (protocol §18): at most ``max_bytes``.

        No index row declares a shard's size: the caller bounds it by what the
        verified index allows (its entry count), and a longer answer is refused.
        """
        return self._immutable(
            f"/v1/shards/{sequence}/{number}",
            f"shard {number} of bundle {sequence}",
            None,
            max_bytes,
            deadline=deadline,
        )

    def _immutable(
        self,
        path: str,
        what: str,
        size: int | None,
        max_bytes: int,
        *,
        deadline: float | None = None,
        have: bytes | None = None,
    ) -> bytes:
        if size is not None and not 0 < size <= max_bytes:
            raise ServiceError(
                f"the service declares {what} as {size:,} bytes, outside what the app "
                f"accepts (1 to {max_bytes:,}): nothing was downloaded"
            )
        url = urllib.parse.urljoin(self.base + "/", path.lstrip("/"))
        request = urllib.request.Request(url, method="GET")
        if have is not None:
            request.add_header("If-None-Match", f'"{hashlib.sha256(have).hexdigest()}"')
        try:
            with urllib.request.urlopen(request, timeout=self._timeout(deadline, what)) as response:
                declared = response.headers.get("Content-Length")
                if size is None:
                    if declared is not None and not declared.strip().isdigit():
                        raise ServiceError(f"the service sent {what} with a malformed size")
                    if declared is not None and int(declared) > max_bytes:
                        raise ServiceError(
                            f"the service sent {what} larger than the app accepts "
                            f"({max_bytes:,} bytes): refused"
                        )
                    return self._read_bounded(response, max_bytes, deadline, what, exact=False)
                if declared is not None and declared.strip() != str(size):
                    raise ServiceError(
                        f"the service sent {what} with another size than its index declares"
                    )
                return self._read_bounded(response, size, deadline, what)
        except urllib.error.HTTPError as e:
            if e.code == 304 and have is not None:
                return have
            raise self._refusal(e) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            raise UnreachableError(
                f"cannot download {what} from {self.base}: the service stopped answering"
            ) from None

    def _timeout(self, deadline: float | None, what: str) -> float:
        if deadline is None:
            return self.timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise ServiceError(
                f"downloading {what} took too long: try again later (nothing of it was kept)"
            )
        return min(self.timeout, left)

    def _read_bounded(
        self, response: Any, size: int, deadline: float | None, what: str, *, exact: bool = True
    ) -> bytes:
        """At most ``size`` bytes (exactly ``size`` when ``exact``), before ``deadline``."""
        data = bytearray()
        while True:
            chunk = response.read1(min(CHUNK_BYTES, size + 1 - len(data)))
            if not chunk:
                break
            data += chunk
            if len(data) > size:
                if not exact:
                    raise ServiceError(
                        f"the service sent more of {what} than the app accepts "
                        f"({size:,} bytes): refused"
                    )
                raise ServiceError(
                    f"the service sent more of {what} than its index declares: refused"
                )
            self._timeout(deadline, what)
        if exact and len(data) != size:
            raise ServiceError(f"the service sent {what} cut short: try again later")
        return bytes(data)

    # --- staff ------------------------------------------------------------------------

    def issue_tans(self, count: int = 1, valid_hours: int = 72) -> list[tuple[str, int]]:
        doc = self._json(
            "POST", "/v1/tans", {"count": count, "valid_hours": valid_hours}, staff=True
        )
        try:
            return [(str(t["tan"]), int(t["expires_at"])) for t in doc["tans"]]
        except (KeyError, TypeError, ValueError):
            raise ServiceError(f"the service at {self.base} sent malformed TANs") from None

    def publish_venue_entries(self, entries: list[bytes], slots: list[bytes]) -> int:
        """Publishes ``entries[i]``, sealed from the slot of digest ``slots[i]``
        (``authority.slot_digest``); returns how many were new. The service skips
        slots it published before, and refuses (``already_published``) when all were."""
        payload = {
            "entries": [base64.b64encode(e).decode() for e in entries],
            "slots": [d.hex() for d in slots],
        }
        doc = self._json("POST", "/v1/venue-entries", payload, staff=True)
        try:
            return int(doc["accepted"])
        except (KeyError, TypeError, ValueError):
            raise ServiceError(
                f"the service at {self.base} answered something unexpected"
            ) from None

    def revoke(self, tags: list[bytes]) -> int:
        doc = self._json("POST", "/v1/revocations", {"tags": [t.hex() for t in tags]}, staff=True)
        return int(doc["revoked"])

    def consent_inbox(self) -> Iterator[tuple[int, str, bytes]]:
        """Every message of the inbox, oldest first, fetched a page at a time."""
        for page in self.consent_pages():
            yield from page

    def consent_pages(self) -> Iterator[list[tuple[int, str, bytes]]]:
        """The inbox a page at a time, oldest first."""
        after: int | None = 0
        while after is not None:
            doc = self._json("GET", f"/v1/consent?after={after}", staff=True)
            try:
                yield [
                    (int(m["id"]), str(m["received_day"]), base64.b64decode(m["sealed"]))
                    for m in doc["messages"]
                ]
                following = doc["next_after"]
            except (KeyError, TypeError, ValueError, binascii.Error):
                raise ServiceError(f"the service at {self.base} sent a malformed inbox") from None
            if following is not None and (type(following) is not int or following <= after):
                raise ServiceError(f"the service at {self.base} sent a malformed inbox")
            after = following

    def delete_consent(self, message_id: int) -> None:
        self._request("DELETE", f"/v1/consent/{message_id}", staff=True)
