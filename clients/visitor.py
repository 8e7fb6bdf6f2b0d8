"""The visitor's diary and what the visitor's app does with the service.

The diary holds the current check-in, past visits, warnings, the pinned
authority keys and the verified bundles. Everything personal is encrypted at
rest (a PyNaCl secret box) under a key in a file only its owner can read, or
under a key derived from a passphrase with Argon2id. Time and randomness are
parameters: ``now`` in Unix seconds, ``random(n) -> bytes``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import platformdirs

from placecode import crypto
from placecode.crypto import (
    AuthorityPublicKeys,
    Bundle,
    CheckIn,
    Error,
    EvidenceLevel,
    Policy,
    PresenceProof,
    Slot,
    UploadRequest,
    VenueCode,
    Visit,
)
from placecode.crypto import constants as c

from ._files import write_private
from .authority import public_from_json
from .http import BundleInfo, Client

RandomBytes = Callable[[int], bytes]
#: called with (bytes just downloaded, total bytes to download)
Progress = Callable[[int, int], None]

KEY_FILE = "diary.key"
SALT_FILE = "diary.salt"
DIARY_FILE = "diary.box"
BUNDLE_DIR = "bundles"
#: Argon2id cost for a passphrase: 64 MiB, 3 passes (RFC 9106's second recommendation)
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_TIME_COST = 3
#: Crockford base32, as the service writes TANs
TAN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TAN_CHARS = 12
#: a dummy upload carries as many fake entries as a real one might: 1 to this many
MAX_DUMMY_ENTRIES = 120
#: how likely each sync is to send a dummy upload, unless configured otherwise
DEFAULT_DUMMY_PROBABILITY = 0.3

LEVEL_LABELS = {
    EvidenceLevel.VENUE_CONFIRMED: "venue-confirmed: the venue owner confirmed the outbreak",
    EvidenceLevel.PRESENCE_PROVEN: "presence-proven: the case scanned the venue's live screen",
    EvidenceLevel.SELF_REPORTED: "self-reported: the case's own diary, uploaded with a TAN",
}


class DiaryError(Error):
    """The diary cannot be opened, or refuses what was asked of it."""


class BundleRejected(Error):
    """A downloaded bundle or configuration failed verification; nothing was kept."""


def default_directory() -> Path:
    env = os.environ.get("PLACECODE_HOME")
    return Path(env) if env else Path(platformdirs.user_data_dir("placecode")) / "visitor"


# --- stored records -------------------------------------------------------------------


@dataclass(frozen=True)
class StoredVisit:
    id: int
    visit: Visit


@dataclass
class StoredWarning:
    """A match against a published case, as the visitor is shown it."""

    id: int
    visit_id: int
    venue: str
    entered_at: int
    left_at: int
    hour: int
    start_minute: int
    end_minute: int
    tag: bytes
    overlap_minutes: int
    level: int
    message: str
    found_at: int
    contacted_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        doc = dict(self.__dict__)
        doc["tag"] = self.tag.hex()
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StoredWarning:
        return cls(**{**doc, "tag": bytes.fromhex(doc["tag"])})


def _visit_to_json(stored: StoredVisit) -> dict[str, Any]:
    v = stored.visit
    return {
        "id": stored.id,
        "name": v.name,
        "category": v.category,
        "kind": v.kind,
        "venue_public_key": v.venue_public_key.hex(),
        "code_id": v.code_id.hex(),
        "entered_at": v.entered_at,
        "left_at": v.left_at,
        "slots": [
            [s.hour, s.start_minute, s.end_minute, s.tag.hex(), s.key.hex()] for s in v.slots
        ],
        "proofs": [[p.epoch, p.signature.hex()] for p in v.proofs],
    }


def _visit_from_json(doc: dict[str, Any]) -> StoredVisit:
    return StoredVisit(
        doc["id"],
        Visit(
            doc["name"],
            doc["category"],
            doc["kind"],
            bytes.fromhex(doc["venue_public_key"]),
            bytes.fromhex(doc["code_id"]),
            doc["entered_at"],
            doc["left_at"],
            tuple(
                Slot(h, lo, hi, bytes.fromhex(t), bytes.fromhex(k))
                for h, lo, hi, t, k in doc["slots"]
            ),
            tuple(PresenceProof(e, bytes.fromhex(s)) for e, s in doc["proofs"]),
        ),
    )


def _check_in_to_json(state: CheckIn) -> dict[str, Any]:
    return {
        "code": state.code.to_url(),
        "entered_at": state.entered_at,
        "proofs": [[p.epoch, p.signature.hex()] for p in state.proofs],
    }


def _check_in_from_json(doc: dict[str, Any]) -> CheckIn:
    return CheckIn(
        VenueCode.from_url(doc["code"]),
        doc["entered_at"],
        tuple(PresenceProof(e, bytes.fromhex(s)) for e, s in doc["proofs"]),
    )


@dataclass(frozen=True)
class ServiceConfig:
    """The parts of the authority's signed configuration the app uses."""

    authority: AuthorityPublicKeys
    policy: Policy
    retention_days: int
    messages: tuple[str, ...]

    @classmethod
    def parse(cls, payload: bytes) -> ServiceConfig:
        try:
            doc = json.loads(payload)
            if doc["protocol"] != c.PROTOCOL_VERSION:
                raise DiaryError(
                    f"the service speaks placecode/{doc['protocol']}, which this app does not "
                    "know: update the app"
                )
            policy = Policy(
                frozenset(EvidenceLevel(level) for level in doc["policy"]["warn_levels"]),
                int(doc["policy"]["min_overlap_minutes"]),
            )
            return cls(
                public_from_json(doc["authority"]),
                policy,
                int(doc["retention_days"]),
                tuple(str(m) for m in doc["messages"]),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise BundleRejected(f"the service's configuration is malformed ({e})") from None


# --- the diary ---------------------------------------------------------------------


def _derive_key(passphrase: str, salt: bytes) -> bytes:
    """Argon2id (libsodium's, parallelism 1): byte-identical to argon2-cffi's with these costs."""
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode(),
        salt,
        opslimit=ARGON2_TIME_COST,
        memlimit=ARGON2_MEMORY_KIB * 1024,
    )


def _empty_state() -> dict[str, Any]:
    return {
        "version": 1,
        "next_id": 1,
        "check_in": None,
        "visits": [],
        "warnings": [],
        "authority": None,
        "config": None,
        "last_sequence": -1,
        "bundles": [],
    }


@dataclass(frozen=True)
class CheckInResult:
    check_in: CheckIn
    #: the stay that ended because this check-in began, or by automatic check-out
    closed: StoredVisit | None


@dataclass(frozen=True)
class ScanResult:
    """What scanning a code did: checked in, or (same code again) checked out."""

    checked_in: CheckInResult | None = None
    checked_out: StoredVisit | None = None


class Diary:
    """The encrypted diary in ``directory``. Nothing is written until ``save()``."""

    def __init__(
        self,
        directory: Path,
        box: nacl.secret.SecretBox,
        state: dict[str, Any],
        random: RandomBytes,
    ) -> None:
        self.directory = directory
        self._box = box
        self._state = state
        self._random = random

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        passphrase: str | None = None,
        random: RandomBytes = os.urandom,
    ) -> Diary:
        """Opens the diary, creating a new one (and its key) if there is none."""
        key_path, salt_path, box_path = (
            directory / KEY_FILE,
            directory / SALT_FILE,
            directory / DIARY_FILE,
        )
        try:
            if salt_path.exists():
                if passphrase is None:
                    raise DiaryError(
                        f"the diary in {directory} is protected by a passphrase: "
                        "set PLACECODE_PASSPHRASE or pass --passphrase"
                    )
                key = _derive_key(passphrase, salt_path.read_bytes())
            elif key_path.exists():
                key = key_path.read_bytes()
            elif box_path.exists():
                raise DiaryError(f"the key of the diary in {directory} is missing")
            elif passphrase is not None:
                salt = random(16)
                write_private(salt_path, salt, exclusive=True)
                key = _derive_key(passphrase, salt)
            else:
                key = random(nacl.secret.SecretBox.KEY_SIZE)
                write_private(key_path, key, exclusive=True)
        except OSError as e:
            raise DiaryError(f"cannot use the diary in {directory}: {e.strerror}") from None
        if len(key) != nacl.secret.SecretBox.KEY_SIZE:
            raise DiaryError(f"the diary key in {directory} is damaged")
        box = nacl.secret.SecretBox(key)
        if not box_path.exists():
            return cls(directory, box, _empty_state(), random)
        try:
            state = json.loads(box.decrypt(box_path.read_bytes()))
        except (nacl.exceptions.CryptoError, ValueError):
            raise DiaryError(
                f"cannot open the diary in {directory}: wrong passphrase, or the file is damaged"
            ) from None
        except OSError as e:
            raise DiaryError(f"cannot read the diary in {directory}: {e.strerror}") from None
        if state.get("version") != 1:
            raise DiaryError(f"the diary in {directory} was written by a newer app")
        return cls(directory, box, state, random)

    def save(self) -> None:
        plain = json.dumps(self._state, separators=(",", ":")).encode()
        nonce = self._random(nacl.secret.SecretBox.NONCE_SIZE)
        write_private(self.directory / DIARY_FILE, bytes(self._box.encrypt(plain, nonce)))

    def _next_id(self) -> int:
        n: int = self._state["next_id"]
        self._state["next_id"] = n + 1
        return n

    # --- check-in and check-out ------------------------------------------------------

    @property
    def checked_in(self) -> CheckIn | None:
        doc = self._state["check_in"]
        return None if doc is None else _check_in_from_json(doc)

    @property
    def visits(self) -> list[StoredVisit]:
        out = [_visit_from_json(v) for v in self._state["visits"]]
        return sorted(out, key=lambda s: s.visit.entered_at)

    def _close(self, state: CheckIn, left_at: int) -> StoredVisit:
        stored = StoredVisit(self._next_id(), state.check_out(left_at))
        self._state["visits"].append(_visit_to_json(stored))
        self._state["check_in"] = None
        if self._state.pop("check_in_reported", False):
            self.mark_reported([stored.id])
        return stored

    def expire(self, now: int) -> StoredVisit | None:
        """Checks out automatically once the venue's default stay has passed."""
        state = self.checked_in
        if state is None or now < state.auto_checkout_at:
            return None
        return self._close(state, state.auto_checkout_at)

    def check_in(self, code: VenueCode, now: int) -> CheckInResult:
        """Checks in; a stay elsewhere ends now, since nobody is in two places at once."""
        closed = self.expire(now)
        current = self.checked_in
        if current is not None and current.is_same_code(code):
            raise DiaryError(
                f"you are already checked in at {code.name}: to check out, scan the code "
                "again or run `placecode visit check-out`"
            )
        for stored in self.visits:
            if stored.visit.entered_at <= now < stored.visit.left_at:
                raise DiaryError(
                    f"your diary already has a visit to {stored.visit.name} at that time"
                )
        state = crypto.check_in(code, now)
        if current is not None:
            if now <= current.entered_at:
                raise DiaryError(
                    f"you checked in at {current.code.name} after that time: check out first"
                )
            closed = self._close(current, now)
        self._state["check_in"] = _check_in_to_json(state)
        return CheckInResult(state, closed)

    def check_out(self, now: int, code: VenueCode | None = None) -> StoredVisit:
        """Checks out at ``now``; given the rescanned code, a screen's proof bounds the exit."""
        state = self.checked_in
        if state is None:
            raise DiaryError("you are not checked in anywhere")
        if code is not None:
            state = state.rescan(code, now)
        if now <= state.entered_at:
            raise DiaryError("check-out must come after check-in")
        return self._close(state, now)

    def scan(self, code: VenueCode, now: int) -> ScanResult:
        """What scanning does: the code of the current stay checks out, any other checks in."""
        auto = self.expire(now)
        current = self.checked_in
        if current is not None and current.is_same_code(code):
            return ScanResult(checked_out=self.check_out(now, code))
        if current is not None and _next_day_of(current, code):
            # the screen rotated to its next day's code, which by design cannot be
            # linked to the one checked in with: leaving, without an exit proof
            crypto.check_in(code, now)  # but only on a live, signed code
            return ScanResult(checked_out=self.check_out(now))
        result = self.check_in(code, now)
        return ScanResult(checked_in=CheckInResult(result.check_in, result.closed or auto))

    def delete(self, visit_id: int) -> StoredVisit:
        for stored in self.visits:
            if stored.id == visit_id:
                self._state["visits"] = [v for v in self._state["visits"] if v["id"] != visit_id]
                self._state["warnings"] = [
                    w for w in self._state["warnings"] if w["visit_id"] != visit_id
                ]
                return stored
        raise DiaryError(
            f"there is no visit #{visit_id} in your diary (see `placecode visit list`)"
        )

    @property
    def retention_days(self) -> int:
        config = self.config
        return config.retention_days if config else c.RETENTION_DAYS

    def purge(self, now: int) -> int:
        """Deletes visits and bundles older than the retention period; returns visits deleted."""
        cutoff = now - self.retention_days * 86400
        old = [s.id for s in self.visits if s.visit.left_at <= cutoff]
        for visit_id in old:
            self.delete(visit_id)
        kept = []
        for doc in self._state["bundles"]:
            if (doc["last_hour"] + 1) * 3600 <= cutoff:
                (self.directory / BUNDLE_DIR / f"{doc['sequence']}.bin").unlink(missing_ok=True)
            else:
                kept.append(doc)
        self._state["bundles"] = kept
        return len(old)

    # --- warnings ----------------------------------------------------------------------

    @property
    def warnings(self) -> list[StoredWarning]:
        return [StoredWarning.from_json(w) for w in self._state["warnings"]]

    def warning(self, warning_id: int) -> StoredWarning:
        for w in self.warnings:
            if w.id == warning_id:
                return w
        raise DiaryError(f"there is no warning #{warning_id} (see `placecode visit warnings`)")

    def mark_reported(self, visit_ids: Sequence[int | None]) -> None:
        """Visits this person reported as a case: their own entries will not warn them.

        ``None`` stands for the stay in progress, reported up to now: the visit
        it becomes at check-out is marked then.
        """
        ids = set(self._state.setdefault("reported", [])) | {i for i in visit_ids if i}
        self._state["reported"] = sorted(ids)
        if None in visit_ids and self._state["check_in"] is not None:
            self._state["check_in_reported"] = True

    @property
    def reported(self) -> set[int]:
        return set(self._state.get("reported", []))

    def _set_warnings(self, warnings: list[StoredWarning]) -> None:
        self._state["warnings"] = [w.to_json() for w in warnings]

    # --- the authority and its bundles ------------------------------------------------

    @property
    def authority(self) -> AuthorityPublicKeys | None:
        doc = self._state["authority"]
        return None if doc is None else public_from_json(doc)

    @property
    def config(self) -> ServiceConfig | None:
        payload = self._state["config"]
        return None if payload is None else ServiceConfig.parse(bytes.fromhex(payload))

    @property
    def last_sequence(self) -> int:
        n: int = self._state["last_sequence"]
        return n

    def bundles(self) -> list[Bundle]:
        """The stored bundles, verified again: a file changed on disk is refused."""
        authority = self.authority
        if authority is None:
            return []
        out = []
        for doc in self._state["bundles"]:
            path = self.directory / BUNDLE_DIR / f"{doc['sequence']}.bin"
            try:
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != doc["sha256"]:
                    raise crypto.VerificationError()
                out.append(Bundle.verify(data, authority))
            except (OSError, crypto.VerificationError):
                raise BundleRejected(
                    f"the stored bundle {path} was changed or removed: run "
                    "`placecode visit sync --refetch` to download the bundles again"
                ) from None
        return out

    def forget_bundles(self) -> None:
        for doc in self._state["bundles"]:
            (self.directory / BUNDLE_DIR / f"{doc['sequence']}.bin").unlink(missing_ok=True)
        self._state["bundles"] = []
        self._state["last_sequence"] = -1


# --- talking to the service ----------------------------------------------------------


def parse_pin(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != c.PUBLIC_KEY_BYTES:
        raise DiaryError("an authority key is 64 hexadecimal digits (its Ed25519 signing key)")
    return key


def fetch_config(
    diary: Diary, client: Client, authority_key: bytes | None = None
) -> tuple[ServiceConfig, bool]:
    """Verifies the signed configuration against the pinned key; returns (config, newly pinned).

    The first sync pins the key the service names (trust on first use) unless
    ``authority_key`` pins one explicitly.
    """
    payload, signature = client.config()
    config = ServiceConfig.parse(payload)
    pinned = diary.authority
    named = config.authority
    if authority_key is not None:
        if named.sign_key != authority_key:
            raise BundleRejected(
                "the service is signed by another authority key than the one you gave: "
                f"it names {named.sign_key.hex()}"
            )
    elif pinned is not None and pinned.sign_key != named.sign_key:
        raise BundleRejected(
            f"the service's authority key changed (you trust key id {pinned.key_id.hex()}, "
            f"it now names {named.key_id.hex()}): if your health authority announced a new "
            "key, pass it with --authority-key"
        )
    try:
        crypto.verify_config(payload, signature, named)
    except crypto.VerificationError:
        raise BundleRejected("the service's configuration is not signed by its authority") from None
    newly = pinned is None or pinned != named
    if newly and pinned is not None and pinned.sign_key != named.sign_key:
        diary.forget_bundles()
    diary._state["authority"] = {
        "sign_key": _b64(named.sign_key),
        "seal_key": _b64(named.seal_key),
        "key_id": named.key_id.hex(),
    }
    diary._state["config"] = payload.hex()
    return config, newly


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class SyncResult:
    key_id: str
    pinned: bool
    new_bundles: int
    downloaded_bytes: int
    new: list[StoredWarning]
    withdrawn: list[StoredWarning]
    warnings: list[StoredWarning]
    dummy_sent: bool


def _chance(random: RandomBytes, probability: float) -> bool:
    return int.from_bytes(random(8), "big") < probability * 2**64


def _next_day_of(current: CheckIn, code: VenueCode) -> bool:
    """Whether ``code`` looks like the next day's code of the screen checked in at.

    Day codes share nothing a device can verify, so this goes by what the
    screen says of itself: its name, category and stay, one day later.
    """
    before, after = current.code, code
    if before.proof is None or after.proof is None:
        return False
    day = c.EPOCH_SECONDS * before.proof.epoch // 86400
    return (after.name, after.category, after.stay_minutes) == (
        before.name,
        before.category,
        before.stay_minutes,
    ) and c.EPOCH_SECONDS * after.proof.epoch // 86400 == day + 1


def dummy_upload(random: RandomBytes) -> UploadRequest:
    """An upload nobody can tell from a real one on the wire: same size, TAN-shaped."""
    tan = format_tan("".join(TAN_ALPHABET[b % 32] for b in random(TAN_CHARS)))
    count = 1 + int.from_bytes(random(2), "big") % MAX_DUMMY_ENTRIES
    entries = []
    for _ in range(count):
        proofs = random(1)[0] % 3
        size = c.MIN_ENTRY_BYTES + (1 + proofs * (4 + c.SIGNATURE_BYTES) if proofs else 0)
        entries.append(random(size))
    return UploadRequest(tan, tuple(entries), dummy=True)


def sync(
    diary: Diary,
    client: Client,
    now: int,
    *,
    authority_key: bytes | None = None,
    dummy_probability: float = DEFAULT_DUMMY_PROBABILITY,
    progress: Progress | None = None,
    report: UploadRequest | None = None,
) -> SyncResult:
    """Downloads and verifies new bundles, matches locally, sends a dummy upload by chance.

    Every bundle is verified before any is kept: a tampered or replayed one
    leaves the diary as it was. A ``report`` (a real upload) takes the dummy's
    place, so a report makes the same requests, in the same order, as a sync
    that sends a dummy; its failure is raised, a dummy's ignored.
    """
    config, pinned = fetch_config(diary, client, authority_key)
    authority = config.authority
    index = [
        b for b in client.bundle_index(diary.last_sequence) if b.sequence > diary.last_sequence
    ]
    total = sum(b.size for b in index)
    fetched: list[tuple[BundleInfo, bytes]] = []
    last = diary.last_sequence
    for info in sorted(index, key=lambda b: b.sequence):
        data = client.bundle(info)
        if progress:
            progress(len(data), total)
        try:
            if hashlib.sha256(data).hexdigest() != info.sha256.lower():
                raise crypto.VerificationError()
            bundle = Bundle.verify(data, authority, after_sequence=last)
        except crypto.VerificationError:
            raise BundleRejected(
                f"bundle {info.sequence} from the service failed verification (altered, "
                "replayed or signed by another key): nothing was kept"
            ) from None
        last = bundle.header.sequence
        fetched.append((info, data))
    (diary.directory / BUNDLE_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
    for info, data in fetched:
        (diary.directory / BUNDLE_DIR / f"{info.sequence}.bin").write_bytes(data)
        diary._state["bundles"].append(
            {
                "sequence": info.sequence,
                "sha256": hashlib.sha256(data).hexdigest(),
                "last_hour": info.last_hour,
            }
        )
    diary._state["last_sequence"] = last
    diary.purge(now)
    new, withdrawn, warnings = _rematch(diary, config, now)
    dummy = report is None and _chance(diary._random, dummy_probability)
    if report is not None:
        client.upload(report.to_bytes())
    elif dummy:
        try:
            client.upload(dummy_upload(diary._random).to_bytes())
        except Error:
            dummy = False
    return SyncResult(
        authority.key_id.hex(),
        pinned,
        len(fetched),
        sum(len(d) for _, d in fetched),
        new,
        withdrawn,
        warnings,
        dummy,
    )


def _rematch(
    diary: Diary, config: ServiceConfig, now: int
) -> tuple[list[StoredWarning], list[StoredWarning], list[StoredWarning]]:
    reported = diary.reported
    stored_visits = [s for s in diary.visits if s.id not in reported]
    by_object = {id(s.visit): s for s in stored_visits}
    exposures = crypto.match([s.visit for s in stored_visits], diary.bundles(), config.policy)
    old = {w.visit_id: w for w in diary.warnings}
    warnings, new = [], []
    for exposure in exposures:
        stored = by_object[id(exposure.visit)]
        previous = old.pop(stored.id, None)
        warning = StoredWarning(
            previous.id if previous else diary._next_id(),
            stored.id,
            exposure.visit.name,
            exposure.visit.entered_at,
            exposure.visit.left_at,
            exposure.slot.hour,
            exposure.slot.start_minute,
            exposure.slot.end_minute,
            exposure.slot.tag,
            exposure.overlap_minutes,
            int(exposure.level),
            exposure.message,
            previous.found_at if previous else now,
            previous.contacted_at if previous else None,
        )
        warnings.append(warning)
        if previous is None:
            new.append(warning)
    diary._set_warnings(warnings)
    return new, list(old.values()), warnings


# --- reports and consent ----------------------------------------------------------


def normalize_tan(text: str) -> str:
    """A TAN as the service shows it (XXXX-XXXX-XXXX); raises for anything else."""
    raw = "".join(text.split()).replace("-", "").upper()
    if len(raw) != TAN_CHARS or any(ch not in TAN_ALPHABET for ch in raw):
        raise DiaryError(
            "this is not a TAN: a TAN from your health authority looks like ABCD-EFGH-JKMN"
        )
    return format_tan(raw)


def format_tan(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, TAN_CHARS, 4))


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
    warning.contacted_at = now
    diary._set_warnings([warning if w.id == warning.id else w for w in diary.warnings])
    return warning
