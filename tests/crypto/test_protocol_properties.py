"""Matching, evidence and tags: the protocol's security and completeness properties."""

from __future__ import annotations

import os

from hypothesis import assume, event, given, note
from hypothesis import strategies as st

from placecode import crypto
from placecode.crypto import constants as c
from placecode.testing import invariants as inv
from placecode.testing import strategies as s

KEYS = crypto.AuthorityKeys(bytes(range(32)), bytes(range(32, 64)))
LEVELS = list(crypto.EvidenceLevel)

policies = st.builds(
    crypto.Policy,
    st.frozensets(st.sampled_from(LEVELS)),
    st.integers(1, 60),
)


@st.composite
def visit_pairs(
    draw: st.DrawFn, rescan: bool | None = None
) -> tuple[crypto.Venue, crypto.Visit, crypto.Visit]:
    """An uploader's visit and a device's visit at the same venue, mostly of the same code."""
    venue = draw(s.venues())
    kind = draw(st.sampled_from([c.KIND_POSTER, c.KIND_SCREEN]))
    generation = draw(st.integers(0, 1))
    uploader = draw(s.visits(venue, kind, generation=generation, rescan=rescan))
    near = st.one_of(
        st.integers(uploader.entered_at, uploader.left_at - 1),
        st.integers(uploader.entered_at - 6 * 3600, uploader.left_at + 3600),
    )
    device_kind = draw(st.sampled_from([kind, kind, kind, 3 - kind]))
    device_generation = draw(st.sampled_from([generation, generation, generation, 1 - generation]))
    device = draw(s.visits(venue, device_kind, generation=device_generation, enter=near))
    return venue, uploader, device


@given(visit_pairs(), policies)
def test_self_reports_warn_exactly_the_devices_that_shared_minutes(
    pair: tuple[crypto.Venue, crypto.Visit, crypto.Visit], policy: crypto.Policy
) -> None:
    _, uploader, device = pair
    note(f"partly covered hours: {inv.partly_covered_slots(uploader)}")
    note(f"uploader {uploader.entered_at}-{uploader.left_at}")
    note(f"device {device.entered_at}-{device.left_at}")
    inv.check_report_matches(uploader, device, policy, KEYS)


@given(visit_pairs(), st.integers(1, 60))
def test_shared_minutes_of_the_same_code_warn_with_all_levels(
    pair: tuple[crypto.Venue, crypto.Visit, crypto.Visit], minimum: int
) -> None:
    """Completeness stated on presence: shared minutes of the same code, nothing else."""
    _, uploader, device = pair
    shared = set(inv.visit_minutes(uploader).items()) & set(inv.visit_minutes(device).items())
    bundle = inv.publish(crypto.report_entries(uploader, os.urandom), KEYS)
    exposures = crypto.match([device], [bundle], crypto.Policy(min_overlap_minutes=minimum))
    note(f"{len(shared)} shared minutes; {exposures!r}")
    event("warned" if exposures else "not warned")
    if len(shared) >= minimum:
        assert [e.overlap_minutes for e in exposures] == [len(shared)]
    else:
        assert exposures == []


@given(st.data(), s.venues(), s.venues(), policies)
def test_no_match_across_venues(
    data: st.DataObject, venue: crypto.Venue, other: crypto.Venue, policy: crypto.Policy
) -> None:
    assume(venue.secret != other.secret)
    uploader = data.draw(s.visits(venue))
    near = st.integers(uploader.entered_at - 3600, uploader.left_at)
    device = data.draw(s.visits(other, uploader.kind, generation=0, enter=near))
    bundle = inv.publish(crypto.report_entries(uploader, os.urandom), KEYS)
    assert crypto.match([device], [bundle], crypto.Policy(min_overlap_minutes=1)) == []


@given(visit_pairs(), policies)
def test_no_match_without_a_shared_venue_hour(
    pair: tuple[crypto.Venue, crypto.Visit, crypto.Visit], policy: crypto.Policy
) -> None:
    _, uploader, device = pair
    own = {sl.tag for sl in device.slots}
    assume(not own & {sl.tag for sl in uploader.slots})
    bundle = inv.publish(crypto.report_entries(uploader, os.urandom), KEYS)
    assert crypto.match([device], [bundle], crypto.Policy(min_overlap_minutes=1)) == []


@given(s.venues(), st.data(), policies, st.integers(0, 1))
def test_venue_confirmation_warns_its_visitors(
    venue: crypto.Venue, data: st.DataObject, policy: crypto.Policy, generation: int
) -> None:
    device = data.draw(s.visits(venue, generation=generation))
    start = data.draw(st.integers(device.entered_at - 3 * 3600, device.left_at + 600))
    end = start + data.draw(st.integers(1, 6 * 3600))
    inv.check_confirmation_matches(venue, device, (start, end), policy, KEYS, posters=(0,))


def test_confirmation_reaches_a_screen_visitor_after_utc_midnight() -> None:
    """A stay that began before midnight keeps the old day's code (§11)."""
    venue = crypto.Venue(bytes([7]) * 32, "Late bar", crypto.Category.BAR, 720)
    midnight = 1_700_006_400
    assert midnight % 86400 == 0
    checked = crypto.check_in(venue.screen(midnight - 1800), midnight - 1800)
    device = checked.check_out(midnight + 5 * 3600)
    policy = crypto.Policy(min_overlap_minutes=1)
    inv.check_confirmation_matches(venue, device, (midnight + 3600, midnight + 7200), policy, KEYS)
    slots = crypto.confirm_window(venue, midnight + 3600, midnight + 7200, posters=())
    bundle = inv.publish([], KEYS, authority_entries=[sl.seal(0, bytes(12)) for sl in slots])
    (exposure,) = crypto.match([device], [bundle], policy)
    assert exposure.overlap_minutes == 60
    assert exposure.level == crypto.EvidenceLevel.VENUE_CONFIRMED


@given(s.visits(), st.sampled_from(LEVELS))
def test_uploaders_own_report_holds(visit: crypto.Visit, _: object) -> None:
    inv.check_own_report_holds(visit)


@given(
    s.venues(),
    st.lists(
        st.tuples(
            st.sampled_from([c.KIND_POSTER, c.KIND_SCREEN]), st.integers(0, 3), st.integers(0, 3)
        ),
        min_size=2,
        max_size=8,
        unique=True,
    ),
    s.hours,
)
def test_no_equal_tags_across_codes_and_hours(
    venue: crypto.Venue, cells: list[tuple[int, int, int]], base: int
) -> None:
    """Hours, poster generations and screen days each give their own tags and keys."""
    tags, keys = set(), set()
    for kind, number, dh in cells:
        code = venue.code_keys(kind, base // 24 + number)
        tags.add(crypto.hour_tag(code.code_key, base + dh))
        keys.add(crypto.entry_key(code.code_key, base + dh))
    assert len(tags) == len(keys) == len(cells)


@given(s.venues(), s.venues(), s.hours)
def test_no_equal_tags_across_venues(a: crypto.Venue, b: crypto.Venue, hour: int) -> None:
    assume(a.secret != b.secret)
    for kind in (c.KIND_POSTER, c.KIND_SCREEN):
        ka, kb = a.code_keys(kind, 0).code_key, b.code_keys(kind, 0).code_key
        assert crypto.hour_tag(ka, hour) != crypto.hour_tag(kb, hour)


# A photographed poster: the forger knows the code key and public key, not the signing key.


@st.composite
def poster_visits(draw: st.DrawFn) -> tuple[crypto.Venue, crypto.Visit, crypto.Slot]:
    venue = draw(s.venues())
    visit = draw(s.visits(venue, c.KIND_POSTER, generation=0))
    return venue, visit, draw(st.sampled_from(visit.slots))


@given(poster_visits(), s.secrets, s.windows())
def test_forged_venue_confirmation_is_refused(
    pv: tuple[crypto.Venue, crypto.Visit, crypto.Slot], seed: bytes, window: tuple[int, int]
) -> None:
    _, visit, slot = pv
    forger = crypto.CodeKeys(c.KIND_POSTER, 0, bytes(32), seed)
    signature = forger.sign(crypto.confirm_message(slot.tag, *window))
    content = crypto.EntryContent(crypto.EvidenceLevel.VENUE_CONFIRMED, *window, 0, signature)
    inv.check_forgery_refused(visit, slot, content, KEYS)


@given(poster_visits(), s.windows(), s.windows(), st.integers(-48, 48))
def test_venue_signature_copied_from_another_hour_or_window_is_refused(
    pv: tuple[crypto.Venue, crypto.Visit, crypto.Slot],
    window: tuple[int, int],
    signed: tuple[int, int],
    dh: int,
) -> None:
    venue, visit, slot = pv
    assume(dh != 0 or signed != window)
    keys = venue.code_keys(c.KIND_POSTER, 0)
    other_tag = crypto.hour_tag(keys.code_key, slot.hour + dh)
    signature = keys.sign(crypto.confirm_message(other_tag, *signed))
    content = crypto.EntryContent(crypto.EvidenceLevel.VENUE_CONFIRMED, *window, 0, signature)
    inv.check_forgery_refused(visit, slot, content, KEYS)


@given(
    poster_visits(),
    s.secrets,
    s.windows(),
    st.lists(st.integers(-240, 240), min_size=1, max_size=c.MAX_PROOFS),
)
def test_presence_proofs_signed_by_another_key_are_refused(
    pv: tuple[crypto.Venue, crypto.Visit, crypto.Slot],
    seed: bytes,
    window: tuple[int, int],
    offsets: list[int],
) -> None:
    _, visit, slot = pv
    forger = crypto.CodeKeys(c.KIND_POSTER, 0, visit.slots[0].key, seed)
    epoch = slot.hour * 3600 // c.EPOCH_SECONDS
    proofs = tuple(
        crypto.PresenceProof(epoch + o, forger.sign(_presence(visit.code_id, epoch + o)))
        for o in offsets
    )
    content = crypto.EntryContent(crypto.EvidenceLevel.PRESENCE_PROVEN, *window, 0, None, proofs)
    inv.check_forgery_refused(visit, slot, content, KEYS)


@given(poster_visits(), s.windows(), st.sampled_from(["screen", "poster1", "other venue"]))
def test_presence_proofs_of_another_code_are_refused(
    pv: tuple[crypto.Venue, crypto.Visit, crypto.Slot], window: tuple[int, int], source: str
) -> None:
    """Real proofs, signed by a real venue key, but for another code."""
    venue, visit, slot = pv
    epoch = slot.hour * 3600 // c.EPOCH_SECONDS
    if source == "screen":
        keys = venue.code_keys(c.KIND_SCREEN, slot.hour // 24)
    elif source == "poster1":
        keys = venue.code_keys(c.KIND_POSTER, 1)
    else:
        keys = crypto.Venue(bytes(a ^ 1 for a in venue.secret), "x").code_keys(c.KIND_POSTER, 0)
    proofs = (keys.presence_proof(epoch), keys.presence_proof(epoch + 100))
    content = crypto.EntryContent(crypto.EvidenceLevel.PRESENCE_PROVEN, *window, 0, None, proofs)
    inv.check_forgery_refused(visit, slot, content, KEYS)


def _presence(code_id: bytes, epoch: int) -> bytes:
    return c.PRESENCE_LABEL + code_id + epoch.to_bytes(4, "big")


@given(s.visits(kind=c.KIND_SCREEN), st.data())
def test_presence_proven_entry_holds_only_inside_its_coverage(
    visit: crypto.Visit, data: st.DataObject
) -> None:
    slot = data.draw(st.sampled_from(visit.slots))
    window = data.draw(s.windows())
    content = crypto.EntryContent(
        crypto.EvidenceLevel.PRESENCE_PROVEN, *window, 0, None, visit.proofs
    )
    lo, hi = crypto.proof_coverage(visit.proofs)
    base = slot.hour * 60
    covered = lo <= base + window[0] and base + window[1] <= hi
    note(f"coverage {lo}-{hi}, claim {base + window[0]}-{base + window[1]}")
    assert crypto.evidence_holds(content, slot, visit) == covered
    if not covered:
        inv.check_forgery_refused(visit, slot, content, KEYS)


def test_single_proof_covers_one_hour_not_more() -> None:
    venue = crypto.Venue(bytes(32), "Screen")
    t = 1_700_000_000 - 1_700_000_000 % 3600
    visit = crypto.check_in(venue.screen(t), t).check_out(t + 7200)
    assert crypto.proof_coverage(visit.proofs) == (t // 60, t // 60 + 60)
    late = crypto.EntryContent(crypto.EvidenceLevel.PRESENCE_PROVEN, 0, 1, 0, None, visit.proofs)
    assert not crypto.evidence_holds(late, visit.slots[1], visit)


# Revocation, policy and fixed sizes


@given(s.visits(kind=c.KIND_POSTER), st.integers(2, 5), st.integers(-2, 2))
def test_revoked_entries_do_not_warn(visit: crypto.Visit, seq: int, delta: int) -> None:
    entries = crypto.report_entries(visit, os.urandom)
    policy = crypto.Policy(min_overlap_minutes=1)
    first = inv.publish(entries, KEYS, sequence=seq)
    revocation = inv.publish(
        [], KEYS, sequence=seq + delta, revoked=tuple(sl.tag for sl in visit.slots)
    )
    exposures = crypto.match([visit], [first, revocation], policy)
    if delta > 0:
        assert exposures == []
    else:
        assert len(exposures) == 1


@given(s.visits())
def test_policy_without_the_level_does_not_warn(visit: crypto.Visit) -> None:
    entries = crypto.report_entries(visit, os.urandom)
    bundle = inv.publish(entries, KEYS)
    keys = {sl.tag: sl.key for sl in visit.slots}
    levels = {crypto.open_entry(e, keys[e[: c.TAG_BYTES]]).level for e in entries}
    others = frozenset(LEVELS) - levels
    assert crypto.match([visit], [bundle], crypto.Policy(others, 1)) == []
    minutes = len(inv.visit_minutes(visit))
    assert crypto.match([visit], [bundle], crypto.Policy(min_overlap_minutes=minutes + 1)) == []
    (exposure,) = crypto.match([visit], [bundle], crypto.Policy(min_overlap_minutes=minutes))
    assert exposure.overlap_minutes == minutes


@given(s.consent_messages())
def test_consent_is_always_consent_bytes(message: crypto.ConsentMessage) -> None:
    assert len(crypto.seal_consent(message, KEYS.public)) == c.CONSENT_BYTES


@given(s.upload_requests())
def test_upload_is_always_upload_bytes(request: crypto.UploadRequest) -> None:
    dummy = crypto.UploadRequest(request.tan, (), True)
    assert len(request.to_bytes()) == len(dummy.to_bytes()) == c.UPLOAD_BYTES


# Check-in


@given(
    s.venues(),
    st.sampled_from([c.KIND_POSTER, c.KIND_SCREEN]),
    s.times,
    st.integers(1, 2 * 720 * 60),
)
def test_auto_checkout_at_the_default_stay(
    venue: crypto.Venue, kind: int, now: int, after: int
) -> None:
    code = venue.poster() if kind == c.KIND_POSTER else venue.screen(now)
    checked = crypto.check_in(code, now)
    assert checked.auto_checkout_at == now + venue.stay_minutes * 60
    visit = checked.check_out(now + after)
    assert visit.left_at == min(now + after, now + venue.stay_minutes * 60)
    assert visit.entered_at == now


@given(s.stays(), s.secrets)
def test_slots_cover_exactly_the_stay(stay: tuple[int, int], key: bytes) -> None:
    start, end = stay
    slots = crypto.slots_for(key, start, end)
    minutes = [sl.hour * 60 + m for sl in slots for m in range(sl.start_minute, sl.end_minute)]
    assert minutes == list(range(start // 60, -(-end // 60)))
    assert [sl.hour for sl in slots] == sorted({m // 60 for m in minutes})
    for sl in slots:
        assert sl.tag == crypto.hour_tag(key, sl.hour)
        assert sl.key == crypto.entry_key(key, sl.hour)


@given(s.venues(), s.venues(), s.times, st.integers(1, 3600))
def test_rescan_of_another_code_is_refused(
    venue: crypto.Venue, other: crypto.Venue, now: int, later: int
) -> None:
    checked = crypto.check_in(venue.poster(), now)
    for code in (other.poster(), venue.poster(1), venue.screen(now + later)):
        if code.code_key != venue.poster().code_key:
            try:
                checked.rescan(code, now + later)
            except crypto.CodeError as e:
                inv.check_readable(e)
            else:
                raise AssertionError("a rescan of another code was accepted")


@given(s.venues(), s.times, st.integers(1, 719 * 60))
def test_rescan_of_the_screen_adds_an_exit_proof(venue: crypto.Venue, now: int, later: int) -> None:
    assume((now + later) // 86400 == now // 86400)
    checked = crypto.check_in(venue.screen(now), now).rescan(venue.screen(now + later), now + later)
    assert [p.epoch for p in checked.proofs] == [now // 30, (now + later) // 30]
    later_code = venue.screen(now + later)
    assert later_code.proof is not None
    assert checked.verification_code(now + later) == crypto.verification_code(
        later_code.bound_key, later_code.proof
    )


def test_minutes_past_a_single_proof_are_still_reported() -> None:
    """Shrunk: in at hh:10 without exit rescan, out at hh+1:40; shared hh+1:15-hh+1:40.

    The single proof covers hh:10 to hh+1:10; the minutes after it were once
    dropped instead of being self-reported.
    """
    venue = crypto.Venue(bytes(32), "Screen")
    start = 1_700_006_400 + 10 * 3600 + 600
    uploader = crypto.check_in(venue.screen(start), start).check_out(start + 90 * 60)
    device_in = start + 65 * 60
    device = crypto.check_in(venue.screen(device_in), device_in).check_out(start + 90 * 60)
    bundle = inv.publish(crypto.report_entries(uploader, os.urandom), KEYS)
    exposures = crypto.match([device], [bundle], crypto.Policy(min_overlap_minutes=1))
    assert [e.overlap_minutes for e in exposures] == [25]
    assert exposures[0].level == crypto.EvidenceLevel.SELF_REPORTED
