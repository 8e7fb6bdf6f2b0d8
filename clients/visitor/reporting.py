"""Reporting as a case (with a TAN) and sending contact details for a warning, by consent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from placecode import crypto
from placecode.crypto import DecodeError, Error, EvidenceLevel, UploadRequest, Visit, rules
from placecode.crypto import constants as c

from ..http import Client
from .diary import Diary, DiaryError, RandomBytes, StoredWarning


def normalize_tan(text: str) -> str:
    """A TAN as the service shows it (XXXX-XXXX-XXXX), read as the service reads it."""
    try:
        return rules.normalize_tan(text)
    except DecodeError as e:
        raise DiaryError(str(e)) from None


@dataclass(frozen=True)
class ReportItem:
    """One visit in a report, as the person is shown it before consenting."""

    visit: Visit
    entries: list[bytes]
    levels: list[EvidenceLevel]
    #: the diary's visit, or None for the stay in progress
    visit_id: int | None


def prepare_report(diary: Diary, now: int, random: RandomBytes) -> list[ReportItem]:
    """The visits of the retention period (a stay in progress until now), sealed."""
    cutoff = now - diary.retention_days * 86400
    visits: list[tuple[Visit, int | None]] = [
        (s.visit, s.id) for s in diary.visits if s.visit.left_at > cutoff
    ]
    current = diary.checked_in
    if current is not None and now > current.entered_at:
        visits.append((current.check_out(now), None))
    items = []
    for visit, visit_id in visits:
        entries = crypto.report_entries(visit, random)
        keys = {slot.tag: slot.key for slot in visit.slots}
        levels = [crypto.open_entry(e, keys[e[: c.TAG_BYTES]]).level for e in entries]
        items.append(ReportItem(visit, entries, levels, visit_id))
    if not items:
        raise DiaryError(
            "your diary has no visits in the last "
            f"{diary.retention_days} days: there is nothing to report"
        )
    return items


def report_request(tan: str, items: Sequence[ReportItem]) -> UploadRequest:
    entries = tuple(e for item in items for e in item.entries)
    try:
        return UploadRequest(normalize_tan(tan), entries)
    except DiaryError:
        raise
    except Error:
        raise DiaryError(
            f"your {len(entries)} entries do not fit one upload: delete old visits first"
        ) from None


def send_contact(
    diary: Diary, client: Client, warning_id: int, details: str, now: int
) -> StoredWarning:
    """Seals contact details to the authority for one warning and sends them."""
    warning = diary.warning(warning_id)
    authority = diary.authority
    if authority is None:
        raise DiaryError("sync first: the app does not know the health authority's key yet")
    if not details.strip():
        raise DiaryError("give the contact details to send, such as a phone number")
    try:
        message = crypto.ConsentMessage(
            warning.tag, warning.hour, warning.start_minute, warning.end_minute, details.strip()
        )
    except Error:
        raise DiaryError(
            f"contact details are at most {c.MAX_CONTACT_BYTES} bytes: shorten them"
        ) from None
    client.consent(crypto.seal_consent(message, authority))
    return diary.mark_contacted(warning_id, now)
