"""The three tools through ``main([...])``: clear messages and exit codes, never a traceback."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from placecode import crypto
from placecode.cli import main
from placecode.clients import venue
from placecode.clients import visitor as visitor_files
from placecode.crypto import AuthorityKeys

from .stub import StubService, serve

AT = "2026-11-20T12:00Z"
LATER = "2026-11-20T12:45Z"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLACECODE_HOME", str(tmp_path / "visitor"))
    monkeypatch.setenv("PLACECODE_DUMMY_PROBABILITY", "0")
    monkeypatch.delenv("PLACECODE_SERVER", raising=False)
    return tmp_path / "visitor"


@pytest.fixture
def cafe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, _ = run(
        capsys,
        "venue",
        "create",
        "--name",
        "Riverside Café",
        "--category",
        "cafe",
        "--stay",
        "90",
        "--out",
        str(tmp_path / "cafe"),
    )
    assert code == 0 and "keep it, never share it" in out
    return tmp_path / "cafe"


def diary_bytes(home: Path) -> bytes:
    return (home / "diary.box").read_bytes()


def test_venue_create_writes_a_private_key_and_posters(cafe: Path) -> None:
    assert stat.S_IMODE(os.stat(cafe / "venue.key").st_mode) == 0o600
    for name in ("poster.png", "poster.svg", "poster.pdf"):
        assert (cafe / name).stat().st_size > 1000
    assert (cafe / "poster.pdf").read_bytes().startswith(b"%PDF")
    assert "Riverside Café" in (cafe / "poster.svg").read_text()


def test_venue_create_never_overwrites_a_key(
    cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "venue", "create", "--name", "Other", "--out", str(cafe))
    assert code == 1 and "never overwritten" in err


def test_venue_name_too_long(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "venue", "create", "--name", "x" * 60, "--out", str(tmp_path))
    assert code == 2 and "at most 40" in err


def test_check_in_from_photo_and_out_by_rescan(
    home: Path, cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poster = str(cafe / "poster.png")
    code, out, _ = run(capsys, "visit", "check-in", poster, "--at", AT)
    assert code == 0 and "Checked in at Riverside Café (cafe)" in out
    code, _, err = run(capsys, "visit", "check-in", poster, "--at", LATER)
    assert code == 1 and "already checked in" in err
    code, out, _ = run(capsys, "visit", "scan", poster, "--at", LATER)
    assert code == 0 and "Checked out of Riverside Café" in out
    code, out, _ = run(capsys, "visit", "list", "--at", LATER)
    assert "#1" in out and "Riverside Café (poster)" in out
    code, out, _ = run(capsys, "visit", "delete", "1", "--at", LATER)
    assert code == 0 and "Deleted" in out


def test_screen_code_shows_the_verification_code(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gym = crypto.Venue(bytes(32), "City Gym", crypto.Category.GYM, 60)
    now = 1_795_000_000
    url = gym.screen(now).to_url()
    code, out, _ = run(capsys, "visit", "check-in", "--url", url, "--at", f"@{now}")
    assert code == 1  # not an ISO time
    at = datetime.fromtimestamp(now, UTC).isoformat()
    code, out, _ = run(capsys, "visit", "check-in", "--url", url, "--at", at)
    screen = gym.screen(now)
    assert screen.proof is not None
    expected = crypto.verification_code(screen.bound_key, screen.proof)
    assert code == 0 and f"Verification code: {expected}" in out
    code, out, _ = run(capsys, "visit", "status", "--at", at)
    assert expected in out
    # §6: past the proof's 90 seconds the phone shows no number, so no stale one
    later = datetime.fromtimestamp(now + 91, UTC).isoformat()
    code, out, _ = run(capsys, "visit", "status", "--at", later)
    assert code == 0 and expected not in out and "No verification code" in out


def test_automatic_check_out_is_announced(
    home: Path, cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "visit", "check-in", str(cafe / "poster.png"), "--at", AT)
    code, out, _ = run(capsys, "visit", "status", "--at", "2026-11-20T18:00Z")
    assert "automatically at 2026-11-20 13:30" in out and "not checked in" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["visit", "check-in", "--url", "https://example.org/#MENU"], "not a placecode|version"),
        (["visit", "check-in", "{garbage}"], "no such picture"),
        (["visit", "scan", "--url", "hello"], "not a placecode"),
        (["visit", "check-out", "--url", "https://x/#AAAAAAAA"], "not a placecode|version"),
        (["visit", "report", "--tan", "12345", "--yes"], "not a TAN"),
        (["visit", "report", "--tan", "ABCD-EFGH-JKMN", "--yes"], "cannot reach the service"),
        (["visit", "sync"], "cannot reach the service"),
        (["visit", "contact", "1", "--details", "me", "--yes"], "no warning #1"),
        (["visit", "delete", "99"], "no visit #99"),
        (["visit", "check-in", "--at", "yesterday", "--url", "x"], "not a time"),
    ],
)
def test_bad_input_is_a_message_and_the_diary_is_unharmed(
    home: Path,
    cafe: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("PLACECODE_SERVER", "http://127.0.0.1:9")  # nothing listens there
    run(capsys, "visit", "check-in", str(cafe / "poster.png"), "--at", AT)
    run(capsys, "visit", "check-out", "--at", LATER)
    before = diary_bytes(home)
    argv = [a.replace("{garbage}", str(tmp_path / "missing.png")) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err.startswith("error: ")
    assert re.search(message, err), err
    assert diary_bytes(home) == before


def test_bad_photo_is_a_message(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg")
    code, _, err = run(capsys, "visit", "check-in", str(photo))
    assert code == 1 and "not a picture" in err


def test_sync_report_contact_against_a_stub(
    home: Path, cafe: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = AuthorityKeys.generate(os.urandom)
    with serve(StubService(keys)) as stub:
        monkeypatch.setenv("PLACECODE_SERVER", stub.url)
        run(capsys, "visit", "check-in", str(cafe / "poster.png"), "--at", AT)
        run(capsys, "visit", "check-out", "--at", LATER)
        owned, _ = venue.load_key(cafe / "venue.key")
        start = crypto.check_in(owned.poster(), 1_795_176_000)  # 2026-11-20T12:00Z
        entries = crypto.report_entries(start.check_out(1_795_176_000 + 1800), os.urandom)
        stub.publish(entries, (1_795_176_000 // 3600,) * 2, 1_795_180_000)
        pin = keys.public.sign_key.hex()
        code, out, _ = run(capsys, "visit", "sync", "--authority-key", pin, "--at", LATER)
        assert code == 0, out
        assert "WARNING #" in out and "Riverside Café" in out and "30 minutes shared" in out
        assert "self-reported" in out and stub.uploads == []
        code, out, _ = run(capsys, "visit", "warnings", "--at", LATER)
        assert "WARNING #" in out
        warning_id = out.split("WARNING #")[1].split(":")[0]
        code, out, _ = run(
            capsys, "visit", "contact", warning_id, "--details", "+41 79 000 00 00", "--yes"
        )
        assert code == 0 and crypto.open_consent(stub.consents[0], keys).contact.startswith("+41")
        code, out, err = run(capsys, "visit", "report", "--tan", "WXYZ-WXYZ-WXYZ", "--yes")
        assert code == 1 and "this TAN is unknown" in err
        code, out, _ = run(capsys, "visit", "report", "--tan", "abcd-efgh-jkmn", "--yes")
        assert code == 0 and "Nothing else is sent" in out and "Sent 1 sealed entry" in out

        stub.tamper = True
        stub.publish(entries, (1_795_176_000 // 3600,) * 2, 1_795_190_000)
        before = diary_bytes(home)
        code, _, err = run(capsys, "visit", "sync", "--at", LATER)
        assert code == 1 and "failed verification" in err
        assert diary_bytes(home) == before


def test_report_asks_before_sending(
    home: Path, cafe: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "visit", "check-in", str(cafe / "poster.png"), "--at", AT)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    code, out, err = run(capsys, "visit", "report", "--tan", "ABCD-EFGH-JKMN")
    assert code == 1 and "Send these visits?" in out and "aborted" in err


def test_screen_serves_the_live_code(cafe: Path) -> None:
    owned, _ = venue.load_key(cafe / "venue.key")
    now = 1_795_000_015
    server = venue.screen_server(owned, "127.0.0.1", 0, lambda: now)
    venue.serve_in_background(server)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = urllib.request.urlopen(base + "/").read().decode()
        shown = owned.screen(now)
        assert shown.proof is not None
        code = crypto.verification_code(shown.bound_key, shown.proof)
        assert f"{code[:3]} {code[3:]}" in page and 'http-equiv="refresh" content="6"' in page
        png = urllib.request.urlopen(base + "/code.png").read()
        from PIL import Image

        from placecode.clients import qr

        assert qr.read_image(Image.open(__import__("io").BytesIO(png))) == owned.screen(now)
    finally:
        server.shutdown()
        server.server_close()


def test_confirmation_is_sealed_to_the_authority(
    cafe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "authority", "keygen", "--out", str(tmp_path / "auth"))
    assert code == 0 and "key id" in out
    assert stat.S_IMODE(os.stat(tmp_path / "auth" / "sealing.key").st_mode) == 0o600
    sealed = tmp_path / "trace.sealed"
    code, out, _ = run(
        capsys,
        "venue",
        "confirm",
        "--key",
        str(cafe / "venue.key"),
        "--from",
        AT,
        "--to",
        LATER,
        "--authority",
        str(tmp_path / "auth" / "authority.pub.json"),
        "--out",
        str(sealed),
    )
    assert code == 0, out
    from placecode.clients import authority

    keys = authority.load_sealing(tmp_path / "auth" / "sealing.key")
    slots, entries = authority.seal_trace_entries(sealed.read_bytes(), keys, 0, os.urandom)
    assert len(slots) == len(entries) >= 2
    public = json.loads((tmp_path / "auth" / "authority.pub.json").read_text())
    assert hashlib.sha256(b"").hexdigest() and public["key_id"] in out


def test_keygen_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "authority", "keygen", "--out", str(tmp_path))[0] == 0
    code, _, err = run(capsys, "authority", "keygen", "--out", str(tmp_path))
    assert code == 1 and "never overwritten" in err


def test_staff_commands_need_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "authority", "issue-tan", "--server", "http://127.0.0.1:9")
    assert code == 1 and "staff token" in err


@pytest.mark.filterwarnings("ignore::getpass.GetPassWarning")  # stdin is not a terminal here
def test_the_passphrase_is_asked_or_read_never_taken_from_argv(
    home: Path,
    cafe: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = venue.load_key(cafe / "venue.key")[0].poster().to_url()
    # a value on the command line, where `ps` shows it, is not a passphrase
    code, _, err = run(capsys, "visit", "--passphrase", "hunter22", "check-in", "--url", url)
    assert code != 0 and not home.exists()
    # scripts: a file (its first line)
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse\nignored\n")
    code, out, err = run(
        capsys, "visit", "--passphrase-file", str(secret), "check-in", "--url", url, "--at", AT
    )
    assert code == 0, err
    assert (home / visitor_files.SALT_FILE).exists() and not (
        home / visitor_files.KEY_FILE
    ).exists()
    # without it, the protected diary does not open, and says how to open it
    code, _, err = run(capsys, "visit", "list")
    assert code != 0 and "--passphrase" in err
    # asked on the terminal
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    code, out, err = run(capsys, "visit", "--passphrase", "list")
    assert code == 0 and "Riverside Café" in out, err
    monkeypatch.setenv("PLACECODE_PASSPHRASE", "battery staple")
    code, _, err = run(capsys, "visit", "list")
    assert code != 0 and "wrong passphrase" in err
    monkeypatch.setenv("PLACECODE_PASSPHRASE", "")
    code, _, err = run(capsys, "visit", "list")
    assert code != 0 and "empty passphrase" in err


def test_a_passphrase_for_a_key_file_diary_is_refused(
    home: Path, cafe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = venue.load_key(cafe / "venue.key")[0].poster().to_url()
    assert run(capsys, "visit", "check-in", "--url", url, "--at", AT)[0] == 0
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse\n")
    code, _, err = run(capsys, "visit", "--passphrase-file", str(secret), "list")
    assert code != 0 and "protected by its key file" in err
    code, _, err = run(capsys, "visit", "--passphrase", "list")  # refused before asking
    assert code != 0 and "protected by its key file" in err


def test_admin_init_names_the_key_id_and_writes_the_public_keys_for_owners(
    cafe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_dir = tmp_path / "authority"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'service.db'}")
    monkeypatch.setenv("PLACECODE_KEY_DIR", str(key_dir))
    code, out, err = run(capsys, "admin", "init")
    assert code == 0, err
    public_file = key_dir / "authority.pub.json"
    key_id = json.loads(public_file.read_text())["key_id"]
    assert f"authority key id {key_id}" in out and str(public_file) in out
    sealed = tmp_path / "trace.sealed"
    code, out, err = run(
        capsys, "venue", "confirm", "--key", str(cafe / "venue.key"), "--from", AT,
        "--to", LATER, "--authority", str(public_file), "--out", str(sealed),
    )  # fmt: skip
    assert code == 0 and key_id in out, err
    from placecode.clients import authority

    keys = authority.load_sealing(key_dir / "sealing.key")
    assert authority.seal_trace_entries(sealed.read_bytes(), keys, 0, os.urandom)[0]
    # a key folder from before the public keys file gets one, with the same key id
    public_file.unlink()
    code, out, _ = run(capsys, "admin", "init")
    assert code == 0 and "already" in out and f"authority key id {key_id}" in out
    assert json.loads(public_file.read_text())["key_id"] == key_id


def test_a_venue_without_a_name_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for empty in ("", "   "):
        code, _, err = run(capsys, "venue", "create", "--name", empty, "--out", str(tmp_path))
        assert code == 2 and "a venue needs a name" in err
    assert not (tmp_path / "venue.key").exists()


def test_times_far_outside_the_window_are_noted(
    home: Path, cafe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = venue.load_key(cafe / "venue.key")[0].poster().to_url()
    now = datetime.now(UTC)
    recent = (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%MZ")
    code, _, err = run(capsys, "visit", "check-in", "--url", url, "--at", recent)
    assert code == 0 and "Note:" not in err
    code, _, err = run(capsys, "visit", "check-out", "--at", "2019-01-01T10:00Z")
    assert "outside the 14-day window" in err
    future = (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%MZ")
    code, _, err = run(capsys, "visit", "status", "--at", future)
    assert code == 0 and "days ahead: check the date" in err
