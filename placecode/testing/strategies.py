"""Hypothesis strategies for placecode/1, reusable against any implementation.

Every strategy that builds protocol values takes ``impl`` (a module with the
API of :mod:`crypto`, the default), so a researcher can draw the same inputs
for their own implementation. Times are Unix seconds in 2020-2040.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st

from placecode import crypto
from placecode.crypto import constants as c

#: 2020-01-01 and 2040-01-01, UTC: the range every drawn time falls in.
FIRST_TIME = 1_577_836_800
LAST_TIME = 2_208_988_800

secrets = st.binary(min_size=c.SECRET_BYTES, max_size=c.SECRET_BYTES)
venue_secrets = secrets
#: Valid Ed25519 public keys (§2: QR parsing refuses any other 32 bytes).
venue_public_keys = secrets.map(
    lambda seed: Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
)
tags = st.binary(min_size=c.TAG_BYTES, max_size=c.TAG_BYTES)
nonces = st.binary(min_size=c.NONCE_BYTES, max_size=c.NONCE_BYTES)
signatures = st.binary(min_size=c.SIGNATURE_BYTES, max_size=c.SIGNATURE_BYTES)
times = st.integers(FIRST_TIME, LAST_TIME)
hours = st.integers(FIRST_TIME // 3600, LAST_TIME // 3600)
days = st.integers(FIRST_TIME // 86400, LAST_TIME // 86400)
epochs = st.integers(FIRST_TIME // c.EPOCH_SECONDS, LAST_TIME // c.EPOCH_SECONDS)
stay_minutes = st.integers(1, c.MAX_STAY_MINUTES)
message_ids = st.integers(0, 255)


def _fit(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that is at most ``limit`` UTF-8 bytes."""
    return text.encode()[:limit].decode(errors="ignore")


#: Characters of one to four UTF-8 bytes, so names hit the byte limit at any width.
_name_chars = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.sampled_from("éüßçñøåЖЯ北京咖啡馆식당カフェ🍜🍺☕️€"),
    st.characters(blacklist_categories=["Cs"]),
)

#: Venue names of up to MAX_NAME_BYTES UTF-8 bytes, multibyte included.
names = st.text(_name_chars, max_size=c.MAX_NAME_BYTES).map(lambda s: _fit(s, c.MAX_NAME_BYTES))
#: Names exactly at the limit or one character short of it (the QR size worst case).
long_names = st.text(_name_chars, min_size=c.MAX_NAME_BYTES, max_size=c.MAX_NAME_BYTES).map(
    lambda s: _fit(s, c.MAX_NAME_BYTES)
)
categories = st.integers(0, 255)
known_categories = st.sampled_from(list(crypto.Category))
contacts = st.text(max_size=c.MAX_CONTACT_BYTES).map(lambda s: _fit(s, c.MAX_CONTACT_BYTES))
tans = st.text(st.characters(max_codepoint=0x7F), min_size=1, max_size=c.MAX_TAN_CHARS)


@st.composite
def windows(draw: st.DrawFn) -> tuple[int, int]:
    """Minutes [start, end) within one hour."""
    start = draw(st.integers(0, 59))
    return start, draw(st.integers(start + 1, 60))


@st.composite
def stays(draw: st.DrawFn, max_minutes: int = c.MAX_STAY_MINUTES) -> tuple[int, int]:
    """A stay [enter, leave) in Unix seconds, one second to ``max_minutes`` long."""
    enter = draw(times)
    return enter, enter + draw(st.integers(1, max_minutes * 60))


def venues(impl: ModuleType = crypto) -> st.SearchStrategy[Any]:
    return st.builds(impl.Venue, venue_secrets, names, known_categories, stay_minutes)


def authority_keys(impl: ModuleType = crypto) -> st.SearchStrategy[Any]:
    return st.builds(impl.AuthorityKeys, secrets, secrets)


def posters(impl: ModuleType = crypto) -> st.SearchStrategy[Any]:
    """Printed codes of any generation."""
    return st.builds(lambda v, g: v.poster(g), venues(impl), st.integers(0, 2**32 - 1))


def screens(impl: ModuleType = crypto) -> st.SearchStrategy[Any]:
    """Rotating screen codes, each with a live presence proof."""
    return st.builds(lambda v, t: v.screen(t), venues(impl), times)


def venue_codes(impl: ModuleType = crypto) -> st.SearchStrategy[Any]:
    """Any VenueCode, including fields no venue tool would produce (a decoder's input)."""
    proofs = st.builds(impl.PresenceProof, st.integers(0, 2**32 - 1), signatures)
    return st.one_of(
        st.builds(
            impl.VenueCode,
            st.just(c.KIND_POSTER),
            secrets,
            venue_public_keys,
            names,
            categories,
            stay_minutes,
        ),
        st.builds(
            impl.VenueCode,
            st.just(c.KIND_SCREEN),
            secrets,
            venue_public_keys,
            names,
            categories,
            stay_minutes,
            proofs,
        ),
    )


@st.composite
def visits(
    draw: st.DrawFn,
    venue: Any = None,
    kind: int | None = None,
    impl: ModuleType = crypto,
    *,
    generation: int | None = None,
    enter: st.SearchStrategy[int] = times,
    rescan: bool | None = None,
) -> Any:
    """A Visit made the way a device makes it: scan, check in, maybe rescan, check out.

    ``rescan`` forces the exit rescan of a screen on or off (drawn by default);
    the rescan happens at check-out and only within the screen's UTC day.
    """
    venue = venue if venue is not None else draw(venues(impl))
    kind = kind if kind is not None else draw(st.sampled_from([c.KIND_POSTER, c.KIND_SCREEN]))
    entered = draw(enter)
    leave = entered + draw(st.integers(1, c.MAX_STAY_MINUTES * 60 + 600))
    if kind == c.KIND_POSTER:
        number = generation if generation is not None else draw(st.integers(0, 3))
        return impl.check_in(venue.poster(number), entered).check_out(leave)
    checked = impl.check_in(venue.screen(entered), entered)
    leave = min(leave, checked.auto_checkout_at)
    do_rescan = draw(st.booleans()) if rescan is None else rescan
    if do_rescan and leave // 86400 == entered // 86400:
        checked = checked.rescan(venue.screen(leave), leave)
    return checked.check_out(leave)


def entry_contents(
    level: Any = None, impl: ModuleType = crypto, max_proofs: int = c.MAX_PROOFS
) -> st.SearchStrategy[Any]:
    """EntryContent of one evidence level (or any), with arbitrary signatures and proofs."""
    levels = list(impl.EvidenceLevel) if level is None else [level]

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        chosen = draw(st.sampled_from(levels))
        start, end = draw(windows())
        message = draw(message_ids)
        signature = None
        proofs: tuple[Any, ...] = ()
        if chosen == impl.EvidenceLevel.VENUE_CONFIRMED:
            signature = draw(signatures)
        if chosen == impl.EvidenceLevel.PRESENCE_PROVEN:
            proof = st.builds(impl.PresenceProof, epochs, signatures)
            proofs = tuple(draw(st.lists(proof, min_size=1, max_size=max_proofs)))
        return impl.EntryContent(chosen, start, end, message, signature, proofs)

    return build()


@st.composite
def sealed_entries(
    draw: st.DrawFn, level: Any = None, impl: ModuleType = crypto, max_proofs: int = c.MAX_PROOFS
) -> tuple[bytes, bytes, Any, bytes]:
    """(entry, key, content, tag): a sealed entry and what opens it."""
    tag, key, nonce = draw(tags), draw(secrets), draw(nonces)
    content = draw(entry_contents(level, impl, max_proofs))
    return impl.seal_entry(tag, key, content, nonce), key, content, tag


#: Bytes of any length a sealed entry can have (the bundle does not look inside).
entry_shaped_bytes = st.integers(c.MIN_ENTRY_BYTES, c.MAX_ENTRY_BYTES).flatmap(
    lambda n: st.binary(min_size=n, max_size=n)
)
entry_sets = st.lists(entry_shaped_bytes, max_size=20)


@st.composite
def bundle_headers(draw: st.DrawFn, key_id: bytes, impl: ModuleType = crypto) -> Any:
    """A BundleHeader for the authority key ``key_id``, with messages and revocations."""
    first = draw(hours)
    last = draw(st.integers(first, first + c.RETENTION_DAYS * 24))
    messages = draw(
        st.lists(st.text(max_size=60).map(lambda s: _fit(s, c.MAX_MESSAGE_BYTES)), max_size=3)
    )
    revoked = draw(st.lists(tags, max_size=3))
    return impl.BundleHeader(
        key_id,
        draw(st.integers(0, 2**64 - 1)),
        draw(st.integers(0, 2**64 - 1)),
        first,
        last,
        tuple(messages),
        tuple(revoked),
    )


def consent_messages(impl: ModuleType = crypto) -> st.SearchStrategy[Any]:
    return st.builds(
        lambda tag, hour, window, contact: impl.ConsentMessage(tag, hour, *window, contact),
        tags,
        st.integers(0, 2**32 - 1),
        windows(),
        contacts,
    )


def confirmed_slots(impl: ModuleType = crypto) -> st.SearchStrategy[Any]:
    return st.builds(
        lambda tag, key, hour, window, sig: impl.ConfirmedSlot(tag, key, hour, *window, sig),
        tags,
        secrets,
        st.integers(0, 2**32 - 1),
        windows(),
        signatures,
    )


def upload_requests(
    impl: ModuleType = crypto, max_proofs: int = c.MAX_PROOFS
) -> st.SearchStrategy[Any]:
    """Upload requests, real or dummy, with entries of every evidence level."""
    entry = sealed_entries(impl=impl, max_proofs=max_proofs).map(lambda e: e[0])
    return st.builds(
        impl.UploadRequest,
        tans,
        st.lists(entry, max_size=8, unique_by=lambda e: e[: c.TAG_BYTES]).map(tuple),
        st.booleans(),
    )
