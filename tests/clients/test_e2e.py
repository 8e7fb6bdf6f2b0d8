"""End to end through the real service on SQLite: check-in, report, sync, warning, contact."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from placecode.cli import main
from placecode.clients import demo

DAY = (int(time.time()) // 86400 - 1) * 86400


def iso(hhmm: str) -> str:
    hours, minutes = hhmm.split(":")
    return datetime.fromtimestamp(DAY + int(hours) * 3600 + int(minutes) * 60, UTC).isoformat()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[demo.RunningService, Path]]:
    work = tmp_path_factory.mktemp("service")
    with demo.service(work) as service:
        yield service, work


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_check_in_report_sync_warn_contact(
    running: tuple[demo.RunningService, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service, work = running
    monkeypatch.setenv("PLACECODE_SERVER", service.url)
    monkeypatch.setenv("PLACECODE_TOKEN", service.token)
    monkeypatch.setenv("PLACECODE_DUMMY_PROBABILITY", "1")
    assert (
        run(capsys, "venue", "create", "--name", "Noodle Bar", "--out", str(tmp_path / "v"))[0] == 0
    )
    poster = str(tmp_path / "v" / "poster.png")
    case, friend = ["--data-dir", str(tmp_path / "case")], ["--data-dir", str(tmp_path / "friend")]

    assert run(capsys, "visit", *case, "check-in", poster, "--at", iso("12:00"))[0] == 0
    assert run(capsys, "visit", *case, "scan", poster, "--at", iso("13:00"))[0] == 0
    assert run(capsys, "visit", *friend, "check-in", poster, "--at", iso("12:40"))[0] == 0
    assert run(capsys, "visit", *friend, "check-out", "--at", iso("14:00"))[0] == 0

    code, out, _ = run(capsys, "authority", "issue-tan")
    assert code == 0
    tan = out.split()[0]
    code, _, err = run(capsys, "visit", *case, "report", "--tan", "ABCD-EFGH-JKMN", "--yes")
    assert code == 1 and "TAN" in err
    code, out, err = run(capsys, "visit", *case, "report", "--tan", tan.lower(), "--yes")
    assert code == 0, err
    assert "Sent 1 sealed entry" in out
    code, _, err = run(capsys, "visit", *case, "report", "--tan", tan, "--yes")
    assert code == 1 and "TAN" in err

    assert "published bundle" in demo.build_bundles(work)
    code, out, _ = run(capsys, "authority", "stats")
    assert code == 0 and "entries" in out

    code, out, err = run(capsys, "visit", *friend, "sync", "--at", iso("23:00"))
    assert code == 0, err
    assert "Trusting health authority key" in out
    assert "WARNING #" in out and "Noodle Bar" in out and "20 minutes shared" in out
    assert "self-reported" in out
    code, out, _ = run(capsys, "visit", *case, "sync", "--at", iso("23:00"))
    assert code == 0 and "WARNING" not in out  # their own report does not warn them

    code, out, _ = run(capsys, "visit", *friend, "warnings")
    warning_id = out.split("WARNING #")[1].split(":")[0]
    code, out, err = run(
        capsys, "visit", *friend, "contact", warning_id, "--details", "noodles@example.org", "--yes"
    )
    assert code == 0, err
    seal_key = str(service.key_dir / "sealing.key")
    code, out, _ = run(capsys, "authority", "inbox", "--seal-key", seal_key, "--delete")
    assert code == 0 and "noodles@example.org" in out and "Deleted 1" in out


def test_venue_confirmation_is_published(
    running: tuple[demo.RunningService, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service, work = running
    monkeypatch.setenv("PLACECODE_SERVER", service.url)
    monkeypatch.setenv("PLACECODE_TOKEN", service.token)
    run(capsys, "venue", "create", "--name", "Tea House", "--out", str(tmp_path / "v"))
    key = str(tmp_path / "v" / "venue.key")
    guest = ["--data-dir", str(tmp_path / "guest")]
    run(
        capsys,
        "visit",
        *guest,
        "check-in",
        str(tmp_path / "v" / "poster.png"),
        "--at",
        iso("09:00"),
    )
    run(capsys, "visit", *guest, "check-out", "--at", iso("10:00"))
    sealed = str(tmp_path / "trace.sealed")
    code, out, err = run(
        capsys,
        "venue",
        "confirm",
        "--key",
        key,
        "--from",
        iso("09:30"),
        "--to",
        iso("11:00"),
        "--no-screen",
        "--out",
        sealed,
    )
    assert code == 0, err
    seal_key = str(service.key_dir / "sealing.key")
    code, out, err = run(capsys, "authority", "publish-trace", sealed, "--seal-key", seal_key)
    assert code == 0 and "Published 2 venue-confirmed entries" in out, err
    # published again, or sealed anew by the owner: refused in one line, nothing lost
    resealed = str(tmp_path / "trace-again.sealed")
    confirm = ["venue", "confirm", "--key", key, "--from", iso("09:30"), "--no-screen"]
    assert run(capsys, *confirm, "--to", iso("11:00"), "--out", resealed)[0] == 0
    for again in (sealed, resealed, sealed):
        code, out, err = run(capsys, "authority", "publish-trace", again, "--seal-key", seal_key)
        assert code == 1 and not out and len(err.strip().splitlines()) == 1, out + err
        assert "was published already, and nothing was published again" in err
        assert f"placecode authority revoke --trace {again}" in err
    # a longer window publishes only its new hour
    longer = str(tmp_path / "trace-longer.sealed")
    assert run(capsys, *confirm, "--to", iso("12:00"), "--out", longer)[0] == 0
    code, out, err = run(capsys, "authority", "publish-trace", longer, "--seal-key", seal_key)
    assert code == 0 and "Published 1 venue-confirmed entries for 3 hour(s)" in out, err
    assert "2 were published before and stay as they are" in out
    demo.build_bundles(work)
    code, out, err = run(capsys, "visit", *guest, "sync", "--at", iso("23:00"))
    assert code == 0 and "Tea House" in out and "venue-confirmed" in out, out + err

    # the authority withdraws the confirmation: the guest's warning goes with it
    code, _, err = run(capsys, "authority", "revoke", "--trace", sealed)
    assert code == 2 and "--seal-key" in err
    code, _, err = run(capsys, "authority", "revoke", "not-a-tag")
    assert code == 1 and "32 hexadecimal digits" in err
    code, out, err = run(capsys, "authority", "revoke", "--trace", sealed, "--seal-key", seal_key)
    assert code == 0 and "Revoked 2 stored entries under 2 tag(s)" in out, err
    demo.build_bundles(work)
    code, out, err = run(capsys, "visit", *guest, "sync", "--at", iso("23:30"))
    assert code == 0 and "was withdrawn" in out and "Tea House" in out, out + err
    code, out, _ = run(capsys, "visit", *guest, "warnings")
    assert "Tea House" not in out
    # withdrawn, the trace may be published again
    code, out, err = run(capsys, "authority", "publish-trace", sealed, "--seal-key", seal_key)
    assert code == 0 and "Published 2 venue-confirmed entries" in out, err


def test_server_down_is_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = demo.free_port()
    args = ["--data-dir", str(tmp_path / "d")]
    code, _, err = run(capsys, "visit", *args, "sync", "--server", f"http://127.0.0.1:{port}")
    assert code == 1 and "cannot reach the service" in err and "is it running?" in err


def test_demo_finds_exactly_the_exposed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo", "--out", str(tmp_path / "demo-out"))
    assert code == 0, out + err
    assert "Exactly the 7 visitors" in out and "Service stopped" in out
    assert (tmp_path / "demo-out" / "city-gym" / "poster.pdf").exists()
