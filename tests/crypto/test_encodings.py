"""Round trips of every placecode/1 encoding, and decoders that are total on any input."""

from __future__ import annotations

import base64

from hypothesis import given, note
from hypothesis import strategies as st

from placecode import crypto
from placecode.crypto import constants as c
from placecode.testing import invariants as inv
from placecode.testing import strategies as s

KEYS = crypto.AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))
OTHER_KEYS = crypto.AuthorityKeys(bytes(32), bytes([1]) * 32)


# Round trips


@given(s.venue_codes())
def test_venue_code_roundtrip(code: crypto.VenueCode) -> None:
    inv.check_qr_roundtrip(code)


@given(st.one_of(s.posters(), s.screens()))
def test_venue_tool_codes_roundtrip(code: crypto.VenueCode) -> None:
    inv.check_qr_roundtrip(code)


@given(s.tags, s.secrets, s.entry_contents(), s.nonces)
def test_entry_roundtrip(
    tag: bytes, key: bytes, content: crypto.EntryContent, nonce: bytes
) -> None:
    inv.check_entry_roundtrip(tag, key, content, nonce)


@given(st.data(), st.lists(s.sealed_entries(), max_size=6, unique_by=lambda e: e[0]), s.entry_sets)
def test_bundle_roundtrip(
    data: st.DataObject,
    sealed: list[tuple[bytes, bytes, crypto.EntryContent, bytes]],
    raw: list[bytes],
) -> None:
    header = data.draw(s.bundle_headers(KEYS.public.key_id))
    assert crypto.BundleHeader(**vars(header)).to_bytes() == header.to_bytes()
    bundle = inv.check_bundle_roundtrip(header, [e for e, *_ in sealed] + raw, KEYS)
    for entry, key, content, tag in sealed:
        opened = [crypto.open_entry(e, key) for e in bundle.lookup(tag) if e == entry]
        assert opened == [content]


@given(s.consent_messages())
def test_consent_roundtrip(message: crypto.ConsentMessage) -> None:
    plain = message.to_bytes()
    assert len(plain) == c.CONSENT_PLAINTEXT_BYTES
    assert crypto.ConsentMessage.from_bytes(plain) == message
    sealed = crypto.seal_consent(message, KEYS.public)
    note(f"contact of {len(message.contact.encode())} bytes")
    assert len(sealed) == c.CONSENT_BYTES
    assert crypto.open_consent(sealed, KEYS) == message
    inv.check_refused(lambda: crypto.open_consent(sealed, OTHER_KEYS))


@given(st.lists(s.confirmed_slots(), min_size=1, max_size=5))
def test_confirmed_slots_and_trace_roundtrip(slots: list[crypto.ConfirmedSlot]) -> None:
    for slot in slots:
        raw = slot.to_bytes()
        assert len(raw) == c.CONFIRMED_SLOT_BYTES
        assert crypto.ConfirmedSlot.from_bytes(raw) == slot
    sealed = crypto.seal_trace(slots, KEYS.public)
    assert crypto.open_trace(sealed, KEYS) == slots
    inv.check_refused(lambda: crypto.open_trace(sealed, OTHER_KEYS))


@given(s.upload_requests())
def test_upload_roundtrip(request: crypto.UploadRequest) -> None:
    raw = request.to_bytes()
    assert len(raw) == c.UPLOAD_BYTES
    assert crypto.UploadRequest.from_bytes(raw) == request


@given(st.binary(max_size=200))
def test_config_signature_roundtrip(payload: bytes) -> None:
    signature = crypto.sign_config(payload, KEYS.signing_key)
    crypto.verify_config(payload, signature, KEYS.public)
    inv.check_refused(lambda: crypto.verify_config(payload, signature, OTHER_KEYS.public))
    inv.check_refused(lambda: crypto.verify_config(payload + b"x", signature, KEYS.public))


# Total decoders: any input returns or raises a crypto.Error subclass


@given(st.one_of(st.text(), st.binary()))
def test_from_url_total_on_anything(text: str | bytes) -> None:
    inv.check_total(lambda: crypto.VenueCode.from_url(text), (crypto.DecodeError,))


@given(
    st.binary(max_size=200), st.sampled_from([c.QR_URL_PREFIX, "http://x.example/#", "https://a#"])
)
def test_from_url_total_on_base32_of_anything(raw: bytes, prefix: str) -> None:
    url = prefix + base64.b32encode(raw).decode().rstrip("=")
    result = inv.check_total(lambda: crypto.VenueCode.from_url(url), (crypto.DecodeError,))
    if isinstance(result, crypto.VenueCode):
        assert result.to_bytes() == raw


@given(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcxyz0189=#/ -é"), max_size=250))
def test_from_url_total_on_base32ish_text(payload: str) -> None:
    inv.check_total(lambda: crypto.VenueCode.from_url(c.QR_URL_PREFIX + payload))


@st.composite
def mutated(draw: st.DrawFn, raw: bytes) -> bytes:
    """``raw`` with a few bytes flipped, cut, or inserted."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@given(st.data(), st.one_of(s.posters(), s.screens(), s.venue_codes()))
def test_decoders_total_on_mutated_codes(data: st.DataObject, code: crypto.VenueCode) -> None:
    raw = data.draw(mutated(code.to_bytes()))
    url = c.QR_URL_PREFIX + base64.b32encode(raw).decode().rstrip("=")
    inv.check_total(lambda: crypto.VenueCode.from_bytes(raw), (crypto.DecodeError,))
    inv.check_total(lambda: crypto.VenueCode.from_url(url), (crypto.DecodeError,))
    text = data.draw(mutated(code.to_url().encode()))
    inv.check_total(lambda: crypto.VenueCode.from_url(text), (crypto.DecodeError,))


@given(st.binary(max_size=400))
def test_from_bytes_total(raw: bytes) -> None:
    inv.check_total(lambda: crypto.VenueCode.from_bytes(raw), (crypto.DecodeError,))
    inv.check_total(lambda: crypto.VenueCode.from_bytes(b"\x01" + raw), (crypto.DecodeError,))


@given(st.sampled_from([1, 2, 3, 0, 4, 255]), st.binary(max_size=300))
def test_entry_content_from_bytes_total(level: int, raw: bytes) -> None:
    inv.check_total(
        lambda: crypto.EntryContent.from_bytes(bytes([level]) + raw), (crypto.DecodeError,)
    )


@given(st.binary(max_size=c.MAX_ENTRY_BYTES + 10), s.secrets)
def test_open_entry_total(entry: bytes, key: bytes) -> None:
    inv.check_total(lambda: crypto.open_entry(entry, key), (crypto.VerificationError,))


@given(s.secrets, s.nonces, s.tags, st.sampled_from([1, 2, 3, 7]), st.binary(max_size=300))
def test_open_entry_total_on_well_sealed_garbage(
    key: bytes, nonce: bytes, tag: bytes, level: int, rest: bytes
) -> None:
    """Plaintexts that decrypt fine but do not parse still raise only VerificationError."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    entry = tag + nonce + AESGCM(key).encrypt(nonce, bytes([level]) + rest, tag)
    inv.check_total(lambda: crypto.open_entry(entry, key), (crypto.VerificationError,))


@given(
    st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda b: c.BUNDLE_MAGIC + b))
)
def test_bundle_verify_total(data: bytes) -> None:
    inv.check_total(lambda: crypto.Bundle.verify(data, KEYS.public), (crypto.VerificationError,))
    withkid = c.BUNDLE_MAGIC + KEYS.public.key_id + data
    inv.check_total(lambda: crypto.Bundle.verify(withkid, KEYS.public), (crypto.VerificationError,))


@given(st.binary(max_size=c.CONSENT_BYTES + 10))
def test_open_consent_total(sealed: bytes) -> None:
    inv.check_total(lambda: crypto.open_consent(sealed, KEYS), (crypto.VerificationError,))


@given(st.binary(max_size=80), st.sampled_from([0, 1, 2]))
def test_open_consent_total_on_sealed_garbage(head: bytes, version: int) -> None:
    plain = (bytes([version]) + head).ljust(c.CONSENT_PLAINTEXT_BYTES, b"\0")
    sealed = crypto.seal_to(KEYS.public, plain[: c.CONSENT_PLAINTEXT_BYTES])
    inv.check_total(lambda: crypto.open_consent(sealed, KEYS), (crypto.VerificationError,))


@given(st.binary(max_size=400))
def test_open_trace_total(data: bytes) -> None:
    inv.check_total(lambda: crypto.open_trace(data, KEYS), (crypto.VerificationError,))
    sealed = crypto.seal_to(KEYS.public, data)
    inv.check_total(lambda: crypto.open_trace(sealed, KEYS), (crypto.VerificationError,))


@given(st.binary(max_size=1200), st.booleans())
def test_upload_from_bytes_total(head: bytes, magic: bool) -> None:
    data = ((c.UPLOAD_MAGIC if magic else b"") + head).ljust(c.UPLOAD_BYTES, b"\0")
    inv.check_total(lambda: crypto.UploadRequest.from_bytes(data), (crypto.DecodeError,))
    short = data[: len(head)]
    inv.check_total(lambda: crypto.UploadRequest.from_bytes(short), (crypto.DecodeError,))


@given(st.data(), s.upload_requests())
def test_upload_from_bytes_total_on_mutations(
    data: st.DataObject, request: crypto.UploadRequest
) -> None:
    raw = request.to_bytes()
    used = c.UPLOAD_HEAD_BYTES + sum(1 + len(e) for e in request.entries)
    head = data.draw(mutated(raw[: used + 4]))
    changed = (head + raw[used + 4 :])[: c.UPLOAD_BYTES].ljust(c.UPLOAD_BYTES, b"\0")
    inv.check_total(lambda: crypto.UploadRequest.from_bytes(changed), (crypto.DecodeError,))


@given(st.binary(max_size=100), st.binary(max_size=80), st.binary(min_size=32, max_size=32))
def test_verify_config_total(payload: bytes, signature: bytes, sign_key: bytes) -> None:
    public = crypto.AuthorityPublicKeys(sign_key, bytes(32))
    inv.check_total(
        lambda: crypto.verify_config(payload, signature, public), (crypto.VerificationError,)
    )
    inv.check_total(
        lambda: crypto.verify_config(payload, signature, KEYS.public), (crypto.VerificationError,)
    )


# Lookup against a plain model: tags over a two-letter alphabet, so a tag often
# appears across the boundary of two others in the column, and runs of equal tags
# straddle the stretches of the bundle's sparse index.

_binary_tags = st.one_of(
    st.lists(st.sampled_from([0, 1]), min_size=16, max_size=16).map(bytes),
    # 0..01..1 and 1..10..0: "1..10..0" then "0..01..1" holds a third such tag
    # at an offset that is not a tag boundary
    st.builds(
        lambda j, a, b: bytes([a]) * j + bytes([b]) * (16 - j),
        st.integers(0, 16),
        st.sampled_from([0, 1]),
        st.sampled_from([0, 1]),
    ),
)


@given(
    st.lists(st.tuples(_binary_tags, st.binary(min_size=32, max_size=32)), max_size=150),
    st.lists(_binary_tags, max_size=20),
)
def test_lookup_finds_exactly_the_entries_of_a_tag(
    drawn: list[tuple[bytes, bytes]], probes: list[bytes]
) -> None:
    entries = [tag + payload for tag, payload in drawn]
    header = crypto.BundleHeader(KEYS.public.key_id, 1, 0, 0, 0)
    bundle = crypto.Bundle.verify(
        crypto.sign_bundle(header, entries, KEYS.signing_key), KEYS.public
    )
    for tag in [t for t, _ in drawn] + probes + [b"\x00" * 15, b"\x01" * 17]:
        assert bundle.lookup(tag) == sorted(e for e in entries if e[: c.TAG_BYTES] == tag)
    assert bundle.entries() == sorted(entries)
