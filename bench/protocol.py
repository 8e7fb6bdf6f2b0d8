"""Protocol benchmarks: matching a device's diary, bundle sizes, building, verifying, check-in.

Single process, one core. The diary is 14 days of real check-ins: 100 visits of
three hour slots each, 300 hour-tags. A few of its visits are really published
(two posters, self-reported, and one screen with an exit rescan,
presence-proven), so matching opens entries and verifies their evidence; every
other entry of a bundle is random bytes of a self-reported entry's length.
Sealed entries are AES-GCM output behind an HMAC tag, so random bytes are
indistinguishable from them for lookup and verification costs, and building a
million of them stays fast.
"""

from __future__ import annotations

import bisect
import gc
import os
import random
import statistics
import time
from collections.abc import Callable

from placecode import crypto
from placecode.clients import qr
from placecode.crypto import constants as c
from placecode.crypto._venue import verify_signature

from ._results import record

START = 1_767_225_600  # 2026-01-01 UTC
DIARY_VISITS = 100
SIZES = {"1e4": 10_000, "1e5": 100_000, "1e6": 1_000_000}
SIZE_SAMPLE = 2_000


def _median(run: Callable[[], object], times: int) -> float:
    """Median wall time of ``run`` in seconds, with the garbage collector off, as
    ``timeit`` does: a collection of the benchmark's own million objects is not
    what a device pays."""
    samples = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(times):
            t = time.perf_counter()
            run()
            samples.append(time.perf_counter() - t)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(samples)


def _authority() -> crypto.AuthorityKeys:
    return crypto.AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))


def _header(keys: crypto.AuthorityKeys, sequence: int = 1) -> crypto.BundleHeader:
    first = START // 3600
    # signed after the diary's 14 days: no entry claims a minute after its bundle (§12)
    created = START + 15 * 86400
    return crypto.BundleHeader(keys.public.key_id, sequence, created, first, first + 14 * 24)


def _diary(rng: random.Random) -> tuple[list[crypto.Visit], list[bytes]]:
    """300 hour-tags over 14 days, and the entries of the three visits an uploader shared."""
    visits, published = [], []
    for i in range(DIARY_VISITS):
        venue = crypto.Venue(rng.randbytes(32), f"Venue {i}", crypto.Category.RESTAURANT, 180)
        enter = START + i * 12_000 + 1800 - START % 3600  # hh:30, three hour slots
        if i == DIARY_VISITS - 1:
            checked = crypto.check_in(venue.screen(enter), enter)
            checked = checked.rescan(venue.screen(enter + 7200), enter + 7200)
        else:
            checked = crypto.check_in(venue.poster(), enter)
        visit = checked.check_out(enter + 7200)
        visits.append(visit)
        if i in (10, 50, DIARY_VISITS - 1):
            published += crypto.report_entries(visit, rng.randbytes)
    assert sum(len(v.slots) for v in visits) == 300
    return visits, published


def _random_entries(rng: random.Random, n: int) -> list[bytes]:
    blob = rng.randbytes(n * c.MIN_ENTRY_BYTES)
    step = c.MIN_ENTRY_BYTES
    return [blob[i : i + step] for i in range(0, len(blob), step)]


def _cold_match(visits: list[crypto.Visit], bundle: crypto.Bundle, policy: crypto.Policy) -> None:
    """One ``match`` as a device's first: no signature verified before."""
    verify_signature.cache_clear()
    crypto.match(visits, [bundle], policy)


def _match_against(
    figures: dict[str, float | int],
    label: str,
    entries: list[bytes],
    visits: list[crypto.Visit],
    keys: crypto.AuthorityKeys,
) -> None:
    header = _header(keys)
    data = crypto.sign_bundle(header, entries, keys.signing_key)
    if label == "1e6":
        build = _median(lambda: crypto.sign_bundle(header, entries, keys.signing_key), 2)
        verify = _median(lambda: crypto.Bundle.verify(data, keys.public), 5)
        figures["bundle_build_s_1e6"] = round(build, 3)
        figures["bundle_verify_s_1e6"] = round(verify, 4)
        figures["bundle_mb_1e6"] = round(len(data) / 1e6, 2)
    bundle = crypto.Bundle.verify(data, keys.public)
    policy = crypto.Policy()
    exposures = crypto.match(visits, [bundle], policy)
    assert len(exposures) == 3, exposures
    ms = _median(lambda: _cold_match(visits, bundle, policy), 7) * 1000
    figures[f"match_ms_diary300_vs_{label}"] = round(ms, 2)
    if label == "1e6":
        figures["match_us_per_tag_1e6"] = round(ms * 1000 / 300, 2)
        _floor(figures, entries, visits, bundle, ms)


def _floor(
    figures: dict[str, float | int],
    entries: list[bytes],
    visits: list[crypto.Visit],
    bundle: crypto.Bundle,
    match_ms: float,
) -> None:
    """The floor: 300 plain ``bisect`` calls over a sorted list of the same tags.

    ``match_floor_ratio_1e6`` is the whole of ``match`` (opening and verifying the
    published visits' entries included) over that floor; ``lookup_floor_ratio_1e6``
    is the 300 ``Bundle.lookup`` calls alone over it.
    """
    tags = sorted(e[: c.TAG_BYTES] for e in entries)
    probes = [slot.tag for visit in visits for slot in visit.slots]

    def floor() -> None:
        for tag in probes:
            bisect.bisect_left(tags, tag)

    def lookups() -> None:
        for tag in probes:
            bundle.lookup(tag)

    floor_ms = _median(floor, 21) * 1000
    lookup_ms = _median(lookups, 21) * 1000
    figures["bisect_floor_ms_diary300_vs_1e6"] = round(floor_ms, 3)
    figures["lookup_ms_diary300_vs_1e6"] = round(lookup_ms, 3)
    figures["lookup_floor_ratio_1e6"] = round(lookup_ms / floor_ms, 2)
    figures["match_floor_ratio_1e6"] = round(match_ms / floor_ms, 2)


def _matching(figures: dict[str, float | int]) -> None:
    rng = random.Random(1)
    keys = _authority()
    visits, published = _diary(rng)
    for label, n in SIZES.items():
        entries = published + _random_entries(rng, n - len(published))
        _match_against(figures, label, entries, visits, keys)


def _sizes(figures: dict[str, float | int]) -> None:
    rng = random.Random(2)
    keys = _authority()
    venue = crypto.Venue(rng.randbytes(32), "Sizes", crypto.Category.CAFE)
    screen = venue.code_keys(c.KIND_SCREEN, START // 86400)
    proofs = (screen.presence_proof(START // 30), screen.presence_proof(START // 30 + 240))
    levels = crypto.EvidenceLevel

    def entry(level: crypto.EvidenceLevel) -> bytes:
        tag, key, nonce = rng.randbytes(16), rng.randbytes(32), rng.randbytes(12)
        if level == levels.VENUE_CONFIRMED:
            signature = screen.sign(crypto.confirm_message(tag, 0, 60))
            slot = crypto.ConfirmedSlot(tag, key, START // 3600, 0, 60, signature)
            return slot.seal(0, nonce)
        content = crypto.EntryContent(
            level, 0, 60, 0, None, proofs if level == levels.PRESENCE_PROVEN else ()
        )
        return crypto.seal_entry(tag, key, content, nonce)

    empty = len(crypto.sign_bundle(_header(keys), [], keys.signing_key))
    for level, name in [
        (levels.SELF_REPORTED, "self_reported"),
        (levels.PRESENCE_PROVEN, "presence_proven"),
        (levels.VENUE_CONFIRMED, "venue_confirmed"),
    ]:
        entries = [entry(level) for _ in range(SIZE_SAMPLE)]
        full = len(crypto.sign_bundle(_header(keys), entries, keys.signing_key))
        figures[f"entry_bytes_{name}"] = len(entries[0])
        figures[f"bundle_bytes_per_entry_{name}"] = round((full - empty) / SIZE_SAMPLE, 2)


def _checkin(figures: dict[str, float | int]) -> None:
    venue = crypto.Venue(bytes(32), "Check-in", crypto.Category.BAR, 240)
    urls = [(venue.screen(START + 30 * i).to_url(), START + 30 * i + 5) for i in range(200)]

    def checkins() -> None:
        for url, now in urls:
            crypto.check_in(crypto.VenueCode.from_url(url), now).check_out(now + 7200)

    figures["checkin_us"] = round(_median(checkins, 5) / len(urls) * 1e6, 1)


#: a realistic deployment's check-in URL, which the QR code carries before the payload
CHECKIN_URL = crypto.checkin_url("https://checkin.health.example.org")


def _qr_version(code: crypto.VenueCode, checkin_url: str = c.DEFAULT_CHECKIN_URL) -> int:
    version = qr.make(code, checkin_url).version
    assert isinstance(version, int)
    return version


def _qr(figures: dict[str, float | int]) -> None:
    venue = crypto.Venue(bytes(32), "咖" * 13 + "a", crypto.Category.CAFE, c.MAX_STAY_MINUTES)
    figures["qr_version_poster"] = _qr_version(venue.poster())
    figures["qr_version_screen"] = _qr_version(venue.screen(START))
    # error correction M throughout; the limits are 10-M and 13-M
    figures["qr_version_poster_deployed"] = _qr_version(venue.poster(), CHECKIN_URL)
    figures["qr_version_screen_deployed"] = _qr_version(venue.screen(START), CHECKIN_URL)


def run() -> dict[str, float | int]:
    """Measures every protocol figure, records them, and returns them."""
    figures: dict[str, float | int] = {}
    _sizes(figures)
    _checkin(figures)
    _qr(figures)
    _matching(figures)
    figures["cpu_count"] = os.cpu_count() or 0
    record(figures)
    return figures
