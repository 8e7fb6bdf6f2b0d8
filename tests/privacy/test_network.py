"""A network observer: what crosses the wire, and what never does."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from placecode import crypto
from placecode.clients import visitor
from placecode.clients.http import Client
from placecode.crypto import constants as c
from tests.clients.stub import StubService, serve

T0 = 1_790_000_000 // 3600 * 3600
CAFE = crypto.Venue(bytes([1]) * 32, "Riverside Café", crypto.Category.CAFE, 120)
GYM = crypto.Venue(bytes([2]) * 32, "City Gym", crypto.Category.GYM, 60)


def test_check_in_and_out_never_touch_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a check-in touched the network")

    for name in ("connect", "connect_ex", "sendto", "sendall", "send"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    diary = visitor.Diary.open(tmp_path)
    assert diary.scan(GYM.screen(T0), T0).checked_in is not None
    assert diary.scan(GYM.screen(T0 + 1200), T0 + 1200).checked_out is not None
    diary.check_in(CAFE.poster(), T0 + 3600)
    diary.check_out(T0 + 5400)
    diary.save()
    assert len(visitor.Diary.open(tmp_path).visits) == 2


def test_the_url_before_the_fragment_is_the_same_for_every_code() -> None:
    """Browsers never send a fragment: whatever opens the URL learns no venue."""
    for i in range(20):
        venue = crypto.Venue(os.urandom(32), f"Venue {i}", crypto.Category(i % 15), 30 + i)
        for code in (venue.poster(i), venue.screen(T0 + i * 4000)):
            before, _, fragment = code.to_url().partition("#")
            assert before == "HTTPS://PLACECODE.APP/V"
            assert crypto.VenueCode.from_url(code.to_url()) == code
            assert fragment and code.code_key.hex().upper() not in before


def test_a_client_dummy_differs_from_a_real_upload_only_in_the_flag() -> None:
    visit = crypto.check_in(GYM.screen(T0), T0).check_out(T0 + 5400)
    rescanned = crypto.check_in(GYM.screen(T0), T0).rescan(GYM.screen(T0 + 900), T0 + 900)
    real_lengths = {
        len(e)
        for v in (
            visit,
            rescanned.check_out(T0 + 900),
            crypto.check_in(CAFE.poster(), T0).check_out(T0 + 60),
        )
        for e in crypto.report_entries(v, os.urandom)
    }
    assert real_lengths == {48, 117, 185}
    for _ in range(300):
        dummy = visitor.dummy_upload(os.urandom)
        assert visitor.normalize_tan(dummy.tan) == dummy.tan  # a TAN of the service's shape
        assert 1 <= len(dummy.entries) <= visitor.MAX_DUMMY_ENTRIES
        assert {len(e) for e in dummy.entries} <= real_lengths
        data = dummy.to_bytes()
        assert len(data) == c.UPLOAD_BYTES and data[4] == c.UPLOAD_DUMMY
        # the flag byte is the only thing that makes it a dummy
        real = crypto.UploadRequest.from_bytes(data[:4] + bytes([c.UPLOAD_REAL]) + data[5:])
        assert (real.tan, real.entries, real.dummy) == (dummy.tan, dummy.entries, False)


def test_only_a_person_who_sends_contact_details_makes_a_consent_request(
    tmp_path: Path,
) -> None:
    """Residual: there are no dummy consent messages, and a consent is 512 bytes, not 64 KiB."""
    keys = crypto.AuthorityKeys.generate(os.urandom)
    with serve(StubService(keys)) as stub:
        diary = visitor.Diary.open(tmp_path)
        diary.check_in(CAFE.poster(), T0 + 600)
        diary.check_out(T0 + 3000)
        case = crypto.check_in(CAFE.poster(), T0).check_out(T0 + 1800)
        stub.publish(crypto.report_entries(case, os.urandom), (T0 // 3600, T0 // 3600), T0 + 3600)
        for _ in range(5):
            result = visitor.sync(diary, Client(stub.url), T0 + 7200, dummy_probability=1.0)
        assert [len(u) for u in stub.uploads] == [c.UPLOAD_BYTES] * 5
        assert stub.consents == []
        (warning,) = result.warnings
        visitor.send_contact(diary, Client(stub.url), warning.id, "+41 79 000 00 00", T0 + 7300)
        assert [len(m) for m in stub.consents] == [c.CONSENT_BYTES]


def test_a_real_report_makes_the_requests_of_a_sync_with_a_dummy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report rides in a sync, in the dummy's place: same requests, same order."""
    from placecode.cli import main

    monkeypatch.setenv("PLACECODE_HOME", str(tmp_path / "visitor"))
    monkeypatch.setenv("PLACECODE_DUMMY_PROBABILITY", "1")
    sent: list[tuple[str, str]] = []
    original = Client._request

    def record(self: Client, method: str, path: str, *args: object, **kw: object) -> object:
        sent.append((method, path.partition("?")[0]))
        return original(self, method, path, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Client, "_request", record)
    keys = crypto.AuthorityKeys.generate(os.urandom)
    with serve(StubService(keys)) as stub:
        monkeypatch.setenv("PLACECODE_SERVER", stub.url)
        at, later = "2026-11-20T12:00Z", "2026-11-20T12:45Z"
        assert main(["visit", "check-in", "--url", CAFE.poster().to_url(), "--at", at]) == 0
        assert main(["visit", "check-out", "--at", later]) == 0
        pin = keys.public.sign_key.hex()
        assert main(["visit", "sync", "--authority-key", pin, "--at", later]) == 0
        synced, sent[:] = list(sent), []
        assert main(["visit", "report", "--tan", "abcd-efgh-jkmn", "--yes", "--at", later]) == 0
        reported = list(sent)
    assert synced == [("GET", "/v1/config"), ("GET", "/v1/bundles"), ("POST", "/v1/uploads")]
    assert reported == synced
    assert [len(u) for u in stub.uploads] == [c.UPLOAD_BYTES] * 2
