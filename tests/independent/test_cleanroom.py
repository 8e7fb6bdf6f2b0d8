"""Properties of the clean-room implementation beyond the vectors, and the attacker's view.

The vectors pin single points; these tests check that every parser here
refuses what it must with the spec's error kind, round-trips what it makes,
and that a flipped bit anywhere in an authenticated object is the one opaque
failure.
"""

from __future__ import annotations

import base64
import json

import nacl.bindings as sodium
import nacl.exceptions
import nacl.signing
import pytest
from cryptography.hazmat.primitives import hashes
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.independent import cleanroom as pc

keys32 = st.binary(min_size=32, max_size=32)
seeds = keys32
hours = st.integers(min_value=0, max_value=2**32 - 1)


def flip(data: bytes, position: int, bit: int) -> bytes:
    at = position % len(data)
    return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :]


@st.composite
def cards(draw: st.DrawFn) -> pc.Card:
    kind = draw(st.sampled_from([pc.POSTER, pc.SCREEN]))
    name = draw(st.text(max_size=40).filter(lambda t: len(t.encode("utf-8", "replace")) <= 40))
    assume(name.encode("utf-8", "surrogatepass") == name.encode("utf-8", "replace"))
    seen = None
    if kind == pc.SCREEN:
        seen = pc.Stamp(draw(hours), draw(st.binary(min_size=64, max_size=64)))
    return pc.Card(
        kind,
        draw(keys32),
        pc.ed_public(draw(seeds)),
        draw(st.integers(0, 255)),
        draw(st.integers(1, 720)),
        name,
        seen,
    )


@given(cards())
def test_a_code_survives_bytes_and_url_in_any_letter_case(card: pc.Card) -> None:
    assert pc.read_card(pc.card_bytes(card)) == card
    url = pc.card_url(card)
    assert pc.read_url(url) == card
    assert pc.read_url(" \n" + url.lower() + "\t") == card
    assert pc.read_url("http://elsewhere.example/x?y=1#" + url.split("#", 1)[1]) == card


@given(st.binary(max_size=200))
def test_any_payload_is_a_code_that_encodes_back_or_a_decode_error(raw: bytes) -> None:
    try:
        card = pc.read_card(raw)
    except pc.Refusal as refusal:
        assert refusal.kind == pc.DECODE
    else:
        assert pc.card_bytes(card) == raw


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_scanned_text_is_a_code_or_a_decode_error(scanned: str | bytes) -> None:
    try:
        pc.read_url(scanned)
    except pc.Refusal as refusal:
        assert refusal.kind == pc.DECODE


@given(st.binary(max_size=200))
def test_base32_round_trips(data: bytes) -> None:
    text = pc.b32_text(data)
    assert len(text) % 8 not in (1, 3, 6)
    assert pc.b32_data(text) == data


@given(cards(), st.integers(0, 9999), st.integers(0, 7))
def test_a_flipped_bit_in_a_code_changes_what_it_says_or_is_refused(
    card: pc.Card, position: int, bit: int
) -> None:
    raw = pc.card_bytes(card)
    bent = flip(raw, position, bit)
    try:
        assert pc.read_card(bent) != card
    except pc.Refusal as refusal:
        assert refusal.kind == pc.DECODE


@given(st.integers(0, 2**40), st.integers(1, 14 * 86400))
def test_hour_windows_cover_the_widened_stay_once(start: int, length: int) -> None:
    end = start + length
    windows = list(pc.minute_windows(start, end))
    assert sum(hi - lo for _, lo, hi in windows) == -(-end // 60) - start // 60
    assert [h for h, _, _ in windows] == list(range(windows[0][0], windows[0][0] + len(windows)))
    assert all(0 <= lo < hi <= 60 for _, lo, hi in windows)


@st.composite
def claims(draw: st.DrawFn) -> pc.Claim:
    level = draw(st.sampled_from([pc.CONFIRMED, pc.PROVEN, pc.SELF]))
    lo = draw(st.integers(0, 59))
    hi = draw(st.integers(lo + 1, 60))
    signature = draw(st.binary(min_size=64, max_size=64)) if level == pc.CONFIRMED else b""
    stamps: tuple[pc.Stamp, ...] = ()
    if level == pc.PROVEN:
        stamps = tuple(
            draw(
                st.lists(
                    st.builds(pc.Stamp, hours, st.binary(min_size=64, max_size=64)),
                    min_size=1,
                    max_size=2,
                )
            )
        )
    return pc.Claim(level, lo, hi, draw(st.integers(0, 255)), signature, stamps)


@given(claims(), st.binary(min_size=16, max_size=16), keys32, st.binary(min_size=12, max_size=12))
def test_an_entry_opens_to_its_claim_and_at_its_length(
    claim: pc.Claim, tag: bytes, key: bytes, nonce: bytes
) -> None:
    entry = pc.seal(tag, key, claim, nonce)
    assert len(entry) in (48, 112, 117, 185)
    assert pc.unseal(entry, key) == claim


@given(
    claims(),
    st.binary(min_size=16, max_size=16),
    keys32,
    st.binary(min_size=12, max_size=12),
    st.integers(0, 9999),
    st.integers(0, 7),
)
def test_a_flipped_bit_in_an_entry_is_the_opaque_failure(
    claim: pc.Claim, tag: bytes, key: bytes, nonce: bytes, position: int, bit: int
) -> None:
    bent = flip(pc.seal(tag, key, claim, nonce), position, bit)
    with pytest.raises(pc.Refusal) as caught:
        pc.unseal(bent, key)
    assert (caught.value.kind, caught.value.text) == (pc.VERIFICATION, pc.OPAQUE_TEXT)


@given(keys32, st.binary(min_size=4, max_size=4), st.binary(min_size=12, max_size=12))
def test_a_well_sealed_plaintext_that_breaks_a_rule_is_the_opaque_failure(
    key: bytes, head: bytes, nonce: bytes
) -> None:
    tag = bytes(16)
    entry = tag + nonce + pc.gcm_seal(key, nonce, head, tag)
    level, lo, hi = head[0], head[1], head[2]
    try:
        claim = pc.unseal(entry, key)
    except pc.Refusal as refusal:
        assert (refusal.kind, refusal.text) == (pc.VERIFICATION, pc.OPAQUE_TEXT)
        assert level != pc.SELF or not 0 <= lo < hi <= 60
    else:
        assert claim.level == pc.SELF and 0 <= lo < hi <= 60


AUTHORITY_SEED = bytes(range(32))
AUTHORITY = pc.Authority(pc.ed_public(AUTHORITY_SEED), pc.x25519_public(bytes(32)))
entries = st.builds(
    lambda tag, rest: tag + rest,
    st.sampled_from([bytes([b]) * 16 for b in (0, 7, 9, 255)]),
    st.integers(32, 169).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
)
headings = st.builds(
    pc.Heading,
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.tuples(st.just(10), st.integers(10, 20)),
    st.lists(st.text(max_size=20), max_size=3).map(tuple),
    st.lists(st.binary(min_size=16, max_size=16), max_size=3).map(tuple),
)


@given(headings, st.lists(entries, max_size=6), st.lists(entries, max_size=6))
def test_a_bundle_finds_every_entry_in_its_own_section(
    heading: pc.Heading, official: list[bytes], public: list[bytes]
) -> None:
    assume(all("\ud800" > c or c > "\udfff" for m in heading.messages for c in m))
    data = pc.make_bundle(AUTHORITY_SEED, heading, official, public)
    opened = pc.open_bundle(data, AUTHORITY)
    assert opened.heading == heading
    for tag in {e[:16] for e in official + public}:
        assert list(opened.official.find(tag)) == sorted(e for e in official if e[:16] == tag)
        assert list(opened.public.find(tag)) == sorted(e for e in public if e[:16] == tag)


@given(
    headings,
    st.lists(entries, max_size=3),
    st.lists(entries, max_size=3),
    st.integers(0, 99999),
    st.integers(0, 7),
)
def test_a_flipped_bit_in_a_bundle_is_the_opaque_failure(
    heading: pc.Heading, official: list[bytes], public: list[bytes], position: int, bit: int
) -> None:
    assume(all("\ud800" > c or c > "\udfff" for m in heading.messages for c in m))
    data = pc.make_bundle(AUTHORITY_SEED, heading, official, public)
    for bent in (flip(data, position, bit), data[: position % len(data)], data + b"\x00"):
        with pytest.raises(pc.Refusal) as caught:
            pc.open_bundle(bent, AUTHORITY)
        assert (caught.value.kind, caught.value.text) == (pc.VERIFICATION, pc.OPAQUE_TEXT)


def test_a_bundle_is_refused_from_a_stranger_and_on_rollback() -> None:
    heading = pc.Heading(5, 1780099200, (1, 2), ("hello",), ())
    data = pc.make_bundle(AUTHORITY_SEED, heading, [], [bytes(48)])
    stranger = pc.make_bundle(bytes(range(1, 33)), heading, [], [bytes(48)])
    for bundle, after in ((stranger, -1), (data, 5), (data, 6)):
        with pytest.raises(pc.Refusal) as caught:
            pc.open_bundle(bundle, AUTHORITY, after=after)
        assert caught.value.text == pc.OPAQUE_TEXT
    assert pc.open_bundle(data, AUTHORITY, after=4).heading == heading


uploads = st.builds(
    pc.Upload,
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=32),
    st.lists(
        st.integers(48, 185).flatmap(lambda n: st.binary(min_size=n, max_size=n)), max_size=20
    ).map(tuple),
    st.booleans(),
)


@given(uploads, st.integers(0, 65535), st.integers(0, 7))
def test_an_upload_round_trips_and_a_flipped_bit_is_never_silently_accepted(
    upload: pc.Upload, position: int, bit: int
) -> None:
    assume(
        max([sum(1 for f in upload.entries if f[:16] == e[:16]) for e in upload.entries] or [0])
        <= 3
    )
    raw = pc.upload_bytes(upload)
    assert len(raw) == pc.UPLOAD_SIZE
    assert pc.read_upload(raw) == upload
    try:
        assert pc.read_upload(flip(raw, position, bit)) != upload
    except pc.Refusal as refusal:
        assert refusal.kind == pc.DECODE


def test_an_upload_with_four_entries_under_one_tag_is_refused() -> None:
    raw = pc.upload_bytes(pc.Upload("T", (bytes(48),) * 3, False))
    assert pc.read_upload(raw).entries == (bytes(48),) * 3
    four = raw[:38] + pc.be(2, 4) + raw[40:][: 3 * 49] + bytes([48]) + bytes(48)
    four = four.ljust(pc.UPLOAD_SIZE, b"\x00")
    with pytest.raises(pc.Refusal) as caught:
        pc.read_upload(four)
    assert caught.value.kind == pc.DECODE


@given(
    st.binary(min_size=16, max_size=16),
    hours,
    st.integers(0, 59).flatmap(lambda lo: st.tuples(st.just(lo), st.integers(lo + 1, 60))),
    st.text(max_size=100).filter(lambda t: len(t.encode("utf-8", "replace")) <= 439),
    keys32,
    keys32,
    st.integers(0, 511),
    st.integers(0, 7),
)
def test_consent_opens_only_for_the_authority_and_only_untouched(
    tag: bytes,
    hour: int,
    window: tuple[int, int],
    contact: str,
    secret: bytes,
    ephemeral: bytes,
    position: int,
    bit: int,
) -> None:
    assume(contact.encode("utf-8", "surrogatepass") == contact.encode("utf-8", "replace"))
    message = pc.Consent(tag, hour, window[0], window[1], contact)
    sealed = pc.seal_consent(message, pc.x25519_public(secret), ephemeral)
    assert len(sealed) == pc.CONSENT_SEALED
    assert pc.open_consent(sealed, secret) == message
    wrong_secret = bytes(a ^ 1 for a in secret)
    for box, opener in (
        (flip(sealed, position, bit), secret),
        (sealed, wrong_secret),
        (sealed[:-1], secret),
    ):
        with pytest.raises(pc.Refusal) as caught:
            pc.open_consent(box, opener)
        assert caught.value.text == pc.OPAQUE_TEXT


def test_a_copied_code_key_under_another_kind_or_key_matches_nothing() -> None:
    secret = bytes(range(32))
    screen = pc.mint(secret, pc.SCREEN, 20602)
    sticker = pc.ed_public(bytes(32))
    hour = 494458
    genuine = pc.hour_tag(screen.bound, hour)
    assert pc.hour_tag(pc.bind(screen.code_key, pc.POSTER, screen.public), hour) != genuine
    assert pc.hour_tag(pc.bind(screen.code_key, pc.SCREEN, sticker), hour) != genuine


def test_a_screenshot_is_refused_and_shows_no_number_later() -> None:
    screen = pc.mint(bytes(range(32)), pc.SCREEN, 20602)
    now = 20602 * 86400 + 36000
    card = pc.Card(
        pc.SCREEN, screen.code_key, screen.public, 0, 60, "x", pc.stamp(screen, now // 30)
    )
    arrival = pc.arrive(card, now)
    assert pc.shown_number(arrival, now) == pc.guard_number(screen.bound, card.stamp)  # type: ignore[arg-type]
    assert pc.shown_number(arrival, now + 91) is None
    with pytest.raises(pc.Refusal) as caught:
        pc.arrive(card, now + 91)
    assert (caught.value.kind, caught.value.text) == (pc.CODE, pc.CODE_EXPIRED)
    forged = card._replace(stamp=pc.Stamp(now // 30, bytes(64)))
    with pytest.raises(pc.Refusal) as caught:
        pc.arrive(forged, now)
    assert caught.value.text == pc.CODE_UNSIGNED


def test_rule_two_accepts_a_small_order_r_that_libsodium_refuses() -> None:
    """§2 pins the cofactorless equation; libsodium's verify refuses more.

    Only the key's holder can make such a signature: ``R`` the identity and
    ``S = k * a mod L``. Rule 2 accepts it (OpenSSL does), libsodium's
    ``crypto_sign_verify_detached`` refuses it, so an implementation built on
    libsodium's verify alone does not follow the spec on it.
    """
    seed = bytes(range(32))
    digest = hashes.Hash(hashes.SHA512())
    digest.update(seed)
    clamped = bytearray(digest.finalize()[:32])
    clamped[0] &= 248
    clamped[31] = (clamped[31] & 127) | 64
    a = sodium.crypto_core_ed25519_scalar_reduce(bytes(clamped) + bytes(32))
    public = pc.ed_public(seed)
    assert pc.point_ok(public)
    identity = b"\x01" + bytes(31)
    message = b"placecode/1 presence" + bytes(36)
    digest = hashes.Hash(hashes.SHA512())
    digest.update(identity + public + message)
    k = sodium.crypto_core_ed25519_scalar_reduce(digest.finalize())
    signature = identity + sodium.crypto_core_ed25519_scalar_mul(k, a)
    assert pc.ed_holds(public, message, signature, scanned=True)
    with pytest.raises(nacl.exceptions.BadSignatureError):
        nacl.signing.VerifyKey(public).verify(message, signature)
    assert not pc.ed_holds(public, message + b"!", signature, scanned=True)


vouches = st.builds(
    pc.Vouch,
    st.binary(min_size=16, max_size=16),
    keys32,
    hours,
    st.just(0),
    st.integers(1, 60),
    st.binary(min_size=64, max_size=64),
)


@given(st.lists(vouches, min_size=1, max_size=4), keys32, keys32, st.integers(0, 9999))
def test_a_trace_opens_whole_and_refuses_a_cut_inside_a_slot(
    slots: list[pc.Vouch], secret: bytes, ephemeral: bytes, cut: int
) -> None:
    public = pc.x25519_public(secret)
    plain = pc.trace_plain(slots)
    assert pc.open_trace(pc.box_seal(public, plain, ephemeral), secret) == slots
    shorter = plain[: cut % len(plain)]
    whole_slots, rest = divmod(len(shorter) - 1, pc.TRACE_SLOT)
    if len(shorter) > 1 and rest == 0:  # cut at a slot boundary: the first slots alone
        assert pc.open_trace(pc.box_seal(public, shorter, ephemeral), secret) == slots[:whole_slots]
        return
    with pytest.raises(pc.Refusal) as caught:
        pc.open_trace(pc.box_seal(public, shorter, ephemeral), secret)
    assert (caught.value.kind, caught.value.text) == (pc.VERIFICATION, pc.OPAQUE_TEXT)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "protocol": st.one_of(st.just(1), json_values),
            "authority": json_values,
            "policy": st.one_of(
                st.fixed_dictionaries(
                    {"warn_levels": st.lists(st.integers(0, 4)), "min_overlap_minutes": json_values}
                ),
                json_values,
            ),
            "retention_days": json_values,
            "upload_bytes": st.one_of(st.just(65536), json_values),
            "consent_bytes": st.one_of(st.just(512), json_values),
            "messages": json_values,
            "public_url": json_values,
            "issued_at": json_values,
        },
    )
)
def test_a_signed_configuration_is_read_or_refused_with_a_spec_error(
    document: dict[str, object],
) -> None:
    payload = json.dumps(document).encode("utf-8")
    signature = pc.sign_config(AUTHORITY_SEED, payload)
    try:
        settings = pc.read_config(payload, signature, AUTHORITY)
    except pc.Refusal as refusal:
        assert refusal.kind in (pc.VERIFICATION, pc.DECODE)
        assert refusal.kind == pc.VERIFICATION or document.get("protocol") != 1
    else:
        assert settings.warn_levels <= {1, 2, 3}
        assert document.get("protocol") == 1


def good_document(**changes: object) -> dict[str, object]:
    document: dict[str, object] = {
        "protocol": 1,
        "authority": {
            "sign_key": base64.b64encode(AUTHORITY.sign_key).decode(),
            "seal_key": base64.b64encode(AUTHORITY.seal_key).decode(),
            "key_id": AUTHORITY.key_id.hex(),
        },
        "policy": {"warn_levels": [1, 2], "min_overlap_minutes": 10},
        "retention_days": 14,
        "upload_bytes": 65536,
        "consent_bytes": 512,
        "messages": ["hello"],
        "index": {"shard_min_entries": 128, "shard_fetches": 4},
        "issued_at": 1780099200,
    }
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({}, True),
        ({"public_url": None}, True),
        ({"public_url": "https://checkin.example.org"}, True),
        ({"public_url": 5}, False),
        ({"issued_at": True}, False),
        ({"retention_days": 0}, False),
        ({"index": {"shard_min_entries": 0, "shard_fetches": 4}}, False),
        ({"index": {"shard_min_entries": 128, "shard_fetches": 65}}, False),
        ({"index": None}, False),
        ({"policy": {"warn_levels": [1, 4], "min_overlap_minutes": 10}}, False),
        ({"authority": {"sign_key": "", "seal_key": "", "key_id": ""}}, False),
    ],
)
def test_a_configuration_is_read_only_when_every_field_holds(
    changes: dict[str, object], accepted: bool
) -> None:
    payload = json.dumps(good_document(**changes)).encode()
    signature = pc.sign_config(AUTHORITY_SEED, payload)
    if accepted:
        settings = pc.read_config(payload, signature, AUTHORITY, held_issued_at=1780099200)
        assert settings.warn_levels == {1, 2}
        assert settings.public_url == changes.get("public_url")
        with pytest.raises(pc.Refusal) as caught:
            pc.read_config(payload, signature, AUTHORITY, held_issued_at=1780099201)
        assert caught.value.text == pc.OPAQUE_TEXT
    else:
        with pytest.raises(pc.Refusal) as caught:
            pc.read_config(payload, signature, AUTHORITY)
        assert (caught.value.kind, caught.value.text) == (pc.VERIFICATION, pc.OPAQUE_TEXT)
