"""``placecode admin`` and retention."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placecode.cli import main
from placecode.clients.demo import free_port
from placecode.crypto import ConsentMessage, seal_consent
from placecode.service import admin
from placecode.service.context import state
from placecode.service.models import Bundle, Entry, Revocation, Tan
from placecode.service.models import ConsentMessage as StoredConsent

from .conftest import DAY, T0, Clock
from .helpers import issue_tans, post_upload, random_entries, upload_body, venue_entries


def test_admin_commands_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key_dir = tmp_path / "keys"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'service.db'}")
    monkeypatch.setenv("PLACECODE_KEY_DIR", str(key_dir))
    monkeypatch.setenv("PLACECODE_MIN_BUNDLE_ENTRIES", "3")
    assert main(["admin", "init"]) == 0
    assert "wrote authority keys" in capsys.readouterr().out
    for name in ("signing.key", "sealing.pub", "sealing.key"):
        assert stat.S_IMODE(os.stat(key_dir / name).st_mode) == 0o600
    assert main(["admin", "init"]) == 0
    assert "already" in capsys.readouterr().out
    assert main(["admin", "create-token", "--role", "publisher"]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["admin", "create-token", "--role", "king"]) == 2
    capsys.readouterr()

    from placecode.service import create_app

    client = create_app().test_client()

    response = client.post(
        "/v1/venue-entries",
        json=venue_entries(random_entries(4)),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert main(["admin", "stats"]) == 0
    assert "entries_pending: 4" in capsys.readouterr().out
    assert main(["admin", "build-bundles"]) == 0
    # the 4 authority entries, and 3 decoys: the minimum batch counts public entries only
    assert "published bundle 1: 7 entries" in capsys.readouterr().out
    assert main(["admin", "build-bundles"]) == 0
    assert "no bundle due" in capsys.readouterr().out
    assert main(["admin", "build-bundles", "--force"]) == 0
    assert "nothing to publish: no entry or revocation waits" in capsys.readouterr().out
    assert main(["admin", "export", str(tmp_path / "cdn")]) == 0
    assert (tmp_path / "cdn" / "v1" / "bundles" / "1").read_bytes() == client.get(
        "/v1/bundles/1"
    ).data
    assert main(["admin", "purge"]) == 0
    assert "entries: 0" in capsys.readouterr().out.replace("entries: 0,", "entries: 0")


def test_admin_reports_missing_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLACECODE_KEY_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    assert main(["admin", "build-bundles"]) == 1
    assert "placecode admin init" in capsys.readouterr().err
    monkeypatch.setenv("PLACECODE_RETENTION_DAYS", "soon")
    assert main(["admin", "stats"]) == 1
    assert "PLACECODE_RETENTION_DAYS" in capsys.readouterr().err


def test_purge_removes_exactly_what_is_past_retention(
    client: FlaskClient,
    app: Flask,
    settings: dict[str, Any],
    clock: Clock,
    token: Callable[[str], str],
    authority: Any,
) -> None:
    issuer = token("tan-issuer")
    publisher = {"Authorization": token("publisher")}
    day0 = dt.date(2026, 6, 1)
    for day in range(16):  # an upload, a consent message and a bundle each day
        clock.now = T0 + day * DAY
        (tan,) = issue_tans(client, issuer, hours=24)
        entries = random_entries(5)
        assert post_upload(client, upload_body(tan, entries)).status_code == 202
        client.post("/v1/revocations", json={"tags": [entries[0][:16].hex()]}, headers=publisher)
        confirmed = client.post(
            "/v1/venue-entries", json=venue_entries(random_entries(1)), headers=publisher
        )
        assert confirmed.status_code == 201
        sealed = seal_consent(ConsentMessage(bytes(16), 1, 0, 1, "x"), authority)
        client.post("/v1/consent", data=sealed, content_type="application/octet-stream")
        assert admin.build_bundles(settings) is not None
    issue_tans(client, issuer, hours=1)  # expires within the hour
    clock.now = T0 + 15 * DAY + 2 * 3600
    removed = admin.purge(settings)
    # today is day 15: days 1..15 are within the 14 days kept, day 0 is not
    assert removed["entries"] == 5 and removed["consent_messages"] == 1
    assert removed["published_slots"] == 1
    assert removed["revocations"] == 1 and removed["bundles"] == 1
    assert removed["tans"] == 1  # redeemed TANs are gone already; this one expired
    with app.app_context(), state().sessions() as session:
        assert min(session.scalars(select(Entry.received_day))) == day0 + dt.timedelta(days=1)
        assert min(session.scalars(select(StoredConsent.received_day))) == day0 + dt.timedelta(
            days=1
        )
        assert min(session.scalars(select(Revocation.revoked_day))) == day0 + dt.timedelta(days=1)
        assert min(session.scalars(select(Bundle.created_at))) == T0 + DAY
        assert list(session.scalars(select(Tan))) == []
    assert admin.purge(settings) == dict.fromkeys(removed, 0)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("notaurl", "is not a database URL"),
        ("mysql://root@127.0.0.1:3306/placecode", "SQLite or PostgreSQL, not mysql"),
        ("postgresql://postgres@127.0.0.1:{port}/placecode", "is it running"),
        ("postgresql://postgres@127.0.0.1:5432/placecode_missing_{port}", "createdb"),
    ],
)
def test_admin_init_with_a_bad_database_url_says_what_to_do_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    said: str,
) -> None:
    monkeypatch.setenv("PLACECODE_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("DATABASE_URL", url.format(port=free_port()))
    assert main(["admin", "init"]) == 1
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("error: ") and said in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "keys").exists()  # nothing written for a database that failed


def test_a_password_in_the_database_url_is_not_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLACECODE_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2secret@127.0.0.1/x")
    assert main(["admin", "init"]) == 1
    assert "hunter2secret" not in capsys.readouterr().err


def test_admin_on_an_uninitialised_database_says_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from placecode.service.keys import init_keys

    init_keys(tmp_path / "keys")
    monkeypatch.setenv("PLACECODE_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    for command in (["stats"], ["purge"], ["build-bundles"], ["create-token", "--role", "inbox"]):
        assert main(["admin", *command]) == 1, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "run `placecode admin init`" in err, command


def test_the_sqlite_file_is_readable_by_its_owner_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLACECODE_KEY_DIR", str(tmp_path / "keys"))
    database = tmp_path / "data" / "service.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    old = os.umask(0o022)
    try:
        assert main(["admin", "init"]) == 0
        assert main(["admin", "stats"]) == 0
    finally:
        os.umask(old)
    for path in [database, *database.parent.glob("service.db-*")]:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    database.chmod(0o644)  # a file made by an older version is tightened
    assert main(["admin", "stats"]) == 0
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600
