"""§12 Matching rules, one small case each: where a venue-confirmed entry counts, claims
after a bundle's creation, the level shown, and a revocation by the bundle that carries
the revoked tag's new entry.

Drawn from its own stream (``ctx.stream("matching rules")``), on poster generation 1,
so its tags meet nothing of the other sections.
"""

from __future__ import annotations

from typing import Any

from placecode.crypto import (
    Bundle,
    BundleHeader,
    EntryContent,
    EvidenceLevel,
    Policy,
    Visit,
    check_in,
    confirm_message,
    match,
    seal_entry,
    sign_bundle,
)
from placecode.crypto import constants as c

from .common import DAY_START, MESSAGES, Context, visit_json
from .s08_bundle import bundle_json

T_1000 = DAY_START + 10 * 3600
T_1030 = T_1000 + 30 * 60
T_1100 = T_1000 + 3600
T_1200 = T_1000 + 2 * 3600
GENERATION = 1


def build(ctx: Context) -> None:
    random = ctx.stream("matching rules")
    venue, authority = ctx.venue, ctx.authority
    poster = venue.poster(GENERATION)
    keys = venue.code_keys(c.KIND_POSTER, GENERATION)

    def stay(start: int, end: int) -> tuple[dict[str, Any], Visit]:
        visit = check_in(poster, start).check_out(end)
        step = {"code_url": poster.to_url(), "entered_at": start, "left_at": end}
        return {**step, "visit": visit_json(visit)}, visit

    def entry(
        visit: Visit, index: int, level: EvidenceLevel, lo: int, hi: int, mid: int = 0
    ) -> bytes:
        slot = visit.slots[index]
        signature = None
        if level == EvidenceLevel.VENUE_CONFIRMED:
            signature = keys.sign(confirm_message(slot.tag, lo, hi))
        content = EntryContent(level, lo, hi, mid, signature)
        return seal_entry(slot.tag, slot.key, content, random(c.NONCE_BYTES))

    def bundle(
        sequence: int,
        created_at: int,
        public: list[bytes],
        by_authority: list[bytes] = (),  # type: ignore[assignment]
        revoked: tuple[bytes, ...] = (),
    ) -> tuple[dict[str, Any], Bundle]:
        header = BundleHeader(
            authority.public.key_id,
            sequence,
            created_at,
            T_1000 // 3600,
            T_1200 // 3600,
            MESSAGES,
            revoked,
        )
        data = sign_bundle(header, public, authority.signing_key, list(by_authority))
        verified = Bundle.verify(data, authority.public)
        return bundle_json(header, data, list(public), list(by_authority)), verified

    one_hour, visit = stay(T_1000, T_1100)
    two_hours, long_visit = stay(T_1000, T_1200)
    later = T_1200 + 3600
    forged = entry(visit, 0, EvidenceLevel.VENUE_CONFIRMED, 0, 60)
    strict = Policy(frozenset({EvidenceLevel.VENUE_CONFIRMED}), 10)
    default = Policy()
    cases = [
        (
            "a venue-confirmed entry in the public section never counts, even validly signed",
            [one_hour],
            [visit],
            [bundle(1, later, [forged])],
            [("venue confirmed only", strict), ("default", default)],
        ),
        (
            "the same entry in the authority section counts",
            [one_hour],
            [visit],
            [bundle(1, later, [], [forged])],
            [("venue confirmed only", strict), ("default", default)],
        ),
        (
            "no minute after the bundle's creation counts (signed at 10:30:30)",
            [two_hours],
            [long_visit],
            [
                bundle(
                    1,
                    T_1030 + 30,
                    [
                        entry(long_visit, 0, EvidenceLevel.SELF_REPORTED, 0, 60),
                        entry(long_visit, 1, EvidenceLevel.SELF_REPORTED, 0, 60),
                    ],
                )
            ],
            [("default", default)],
        ),
        (
            "the level shown is the strongest whose windows reach the overlap",
            [one_hour],
            [visit],
            [
                bundle(
                    1,
                    later,
                    [entry(visit, 0, EvidenceLevel.SELF_REPORTED, 2, 60)],
                    [entry(visit, 0, EvidenceLevel.VENUE_CONFIRMED, 0, 2, 1)],
                )
            ],
            [
                ("default", default),
                ("overlap of 2 minutes", Policy(min_overlap_minutes=2)),
                ("venue confirmed only", strict),
            ],
        ),
    ]
    first = entry(visit, 0, EvidenceLevel.SELF_REPORTED, 0, 60)
    again = entry(visit, 0, EvidenceLevel.SELF_REPORTED, 0, 15, 1)
    cases.append(
        (
            "a revocation hides the revoked tag's entries of lower sequences, not its own bundle's",
            [one_hour],
            [visit],
            [
                bundle(1, later, [first]),
                bundle(2, later + 3600, [again], revoked=(visit.slots[0].tag,)),
            ],
            [("default", default)],
        )
    )
    ctx.vectors["matching_rules"] = [
        {
            "case": case,
            "diary": diary,
            "bundles": [b for b, _ in bundles],
            "results": [
                {
                    "policy": name,
                    "warn_levels": sorted(int(x) for x in policy.warn_levels),
                    "min_overlap_minutes": policy.min_overlap_minutes,
                    "exposures": [
                        {
                            "visit": visits.index(x.visit),
                            "first_hour": x.slot.hour,
                            "overlap_minutes": x.overlap_minutes,
                            "level": int(x.level),
                            "message": x.message,
                        }
                        for x in match(visits, [v for _, v in bundles], policy)
                    ],
                }
                for name, policy in policies
            ],
        }
        for case, diary, visits, bundles, policies in cases
    ]
