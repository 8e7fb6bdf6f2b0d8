"""Attackers who try to cause false warnings; each uploads with a TAN every day."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from placecode import crypto
from placecode.crypto import CodeError, EntryContent, EvidenceLevel, PresenceProof, Visit
from placecode.crypto import constants as c

from ._config import DAY
from ._publishing import entries_of, send
from ._records import Published

if TYPE_CHECKING:
    from ._run import Run


def scraper(run: Run, d: int, t0: int) -> None:
    """Self-reported entries for every hour of the day at each photographed poster."""
    entries = []
    for venue in run.v.posters_by_popularity()[: run.config.scraped_posters]:
        poster = run.v.posters[venue]
        assert poster is not None
        for start in (t0, t0 + DAY // 2):
            visit = crypto.check_in(poster, start).check_out(start + DAY // 2)
            entries.extend(entries_of(run, visit, venue, "scraper", d))
    if entries:
        send(run, "scraper", entries)


def fake_uploader(run: Run, d: int, t0: int) -> None:
    """A remote check-in with a photographed poster: a made-up evening at a busy venue."""
    posters = run.v.posters_by_popularity()
    if not posters:
        return
    venue = posters[min(len(posters) - 1, run.config.scraped_posters)]
    poster = run.v.posters[venue]
    assert poster is not None
    visit = crypto.check_in(poster, t0 + 18 * 3600).check_out(t0 + 21 * 3600)
    send(run, "fake-uploader", entries_of(run, visit, venue, "fake-uploader", d))


def stale_screen(run: Run, d: int, t0: int) -> None:
    """A screenshot of a screen taken at noon, used three hours later."""
    screens = run.v.screens_by_popularity()
    if not screens:
        return
    venue = screens[0]
    code = run.v.venues[venue].screen(t0 + 12 * 3600)
    claimed = t0 + 15 * 3600
    try:
        crypto.check_in(code, claimed)
    except CodeError:
        run.counts["stale check-ins refused"] += 1
    assert code.proof is not None
    visit = Visit(
        code.name,
        code.category,
        code.kind,
        code.venue_public_key,
        code.code_id,
        claimed,
        claimed + 3 * 3600,
        crypto.slots_for(code.bound_key, claimed, claimed + 3 * 3600),
        (code.proof,),
    )
    send(run, "stale-screen", entries_of(run, visit, venue, "stale-screen", d))


def forger(run: Run, d: int, t0: int) -> None:
    """Presence-proven entries for every hour after a morning visit, with forged proofs."""
    screens = run.v.screens_by_popularity()
    if not screens:
        return
    venue = screens[0]
    code = run.v.venues[venue].screen(t0 + 8 * 3600)
    entries: list[tuple[bytes, Published]] = []
    for hour in range((t0 + 9 * 3600) // 3600, (t0 + 23 * 3600) // 3600):
        epoch = hour * 3600 // c.EPOCH_SECONDS
        proofs = (
            PresenceProof(epoch, run.random_bytes(c.SIGNATURE_BYTES)),
            PresenceProof(epoch + 119, run.random_bytes(c.SIGNATURE_BYTES)),
        )
        content = EntryContent(EvidenceLevel.PRESENCE_PROVEN, 0, 60, 0, None, proofs)
        entry = crypto.seal_entry(
            crypto.hour_tag(code.bound_key, hour),
            crypto.entry_key(code.bound_key, hour),
            content,
            run.random_bytes(c.NONCE_BYTES),
        )
        entries.append((entry, Published("forger", venue, d, hour, 0, 60, 2, forged=True)))
    send(run, "forger", entries)


#: attacker name (see ``ATTACKERS``) -> what it does on day ``d`` starting at ``t0``
ATTACKS: dict[str, Callable[[Run, int, int], None]] = {
    "scraper": scraper,
    "fake-uploader": fake_uploader,
    "stale-screen": stale_screen,
    "forger": forger,
}
