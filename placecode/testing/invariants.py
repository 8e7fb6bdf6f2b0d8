"""Invariants of placecode/1 as plain functions, reusable against any implementation.

Each check takes the values to check and, last, ``impl``: a module with the
API of :mod:`crypto` (the default). A check returns nothing and raises
``AssertionError`` when the invariant does not hold; the ``expected_*`` helpers
are the simple model the checks compare the implementation against.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import Any, TypeVar

from hypothesis import note
from hypothesis.errors import InvalidArgument

from placecode import crypto
from placecode.crypto import constants as c

T = TypeVar("T")

#: Words a message for a person must not contain: they betray a Python exception.
_TECHNICAL = ("Traceback", "struct", "unpack", "codec", "NoneType", "index out of range")


def note_if_testing(text: str) -> None:
    """``note`` inside a Hypothesis test; nothing in a plain one."""
    try:
        note(text)
    except InvalidArgument:
        pass


def check_readable(error: BaseException) -> None:
    """An error's message is a short sentence for a person, not a Python internal."""
    text = str(error)
    assert text, f"{type(error).__name__} has no message"
    assert len(text) < 200, f"message too long: {text!r}"
    assert not any(word in text for word in _TECHNICAL), f"technical message: {text!r}"


def check_total(
    call: Callable[[], T],
    allowed: tuple[type[BaseException], ...] | None = None,
    *,
    impl: Any = crypto,
) -> T | BaseException:
    """Runs a decoder: it returns, or raises one of ``allowed`` (default: any ``impl.Error``).

    Any other exception propagates, so the calling test fails on it. Returns the
    result or the error it caught.
    """
    allowed = allowed or (impl.Error,)
    try:
        return call()
    except impl.Error as e:
        assert isinstance(e, allowed), f"{type(e).__name__} raised, expected {allowed}: {e}"
        check_readable(e)
        return e


def check_refused(call: Callable[[], object], impl: ModuleType = crypto) -> None:
    """The call fails with the opaque VerificationError, and with nothing else."""
    try:
        call()
    except impl.VerificationError:
        return
    raise AssertionError("accepted where VerificationError was due")


def check_qr_roundtrip(code: Any, impl: ModuleType = crypto) -> None:
    """A code survives bytes and URL, and its URL is in the QR alphanumeric alphabet."""
    assert impl.VenueCode.from_bytes(code.to_bytes()) == code
    url = code.to_url()
    assert url.startswith(c.QR_URL_PREFIX)
    payload = url[len(c.QR_URL_PREFIX) :]
    assert payload.isascii() and payload.isalnum() and payload == payload.upper()
    assert impl.VenueCode.from_url(url) == code
    assert impl.VenueCode.from_url(url.lower().encode()) == code


def check_entry_roundtrip(
    tag: bytes, key: bytes, content: Any, nonce: bytes, impl: ModuleType = crypto
) -> bytes:
    """Sealing then opening gives the content back; the entry starts with its tag."""
    assert impl.EntryContent.from_bytes(content.to_bytes()) == content
    entry: bytes = impl.seal_entry(tag, key, content, nonce)
    assert entry[: c.TAG_BYTES] == tag
    assert c.MIN_ENTRY_BYTES <= len(entry) <= c.MAX_ENTRY_BYTES
    assert impl.open_entry(entry, key) == content
    return entry


def check_bundle_roundtrip(
    header: Any, entries: Sequence[bytes], keys: Any, impl: ModuleType = crypto
) -> Any:
    """A signed bundle verifies, says what its header said, and finds every entry."""
    data = impl.sign_bundle(header, entries, keys.signing_key)
    bundle = impl.Bundle.verify(data, keys.public, after_sequence=header.sequence - 1)
    assert bundle.header == header
    assert bundle.count == len(entries)
    assert bundle.data == data
    assert sorted(bundle.entries()) == sorted(entries)
    for entry in entries:
        found = bundle.lookup(entry[: c.TAG_BYTES])
        assert entry in found
        assert all(e[: c.TAG_BYTES] == entry[: c.TAG_BYTES] for e in found)
    return bundle


def check_bundle_refused(
    data: bytes, keys: Any, after: int = -1, impl: ModuleType = crypto
) -> None:
    check_refused(lambda: impl.Bundle.verify(data, keys, after_sequence=after), impl)


# The model: visits as sets of Unix minutes, each of one code.


def visit_minutes(visit: Any) -> dict[int, bytes]:
    """Unix minute -> the tag of its hour, for every minute of a visit."""
    return {
        s.hour * 60 + m: s.tag for s in visit.slots for m in range(s.start_minute, s.end_minute)
    }


def expected_claims(visit: Any, impl: ModuleType = crypto) -> dict[int, tuple[bytes, Any]]:
    """Unix minute -> (tag, level): what an uploader's report should claim, per §7.

    Minutes inside the presence proofs' coverage are presence-proven; every
    other minute of the stay is self-reported.
    """
    levels = impl.EvidenceLevel
    lo, hi = impl.proof_coverage(visit.proofs) if visit.proofs else (0, 0)
    return {
        m: (tag, levels.PRESENCE_PROVEN if lo <= m < hi else levels.SELF_REPORTED)
        for m, tag in visit_minutes(visit).items()
    }


def partly_covered_slots(visit: Any, impl: ModuleType = crypto) -> list[int]:
    """Hours of a visit that its presence proofs cover only in part."""
    if not visit.proofs:
        return []
    lo, hi = impl.proof_coverage(visit.proofs)
    out = []
    for s in visit.slots:
        inside = {s.hour * 60 + m for m in range(s.start_minute, s.end_minute)} & set(range(lo, hi))
        if inside and len(inside) < s.end_minute - s.start_minute:
            out.append(s.hour)
    return out


def expected_exposure(
    claims: dict[int, tuple[bytes, Any]], device: Any, policy: Any
) -> tuple[int, Any]:
    """(overlap minutes, strongest level) a device should see, or (0, None)."""
    own = visit_minutes(device)
    shared = [
        level
        for m, (tag, level) in claims.items()
        if own.get(m) == tag and level in policy.warn_levels
    ]
    if not shared or len(shared) < policy.min_overlap_minutes:
        return 0, None
    # §12 the strongest level whose minutes (with stronger ones) reach the overlap
    level = next(
        x
        for x in sorted(set(shared))
        if sum(1 for y in shared if y <= x) >= policy.min_overlap_minutes
    )
    return len(shared), level


#: §12 a bundle signed after every drawn time, so that no claim is cut at its creation
PUBLISHED_AT = 2**40


def publish(
    entries: Iterable[bytes],
    keys: Any,
    sequence: int = 1,
    impl: Any = crypto,
    authority_entries: Iterable[bytes] = (),
    created_at: int = PUBLISHED_AT,
    **kw: Any,
) -> Any:
    """A verified bundle of public ``entries`` (and the authority's own) from ``keys``."""
    header = impl.BundleHeader(keys.public.key_id, sequence, created_at, 0, 0, **kw)
    data = impl.sign_bundle(header, list(entries), keys.signing_key, list(authority_entries))
    return impl.Bundle.verify(data, keys.public)


def check_exposure(
    exposures: list[Any], device: Any, expected: tuple[int, Any], impl: ModuleType = crypto
) -> None:
    overlap, level = expected
    note_if_testing(f"expected overlap {overlap} level {level!r}; got {exposures!r}")
    if level is None:
        assert exposures == []
        return
    assert len(exposures) == 1
    (exposure,) = exposures
    assert exposure.visit == device
    assert exposure.overlap_minutes == overlap
    assert exposure.level == level
    assert exposure.slot in device.slots


def check_report_matches(
    uploader: Any,
    device: Any,
    policy: Any,
    keys: Any,
    random: Callable[[int], bytes] = os.urandom,
    impl: ModuleType = crypto,
) -> None:
    """Completeness and soundness of self-reports: the device warns exactly as the model says."""
    entries = impl.report_entries(uploader, random)
    bundle = publish(entries, keys, impl=impl)
    expected = expected_exposure(expected_claims(uploader, impl), device, policy)
    check_exposure(impl.match([device], [bundle], policy), device, expected, impl)


def check_own_report_holds(
    visit: Any, random: Callable[[int], bytes] = os.urandom, impl: ModuleType = crypto
) -> None:
    """The uploader's entries open, pass their own evidence check and claim each
    minute of the stay exactly once, at the level the proofs' coverage gives it."""
    by_tag = {slot.tag: slot for slot in visit.slots}
    claimed: dict[int, Any] = {}
    for entry in impl.report_entries(visit, random):
        slot = by_tag[entry[: c.TAG_BYTES]]
        content = impl.open_entry(entry, slot.key)
        note_if_testing(f"slot {slot.hour}:{slot.start_minute}-{slot.end_minute} -> {content!r}")
        assert impl.evidence_holds(content, slot, visit)
        assert slot.start_minute <= content.start_minute < content.end_minute <= slot.end_minute
        for m in range(content.start_minute, content.end_minute):
            minute = slot.hour * 60 + m
            assert minute not in claimed, "a minute claimed twice"
            claimed[minute] = content.level
    expected = expected_claims(visit, impl)
    assert claimed == {m: level for m, (_, level) in expected.items()}


def confirmed_codes(venue: Any, hour: int, posters: tuple[int, ...], screen: bool) -> list[bytes]:
    """Bound keys whose visitors a confirmation of ``hour`` must reach (§11)."""
    keys = [venue.code_keys(c.KIND_POSTER, g).bound_key for g in posters]
    if screen:
        for day in {hour // 24, (hour - c.MAX_STAY_MINUTES // 60) // 24}:
            keys.append(venue.code_keys(c.KIND_SCREEN, day).bound_key)
    return keys


def check_confirmation_matches(
    venue: Any,
    device: Any,
    window: tuple[int, int],
    policy: Any,
    keys: Any,
    posters: tuple[int, ...] = (0,),
    screen: bool = True,
    impl: ModuleType = crypto,
) -> None:
    """A venue's confirmation warns every visitor of a confirmed code who shared enough minutes."""
    slots = impl.confirm_window(venue, *window, posters=posters, screen=screen)
    trace = impl.open_trace(impl.seal_trace(slots, keys.public), keys)
    assert trace == slots
    entries = [s.seal(0, os.urandom(c.NONCE_BYTES)) for s in trace]
    bundle = publish([], keys, impl=impl, authority_entries=entries)
    first, last = window[0] // 60, -(-window[1] // 60)
    code_tags = {
        impl.hour_tag(k, h)
        for h in range(first // 60, last // 60 + 1)
        for k in confirmed_codes(venue, h, posters, screen)
    }
    claims = {
        m: (tag, impl.EvidenceLevel.VENUE_CONFIRMED)
        for m, tag in visit_minutes(device).items()
        if first <= m < last and tag in code_tags
    }
    expected = expected_exposure(claims, device, policy)
    check_exposure(impl.match([device], [bundle], policy), device, expected, impl)


def check_forgery_refused(
    visit: Any, slot: Any, content: Any, keys: Any, impl: ModuleType = crypto
) -> None:
    """An entry with forged evidence, sealed under the visitor's own tag and key, never warns."""
    assert not impl.evidence_holds(content, slot, visit)
    entry = impl.seal_entry(slot.tag, slot.key, content, os.urandom(c.NONCE_BYTES))
    bundle = publish([entry], keys, impl=impl, authority_entries=[entry])
    policy = impl.Policy(min_overlap_minutes=1)
    assert impl.match([visit], [bundle], policy) == []
