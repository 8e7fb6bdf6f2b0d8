"""Refusals: stale and forged codes, tampered bundles and entries, and what people read."""

from __future__ import annotations

import base64
import dataclasses

from hypothesis import given, note
from hypothesis import strategies as st

from placecode import crypto
from placecode.crypto import constants as c
from placecode.testing import invariants as inv
from placecode.testing import strategies as s

KEYS = crypto.AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))
FOREIGN = crypto.AuthorityKeys(bytes(range(1, 33)), bytes(range(32, 64)))
NOT_A_PLACECODE = "this is not a placecode QR code"
EXPIRED = "this code expired: scan the live code on the venue's screen"


def _code_error(call: object) -> crypto.CodeError:
    try:
        call()  # type: ignore[operator]
    except crypto.CodeError as e:
        inv.check_readable(e)
        return e
    raise AssertionError("the code was accepted")


# Screen codes at check-in


@given(s.venues(), s.times, st.integers(-10 * 60, 10 * 60))
def test_screen_code_is_live_only_for_its_age_window(
    venue: crypto.Venue, shown: int, delay: int
) -> None:
    code = crypto.VenueCode.from_url(venue.screen(shown).to_url())
    now = shown + delay
    age = now - (shown // c.EPOCH_SECONDS) * c.EPOCH_SECONDS
    note(f"age {age} s")
    if age > c.MAX_CODE_AGE_SECONDS:
        assert str(_code_error(lambda: crypto.check_in(code, now))) == EXPIRED
    elif age < -c.MAX_CLOCK_SKEW_SECONDS:
        assert "future" in str(_code_error(lambda: crypto.check_in(code, now)))
    else:
        checked = crypto.check_in(code, now)
        assert checked.proofs == (code.proof,)


@given(s.venues(), s.times, s.signatures, st.integers(-3, 3))
def test_forged_or_borrowed_presence_proof_is_refused(
    venue: crypto.Venue, now: int, signature: bytes, shift: int
) -> None:
    code = venue.screen(now)
    assert code.proof is not None
    keys = venue.code_keys(c.KIND_SCREEN, now // 86400)
    forged = [crypto.PresenceProof(code.proof.epoch, signature)]
    if shift:
        # a real signature, but over another epoch
        forged.append(
            crypto.PresenceProof(
                code.proof.epoch, keys.presence_proof(code.proof.epoch + shift).signature
            )
        )
    other_day = venue.code_keys(c.KIND_SCREEN, now // 86400 - 1).presence_proof(code.proof.epoch)
    forged.append(other_day)
    for proof in forged:
        bad = dataclasses.replace(code, proof=proof)
        assert "not signed by the venue" in str(_code_error(lambda b=bad: crypto.check_in(b, now)))


def test_stale_code_regression() -> None:
    venue = crypto.Venue(bytes(32), "Café")
    now = 1_700_000_010
    code = venue.screen(now)
    crypto.check_in(code, (now // 30) * 30 + c.MAX_CODE_AGE_SECONDS)
    assert str(_code_error(lambda: crypto.check_in(code, (now // 30) * 30 + 91))) == EXPIRED


# Messages for people


@given(
    st.one_of(
        st.text(max_size=60),
        st.sampled_from(
            [
                "",
                "hello",
                "https://example.com/",
                "https://example.com/#SECTION",
                "WIFI:S:cafe;T:WPA;P:secret;;",
                c.QR_URL_PREFIX,
                c.QR_URL_PREFIX + "!!",
            ]
        ),
    )
)
def test_foreign_codes_are_not_a_placecode(text: str) -> None:
    error = inv.check_total(lambda: crypto.VenueCode.from_url(text), (crypto.DecodeError,))
    assert isinstance(error, crypto.DecodeError)
    inv.check_readable(error)


def test_foreign_fragment_is_not_a_placecode_regression() -> None:
    for url in [
        "https://example.com/#SECTION",
        "https://en.wikipedia.org/wiki/Foo#History",
        "https://shop.example/#BLOG",
    ]:
        try:
            crypto.VenueCode.from_url(url)
        except crypto.DecodeError as e:
            assert str(e) == NOT_A_PLACECODE
        else:
            raise AssertionError(url)


def test_newer_version_says_update() -> None:
    raw = bytes([2]) + crypto.Venue(bytes(32), "x").poster().to_bytes()[1:]
    try:
        crypto.VenueCode.from_url(c.QR_URL_PREFIX + base64.b32encode(raw).decode().rstrip("="))
    except crypto.DecodeError as e:
        assert "update the app" in str(e)
    else:
        raise AssertionError("a version 2 code was accepted")


# Tampered bundles


@st.composite
def signed_bundles(draw: st.DrawFn) -> tuple[bytes, int]:
    header = draw(s.bundle_headers(KEYS.public.key_id))
    entries = [e for e, *_ in draw(st.lists(s.sealed_entries(), max_size=3))]
    entries += draw(st.lists(s.entry_shaped_bytes, max_size=3))
    return crypto.sign_bundle(header, entries, KEYS.signing_key), header.sequence


@given(signed_bundles(), st.data())
def test_any_flipped_bit_is_refused(bundle: tuple[bytes, int], data: st.DataObject) -> None:
    raw, seq = bundle
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    note(f"bit {bit} of {len(raw) * 8}")
    flipped = bytearray(raw)
    flipped[bit // 8] ^= 1 << (bit % 8)
    inv.check_bundle_refused(bytes(flipped), KEYS.public, seq - 1)


@given(signed_bundles(), st.data())
def test_truncated_or_extended_bundle_is_refused(
    bundle: tuple[bytes, int], data: st.DataObject
) -> None:
    raw, seq = bundle
    cut = data.draw(st.integers(0, len(raw) - 1))
    inv.check_bundle_refused(raw[:cut], KEYS.public, seq - 1)
    inv.check_bundle_refused(raw[cut + 1 :], KEYS.public, seq - 1)
    inv.check_bundle_refused(
        raw + data.draw(st.binary(min_size=1, max_size=80)), KEYS.public, seq - 1
    )


@given(signed_bundles(), st.integers(0, 3))
def test_foreign_key_and_rollback_are_refused(bundle: tuple[bytes, int], ahead: int) -> None:
    raw, seq = bundle
    crypto.Bundle.verify(raw, KEYS.public, after_sequence=seq - 1)
    inv.check_bundle_refused(raw, FOREIGN.public, seq - 1)
    inv.check_bundle_refused(raw, KEYS.public, seq + ahead)
    impostor = crypto.AuthorityPublicKeys(FOREIGN.public.sign_key, KEYS.public.seal_key)
    inv.check_bundle_refused(raw, impostor, -1)


@given(s.bundle_headers(FOREIGN.public.key_id), s.entry_sets)
def test_bundle_signed_by_a_foreign_key_with_our_key_id_is_refused(
    header: crypto.BundleHeader, entries: list[bytes]
) -> None:
    forged = dataclasses.replace(header, key_id=KEYS.public.key_id)
    body = crypto.sign_bundle(header, entries, FOREIGN.signing_key)
    ours = forged.to_bytes() + body[len(header.to_bytes()) :]
    inv.check_bundle_refused(ours, KEYS.public, -1)


# Tampered entries


@given(s.sealed_entries(), st.data())
def test_tampered_entry_is_refused(
    sealed: tuple[bytes, bytes, crypto.EntryContent, bytes], data: st.DataObject
) -> None:
    entry, key, _, tag = sealed
    bit = data.draw(st.integers(0, len(entry) * 8 - 1))
    flipped = bytearray(entry)
    flipped[bit // 8] ^= 1 << (bit % 8)
    inv.check_refused(lambda: crypto.open_entry(bytes(flipped), key))
    other_key = data.draw(s.secrets.filter(lambda k: k != key))
    inv.check_refused(lambda: crypto.open_entry(entry, other_key))
    other_tag = data.draw(s.tags.filter(lambda t: t != tag))
    inv.check_refused(lambda: crypto.open_entry(other_tag + entry[c.TAG_BYTES :], key))
    inv.check_refused(lambda: crypto.open_entry(entry[:-1], key))
    inv.check_refused(lambda: crypto.open_entry(entry + b"\0", key))


@given(s.visits(kind=c.KIND_POSTER), s.secrets)
def test_entry_under_a_wrong_key_never_warns(visit: crypto.Visit, key: bytes) -> None:
    slot = visit.slots[0]
    content = crypto.EntryContent(crypto.EvidenceLevel.SELF_REPORTED, 0, 60)
    entry = crypto.seal_entry(slot.tag, key, content, bytes(12))
    bundle = inv.publish([entry], KEYS)
    assert crypto.match([visit], [bundle], crypto.Policy(min_overlap_minutes=1)) == []
