"""The visitor's diary: check-in rules, encryption at rest, retention, sync against a stub."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from placecode import crypto
from placecode.clients import visitor
from placecode.clients.http import Client
from placecode.clients.visitor import BundleRejected, Diary, DiaryError
from placecode.crypto import AuthorityKeys, Category, CodeError, Venue
from placecode.crypto import constants as c

from .stub import StubService, serve

T0 = 1_790_000_000 // 3600 * 3600
CAFE = Venue(bytes([1]) * 32, "Riverside Café", Category.CAFE, 120)
GYM = Venue(bytes([2]) * 32, "City Gym", Category.GYM, 60)


def counter() -> visitor.RandomBytes:
    state = [0]

    def random(n: int) -> bytes:
        state[0] += 1
        return (state[0].to_bytes(8, "big") * (n // 8 + 1))[:n]

    return random


def test_check_in_and_out(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    diary.check_in(CAFE.poster(), T0)
    with pytest.raises(DiaryError, match="already checked in"):
        diary.check_in(CAFE.poster(), T0 + 60)
    stored = diary.check_out(T0 + 1800)
    assert stored.visit.left_at == T0 + 1800 and diary.checked_in is None
    with pytest.raises(DiaryError, match="not checked in"):
        diary.check_out(T0 + 1900)


def test_rescanning_the_same_code_checks_out(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    assert diary.scan(GYM.screen(T0), T0).checked_in is not None
    out = diary.scan(GYM.screen(T0 + 1200), T0 + 1200).checked_out
    assert out is not None and len(out.visit.proofs) == 2


def test_a_new_venue_ends_the_stay_elsewhere(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    diary.check_in(CAFE.poster(), T0)
    result = diary.check_in(GYM.screen(T0 + 600), T0 + 600)
    assert result.closed is not None and result.closed.visit.left_at == T0 + 600


def test_expired_screen_code_is_refused(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    with pytest.raises(CodeError, match="expired"):
        diary.check_in(GYM.screen(T0), T0 + 300)


def test_no_check_in_inside_a_recorded_visit(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    diary.check_in(CAFE.poster(), T0)
    diary.check_out(T0 + 3000)
    with pytest.raises(DiaryError, match="already has a visit"):
        diary.check_in(GYM.poster(), T0 + 1000)


def test_automatic_check_out_at_the_default_stay(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    diary.check_in(GYM.poster(), T0)
    assert diary.expire(T0 + 3599) is None
    closed = diary.expire(T0 + 5 * 3600)
    assert closed is not None and closed.visit.left_at == T0 + 3600


def test_retention_deletes_old_visits(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    diary.check_in(CAFE.poster(), T0)
    diary.check_out(T0 + 600)
    assert diary.purge(T0 + 13 * 86400) == 0
    assert diary.purge(T0 + 15 * 86400) == 1
    assert diary.visits == []


def test_delete_one_visit(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    diary.check_in(CAFE.poster(), T0)
    stored = diary.check_out(T0 + 600)
    diary.delete(stored.id)
    assert diary.visits == []
    with pytest.raises(DiaryError, match="no visit #"):
        diary.delete(stored.id)


def test_diary_is_encrypted_and_private(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path)
    diary.check_in(CAFE.poster(), T0)
    diary.save()
    raw = (tmp_path / visitor.DIARY_FILE).read_bytes()
    assert b"Riverside" not in raw and CAFE.poster().to_url().encode() not in raw
    for name in (visitor.DIARY_FILE, visitor.KEY_FILE):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert Diary.open(tmp_path).checked_in is not None


def test_passphrase_protects_the_diary(tmp_path: Path) -> None:
    diary = Diary.open(tmp_path, passphrase="correct horse")
    diary.check_in(CAFE.poster(), T0)
    diary.save()
    assert not (tmp_path / visitor.KEY_FILE).exists()
    with pytest.raises(DiaryError, match="wrong passphrase"):
        Diary.open(tmp_path, passphrase="battery staple")
    with pytest.raises(DiaryError, match="protected by a passphrase"):
        Diary.open(tmp_path)
    assert Diary.open(tmp_path, passphrase="correct horse").checked_in is not None


def test_dummy_upload_is_the_size_of_a_real_one() -> None:
    dummy = visitor.dummy_upload(os.urandom)
    assert len(dummy.to_bytes()) == c.UPLOAD_BYTES
    assert visitor.normalize_tan(dummy.tan) == dummy.tan


def test_tan_is_normalised() -> None:
    assert visitor.normalize_tan(" abcd efgh-jkmn ") == "ABCD-EFGH-JKMN"
    with pytest.raises(DiaryError, match="not a TAN"):
        visitor.normalize_tan("ABCD-EFGH-JKMU")


def _case_entries(venue: Venue, start: int, end: int) -> list[bytes]:
    visit = crypto.check_in(venue.poster(), start).check_out(end)
    return crypto.report_entries(visit, os.urandom)


def test_sync_warns_report_and_contact(tmp_path: Path) -> None:
    keys = AuthorityKeys.generate(os.urandom)
    with serve(StubService(keys)) as stub:
        diary = Diary.open(tmp_path, random=counter())
        diary.check_in(CAFE.poster(), T0 + 600)
        diary.check_out(T0 + 3000)
        stub.publish(_case_entries(CAFE, T0, T0 + 1800), (T0 // 3600, T0 // 3600), T0 + 7200)
        result = visitor.sync(diary, Client(stub.url), T0 + 7200, dummy_probability=1.0)
        assert result.pinned and result.dummy_sent and len(stub.uploads) == 1
        (warning,) = result.new
        assert warning.venue == "Riverside Café" and warning.overlap_minutes == 20
        assert warning.level == crypto.EvidenceLevel.SELF_REPORTED
        again = visitor.sync(diary, Client(stub.url), T0 + 7300, dummy_probability=0.0)
        assert again.new == [] and len(again.warnings) == 1 and again.new_bundles == 0
        visitor.send_contact(diary, Client(stub.url), warning.id, "+41 79 000 00 00", T0 + 7400)
        opened = crypto.open_consent(stub.consents[0], keys)
        assert opened.contact == "+41 79 000 00 00" and opened.tag == warning.tag
        items = visitor.prepare_report(diary, T0 + 7400, os.urandom)
        Client(stub.url).upload(visitor.report_request("abcd-efgh-jkmn", items).to_bytes())
        assert not crypto.UploadRequest.from_bytes(stub.uploads[-1]).dummy


def test_tampered_bundle_changes_nothing(tmp_path: Path) -> None:
    keys = AuthorityKeys.generate(os.urandom)
    with serve(StubService(keys, tamper=True)) as stub:
        stub.publish(_case_entries(CAFE, T0, T0 + 1800), (T0 // 3600, T0 // 3600), T0)
        diary = Diary.open(tmp_path)
        with pytest.raises(BundleRejected, match="failed verification"):
            visitor.sync(diary, Client(stub.url), T0 + 7200)
        assert diary.last_sequence == -1 and diary.bundles() == []


def test_another_authority_key_is_refused(tmp_path: Path) -> None:
    with serve(StubService(AuthorityKeys.generate(os.urandom))) as stub:
        diary = Diary.open(tmp_path)
        visitor.sync(diary, Client(stub.url), T0, dummy_probability=0.0)
        stub.keys = AuthorityKeys.generate(os.urandom)
        with pytest.raises(BundleRejected, match="authority key changed"):
            visitor.sync(diary, Client(stub.url), T0, dummy_probability=0.0)


def test_report_of_a_screen_visit_past_its_single_proof(tmp_path: Path) -> None:
    """Regression: 90 minutes at a screen without an exit rescan; the hour after
    the proof's coverage is reported in pieces, more entries than slots."""
    diary = Diary.open(tmp_path)
    screen = Venue(bytes([3]) * 32, "Late Bar", Category.BAR, 180)
    diary.check_in(screen.screen(T0 + 600), T0 + 600)
    diary.check_out(T0 + 600 + 90 * 60)
    (item,) = visitor.prepare_report(diary, T0 + 4 * 3600, counter())
    assert len(item.visit.slots) == 2 and len(item.entries) == 3
    assert item.levels == [
        crypto.EvidenceLevel.PRESENCE_PROVEN,
        crypto.EvidenceLevel.PRESENCE_PROVEN,
        crypto.EvidenceLevel.SELF_REPORTED,
    ]
    assert len(visitor.report_request("ABCD-EFGH-JKMN", [item]).to_bytes()) == c.UPLOAD_BYTES


def test_a_stay_reported_while_checked_in_is_marked_at_check_out(tmp_path: Path) -> None:
    """Regression (found by tests/system): the stay in progress that a report
    uploads was not marked, so once it ended the case's own entries warned them."""
    diary = Diary.open(tmp_path)
    diary.check_in(CAFE.poster(), T0)
    (item,) = visitor.prepare_report(diary, T0 + 1800, counter())
    assert item.visit_id is None
    diary.mark_reported([item.visit_id])
    assert diary.reported == set()
    diary.save()
    diary = Diary.open(tmp_path)  # the mark survives a restart
    stored = diary.check_out(T0 + 3600)
    assert diary.reported == {stored.id}
    diary.check_in(GYM.poster(), T0 + 4000)
    assert diary.check_out(T0 + 5000).id not in diary.reported


def test_rescanning_a_screen_after_utc_midnight_checks_out(tmp_path: Path) -> None:
    """The screen shows its next day's code: the device cannot link it, but it
    is the same screen by its own account, so the scan means leaving, not a new
    stay that would claim hours until the automatic check-out."""
    midnight = (T0 // 86400 + 1) * 86400
    bar = Venue(bytes([4]) * 32, "Night Bar", Category.BAR, 240)
    other = Venue(bytes([5]) * 32, "Night Bar", Category.CAFE, 240)
    diary = Diary.open(tmp_path)
    diary.scan(bar.screen(midnight - 1800), midnight - 1800)
    result = diary.scan(bar.screen(midnight + 600), midnight + 600)
    assert result.checked_out is not None and diary.checked_in is None
    assert result.checked_out.visit.left_at == midnight + 600
    assert result.checked_out.visit.proofs == diary.visits[0].visit.proofs
    assert len(result.checked_out.visit.proofs) == 1  # no exit proof across days
    # another venue of the same name is a stay elsewhere
    diary.scan(bar.screen(midnight + 3600), midnight + 3600)
    assert diary.scan(other.screen(midnight + 4000), midnight + 4000).checked_in is not None
    # a stale next-day code is refused like any stale code, and the stay goes on
    late = Diary.open(tmp_path / "late")
    late.scan(bar.screen(midnight - 600), midnight - 600)
    with pytest.raises(CodeError, match="expired"):
        late.scan(bar.screen(midnight + 60), midnight + 600)
    assert late.checked_in is not None


def test_passphrase_key_is_the_argon2_cffi_key() -> None:
    """Diaries written when the key came from argon2-cffi still open: PyNaCl's argon2id
    gives the same key. The expected bytes were computed with argon2-cffi 25.1
    (``hash_secret_raw``, type ID, time 3, memory 65,536 KiB, parallelism 1)."""
    from placecode.clients.visitor.diary import _derive_key

    expected = "e3c889ca40ed01e6b6771fc8a5bf16e35ad60b41c9bd5d7e6d63adf51e50b0fd"
    assert _derive_key("correct horse", bytes(range(16))).hex() == expected


def test_the_diary_file_size_does_not_count_visits(tmp_path: Path) -> None:
    """The ciphertext grew about 400 bytes a visit; padded, one visit and fifty look alike."""
    sizes = []
    for visits in (0, 1, 50):
        directory = tmp_path / str(visits)
        diary = Diary.open(directory)
        for i in range(visits):
            diary.check_in(CAFE.poster(), T0 + i * 3600)
            diary.check_out(T0 + i * 3600 + 1800)
        diary.save()
        sizes.append((directory / visitor.DIARY_FILE).stat().st_size)
        assert len(Diary.open(directory).visits) == visits
    assert len(set(sizes)) == 1


def test_an_empty_passphrase_is_refused(tmp_path: Path) -> None:
    for empty in ("", "  "):
        with pytest.raises(DiaryError, match="empty passphrase"):
            Diary.open(tmp_path, passphrase=empty)
    assert list(tmp_path.iterdir()) == []


def test_a_passphrase_for_a_key_file_diary_is_an_error(tmp_path: Path) -> None:
    Diary.open(tmp_path).save()
    with pytest.raises(DiaryError, match="protected by its key file"):
        Diary.open(tmp_path, passphrase="correct horse")
