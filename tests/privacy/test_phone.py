"""A thief of a phone: the diary at rest."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nacl.secret

from placecode import crypto
from placecode.clients import visitor

from .conftest import T0

CAFE = crypto.Venue(bytes([1]) * 32, "Riverside Café", crypto.Category.CAFE, 120)


def _plain(directory: Path) -> bytes:
    """The diary as someone holding its key file reads it."""
    box = nacl.secret.SecretBox((directory / visitor.KEY_FILE).read_bytes())
    return box.decrypt((directory / visitor.DIARY_FILE).read_bytes())


def _forms(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.b32encode(secret).rstrip(b"="),
    ]


def test_the_diary_forgets_the_code_key_at_check_out(tmp_path: Path) -> None:
    code = CAFE.poster()
    fragment = code.to_url().partition("#")[2].encode()
    diary = visitor.Diary.open(tmp_path)
    diary.check_in(code, T0)
    diary.save()
    assert fragment in _plain(tmp_path)  # while checked in, the code is needed for the rescan
    diary.check_out(T0 + 1800)
    diary.save()
    plain = _plain(tmp_path)
    assert fragment not in plain
    for form in _forms(code.code_key):
        assert form not in plain
    (stored,) = json.loads(plain)["visits"]
    assert "code_key" not in stored and stored["code_id"] == code.code_id.hex()


def test_an_opened_diary_confirms_a_visit_to_whoever_holds_the_code(tmp_path: Path) -> None:
    """Residual: with the key file (no passphrase) the diary reads in clear, tags included."""
    diary = visitor.Diary.open(tmp_path)
    diary.check_in(CAFE.poster(), T0)
    diary.check_out(T0 + 1800)
    diary.save()
    doc = json.loads(_plain(tmp_path))
    assert doc["visits"][0]["name"] == "Riverside Café"
    tag = crypto.hour_tag(CAFE.poster().bound_key, T0 // 3600).hex()
    assert tag in {slot[3] for slot in doc["visits"][0]["slots"]}
