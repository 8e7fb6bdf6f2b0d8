"""§12 Matching a diary against the bundles, under several policies."""

from __future__ import annotations

from placecode.crypto import Bundle, EvidenceLevel, Policy, match
from placecode.crypto import constants as c

from .common import T_1025, T_1100, T_1105, T_1145, T_1210, T_1400, T_1500, Context, stay


def build(ctx: Context) -> None:
    venue = ctx.venue
    diary_steps = [
        stay(venue, c.KIND_SCREEN, T_1025, T_1105),
        stay(venue, c.KIND_POSTER, T_1100, T_1145),
        stay(venue, c.KIND_POSTER, T_1400, T_1500),
        stay(venue, c.KIND_POSTER, T_1210 + 3600, T_1400),
    ]
    visits = [visit for _, visit in diary_steps]
    ctx.shared["visits"] = visits
    public = ctx.authority.public
    verified = [Bundle.verify(data, public) for data in ctx.shared["bundles"]]
    policies = {
        "default": Policy(),
        "no_self_reported": Policy(
            frozenset({EvidenceLevel.VENUE_CONFIRMED, EvidenceLevel.PRESENCE_PROVEN}), 10
        ),
        "strict_overlap": Policy(min_overlap_minutes=45),
    }
    ctx.vectors["matching"] = {
        "diary": [step for step, _ in diary_steps],
        "results": [
            {
                "bundles": [b.header.sequence for b in chosen],
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
                    for x in match(visits, chosen, policy)
                ],
            }
            for chosen in (verified, verified[:1])
            for name, policy in policies.items()
        ],
    }
