"""What reaches a bundle: cases' uploads, owners' confirmations, and the daily bundle itself."""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from placecode import crypto
from placecode.crypto import Bundle, BundleHeader, EvidenceLevel, UploadRequest, Visit
from placecode.crypto import constants as c

from ._config import HONEST, MAX_ENTRIES_PER_UPLOAD, MESSAGES, RETENTION, Config
from ._population import visit_of
from ._records import Published, Upload

if TYPE_CHECKING:
    from ._run import Run


def send(run: Run, source: str, entries: list[tuple[bytes, Published]]) -> None:
    """Uploads entries in fixed-size requests, one TAN each, as the service parses them."""
    chunk: list[tuple[bytes, Published]] = []
    size = c.UPLOAD_HEAD_BYTES
    for item in entries:
        grown = size + 1 + len(item[0])
        if chunk and (len(chunk) == MAX_ENTRIES_PER_UPLOAD or grown > c.UPLOAD_BYTES):
            _request(run, source, chunk)
            chunk, grown = [], c.UPLOAD_HEAD_BYTES + 1 + len(item[0])
        chunk.append(item)
        size = grown
    if chunk:
        _request(run, source, chunk)


def _request(run: Run, source: str, chunk: list[tuple[bytes, Published]]) -> None:
    run.tans += 1
    request = UploadRequest(f"SIM{run.tans:08d}", tuple(e for e, _ in chunk))
    received = UploadRequest.from_bytes(request.to_bytes())
    assert received.entries == request.entries
    run.counts["uploads"] += 1
    if source == HONEST:
        run.counts["uploads by cases"] += 1
    run.pending.extend(zip(received.entries, (p for _, p in chunk), strict=True))


def entries_of(
    run: Run, visit: Visit, venue: int, source: str, bundle: int
) -> list[tuple[bytes, Published]]:
    """The entries ``report_entries`` makes of a visit, with what the simulation knows of each."""
    entries = crypto.report_entries(visit, run.random_bytes)
    out: list[tuple[bytes, Published]] = []
    slots = {slot.tag: slot for slot in visit.slots}
    for entry in entries:
        slot = slots[entry[: c.TAG_BYTES]]
        content = crypto.open_entry(entry, slot.key)
        info = Published(
            source,
            venue,
            bundle,
            slot.hour,
            content.start_minute,
            content.end_minute,
            content.level,
        )
        out.append((entry, info))
    return out


def upload(run: Run, case: int, at: int, d: int) -> None:
    """A confirmed case uploads every visit of its diary within retention, with consent."""
    s = run.s
    kept = [
        vid
        for vid in run.diary[case]
        if s.left_recorded[vid] <= at and s.left_recorded[vid] > at - RETENTION
    ]
    entries = []
    for vid in kept:
        visit = s.visit[vid] if run.config.eager else visit_of(run, vid)
        entries.extend(entries_of(run, visit, s.venue[vid], HONEST, d))
        if run.rng.random() < run.config.owner_reach and d + 1 < run.config.days:
            run.owner_due[d + 1].append(vid)
    if entries:
        send(run, HONEST, entries)
    run.uploaded_at[case] = at
    run.uploads.append(Upload(case, at, d, kept))
    run.counts["uploading cases"] += 1


def owner_confirms(run: Run, vid: int, d: int) -> None:
    """The owner confirms a case's recorded window; the authority publishes it."""
    s = run.s
    venue = s.venue[vid]
    screen = run.v.is_screen[venue]
    slots = crypto.confirm_window(
        run.v.venues[venue],
        s.entered[vid],
        s.left_recorded[vid],
        posters=() if screen else (0,),
        screen=screen,
    )
    trace = crypto.seal_trace(slots, run.authority.public)
    entries: list[tuple[bytes, Published]] = []
    for slot in crypto.open_trace(trace, run.authority):
        entry = slot.seal(0, run.random_bytes(c.NONCE_BYTES))
        info = Published(
            HONEST,
            venue,
            d,
            slot.hour,
            slot.start_minute,
            slot.end_minute,
            EvidenceLevel.VENUE_CONFIRMED,
        )
        entries.append((entry, info))
    run.counts["owner confirmations"] += 1
    # the authority publishes these itself (POST /v1/venue-entries), without a TAN,
    # in the bundle's authority section (§8)
    run.pending_authority.extend(entries)


def publish(run: Run, d: int, t1: int) -> None:
    """Day ``d``'s bundle: what waits, topped up with decoys, signed and verified."""
    entries = run.pending
    run.pending = []
    by_authority = run.pending_authority
    run.pending_authority = []
    for entry, info in entries + by_authority:
        run.published[entry[: c.TAG_BYTES]].append(info)
        run.entries_by_source[info.source] += 1
    shapes = crypto.tag_groups(e for e, _ in entries)
    shortfall = max(0, run.config.min_bundle_entries - len(entries))
    decoys = crypto.decoy_entries(shortfall, shapes, run.random_bytes)
    run.counts["decoys"] += shortfall
    header = BundleHeader(
        run.authority.public.key_id,
        d + 1,
        t1,
        t1 // 3600 - c.RETENTION_DAYS * 24,
        t1 // 3600,
        MESSAGES,
    )
    data = crypto.sign_bundle(
        header,
        [e for e, _ in entries] + decoys,
        run.authority.signing_key,
        [e for e, _ in by_authority],
    )
    clock = time.perf_counter()
    # every device verifies alike; the simulation verifies once and charges it per device
    bundle = Bundle.verify(data, run.authority.public, after_sequence=d)
    run.verify_s += time.perf_counter() - clock
    run.bundle_bytes.append(data)
    run.bundles.append(bundle)
    both = entries + by_authority
    run.bundle_keys.append({(info.venue, info.hour) for _, info in both})
    run.bundle_tags.append({e[: c.TAG_BYTES] for e, _ in both})
    run.entries_per_day.append(([e for e, _ in entries], [e for e, _ in by_authority]))
    everything = [e for e, _ in both] + decoys
    tags = sorted(e[: c.TAG_BYTES] for e in everything)
    run.indexes.append(index_figures(header, tags, [len(e) for e in everything], run.config))


@dataclass(frozen=True)
class IndexFigures:
    """What the index path (docs/protocol.md §18) publishes for one bundle, by size.

    Computed by the protocol's own sizing (``crypto.index_bytes``,
    ``crypto.shard_cuts``, ``crypto.SHARD_OVERHEAD``): the index (the bundle's
    header, the shard boundaries, a salt, a binary fuse filter with 8-bit
    fingerprints sized as the pinned library sizes it, a signature), and the
    shards (runs of at least ``k`` entries cut where the 4-byte tag prefix
    changes, each signed).
    """

    entries: int
    index_bytes: int
    #: first 4-byte tag prefix of each shard after the first (``shard_of`` bisects them)
    boundaries: tuple[int, ...]
    shard_bytes: tuple[int, ...]

    def shard_of(self, tag: bytes) -> int:
        return bisect.bisect_right(self.boundaries, int.from_bytes(tag[:4], "big"))


def index_figures(
    header: BundleHeader, tags: list[bytes], lengths: list[int], cfg: Config
) -> IndexFigures:
    """The sizes of one bundle's index and shards; ``tags`` sorted, ``lengths`` any order."""
    prefixes = [int.from_bytes(t[:4], "big") for t in tags]
    cuts = crypto.shard_cuts(prefixes, cfg.shard_min_entries)
    head = len(header.to_bytes())
    # the real sizing of docs/protocol.md §15 and §18: one key per distinct tag
    keys = len({crypto.filter_key(t, 0) for t in tags})
    index_bytes = crypto.index_bytes(head, len(cuts) + 1, keys)
    # entries' lengths in sorted order are not known here; a shard's size is its
    # share of the bundle's bytes, which is what a fetch costs on average
    mean = sum(lengths) / len(lengths) if lengths else 0.0
    bounds = [0, *cuts, len(tags)]
    shard_head = crypto.SHARD_OVERHEAD
    shard_bytes = tuple(
        shard_head + round((hi - lo) * (mean + 4))
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    )
    return IndexFigures(len(tags), index_bytes, tuple(prefixes[i] for i in cuts), shard_bytes)
