"""The visitor's diary: the check-in, past visits, warnings, the pinned authority, bundles
and, on the compact index path (protocol §18), indexes with the shards fetched of each.

Everything personal is encrypted at rest (a PyNaCl secret box) under a key in
a file only its owner can read, or under a key derived from a passphrase with
Argon2id. Time and randomness are parameters: ``now`` in Unix seconds,
``random(n) -> bytes``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    Index,
    Policy,
    PresenceProof,
    Shard,
    ShardedBundle,
    Slot,
    VenueCode,
    Visit,
)
from placecode.crypto import constants as c

from .._files import write_private
from ..authority import public_from_json, public_to_json

RandomBytes = Callable[[int], bytes]

KEY_FILE = "diary.key"
SALT_FILE = "diary.salt"
DIARY_FILE = "diary.box"
BUNDLE_DIR = "bundles"
#: indexes (``<sequence>.bin``) and their fetched shards (``<sequence>-<number>.bin``)
INDEX_DIR = "indexes"
#: Argon2id cost for a passphrase: 64 MiB, 3 passes (RFC 9106's second recommendation)
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_TIME_COST = 3
#: the version of the diary's plaintext format
STATE_VERSION = 1
#: the diary's plaintext is padded to this many bytes, or to the next power of two
#: above: its size tells only the bucket, not the number of visits (one visit
#: is about 400 bytes, so the smallest bucket holds some 150 visits)
PAD_MIN_BYTES = 64 * 1024

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

    def to_json(self) -> dict[str, Any]:
        v = self.visit
        return {
            "id": self.id,
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

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StoredVisit:
        return cls(
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


@dataclass(frozen=True)
class StoredBundle:
    """A verified bundle kept in ``bundles/<sequence>.bin``."""

    sequence: int
    sha256: str
    last_hour: int

    def to_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "sha256": self.sha256, "last_hour": self.last_hour}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StoredBundle:
        return cls(int(doc["sequence"]), str(doc["sha256"]), int(doc["last_hour"]))


@dataclass(frozen=True)
class StoredIndex:
    """A verified index in ``indexes/<sequence>.bin`` and the shards fetched of it."""

    sequence: int
    sha256: str
    last_hour: int
    #: (shard number, SHA-256 of ``indexes/<sequence>-<number>.bin``)
    shards: tuple[tuple[int, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "sha256": self.sha256,
            "last_hour": self.last_hour,
            "shards": [[n, h] for n, h in self.shards],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StoredIndex:
        return cls(
            int(doc["sequence"]),
            str(doc["sha256"]),
            int(doc["last_hour"]),
            tuple((int(n), str(h)) for n, h in doc["shards"]),
        )


@dataclass(frozen=True)
class FetchPlan:
    """The shards fetched of an index: fetched again as they are, never with new decoys."""

    sequence: int
    last_hour: int
    shards: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "last_hour": self.last_hour, "shards": self.shards}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> FetchPlan:
        return cls(
            int(doc["sequence"]), int(doc["last_hour"]), tuple(int(n) for n in doc["shards"])
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


def _public_url(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("public_url is not a string")
    try:
        crypto.checkin_url(value)
    except Error as e:
        raise ValueError(str(e)) from None
    return value


@dataclass(frozen=True)
class ServiceConfig:
    """The parts of the authority's signed configuration the app uses."""

    authority: AuthorityPublicKeys
    policy: Policy
    retention_days: int
    messages: tuple[str, ...]
    #: the service's public URL, whose check-in path venue codes open (``None``: unset)
    public_url: str | None = None
    #: protocol §18 k: the fewest entries of a shard the device accepts
    shard_min_entries: int = c.DEFAULT_SHARD_MIN_ENTRIES
    #: protocol §18 F: the shards the device fetches of every index
    shard_fetches: int = c.DEFAULT_SHARD_FETCHES

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
                _public_url(doc.get("public_url")),
                int(doc["index"]["shard_min_entries"]),
                int(doc["index"]["shard_fetches"]),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise BundleRejected(f"the service's configuration is malformed ({e})") from None


@dataclass
class DiaryState:
    """What the diary keeps, decrypted; ``to_json`` is the plaintext inside ``diary.box``."""

    next_id: int = 1
    check_in: CheckIn | None = None
    #: the stay in progress was reported: its visit is marked reported at check-out
    check_in_reported: bool = False
    visits: list[StoredVisit] = field(default_factory=list)
    warnings: list[StoredWarning] = field(default_factory=list)
    #: visits this person reported as a case
    reported: set[int] = field(default_factory=set)
    authority: AuthorityPublicKeys | None = None
    #: the authority's signed configuration payload, as downloaded
    config: bytes | None = None
    last_sequence: int = -1
    bundles: list[StoredBundle] = field(default_factory=list)
    indexes: list[StoredIndex] = field(default_factory=list)
    #: the shards fetched of each index, kept when the indexes are forgotten (--refetch)
    plans: list[FetchPlan] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "version": STATE_VERSION,
            "next_id": self.next_id,
            "check_in": None if self.check_in is None else _check_in_to_json(self.check_in),
            "visits": [v.to_json() for v in self.visits],
            "warnings": [w.to_json() for w in self.warnings],
            "authority": None if self.authority is None else public_to_json(self.authority),
            "config": None if self.config is None else self.config.hex(),
            "last_sequence": self.last_sequence,
            "bundles": [b.to_json() for b in self.bundles],
            "indexes": [i.to_json() for i in self.indexes],
            "plans": [p.to_json() for p in self.plans],
            "reported": sorted(self.reported),
        }
        if self.check_in_reported:
            doc["check_in_reported"] = True
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DiaryState:
        check_in, authority, config = doc["check_in"], doc["authority"], doc["config"]
        return cls(
            next_id=int(doc["next_id"]),
            check_in=None if check_in is None else _check_in_from_json(check_in),
            check_in_reported=bool(doc.get("check_in_reported", False)),
            visits=[StoredVisit.from_json(v) for v in doc["visits"]],
            warnings=[StoredWarning.from_json(w) for w in doc["warnings"]],
            reported={int(i) for i in doc.get("reported", [])},
            authority=None if authority is None else public_from_json(authority),
            config=None if config is None else bytes.fromhex(config),
            last_sequence=int(doc["last_sequence"]),
            bundles=[StoredBundle.from_json(b) for b in doc["bundles"]],
            # diaries written before the index path have neither
            indexes=[StoredIndex.from_json(i) for i in doc.get("indexes", [])],
            plans=[FetchPlan.from_json(p) for p in doc.get("plans", [])],
        )


# --- the diary ---------------------------------------------------------------------


def uses_key_file(directory: Path) -> str:
    """Why a passphrase cannot open the diary in ``directory``: it has a key file."""
    return (
        f"the diary in {directory} is protected by its key file, not a passphrase: "
        "leave out --passphrase, --passphrase-file and PLACECODE_PASSPHRASE"
    )


def _pad(plain: bytes) -> bytes:
    """JSON padded with spaces (which JSON ignores) to a bucket's size."""
    size = PAD_MIN_BYTES
    while size < len(plain):
        size *= 2
    return plain.ljust(size, b" ")


def _derive_key(passphrase: str, salt: bytes) -> bytes:
    """Argon2id (libsodium's, parallelism 1): byte-identical to argon2-cffi's with these costs."""
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode(),
        salt,
        opslimit=ARGON2_TIME_COST,
        memlimit=ARGON2_MEMORY_KIB * 1024,
    )


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
    """The encrypted diary in ``directory``. Nothing is written until ``save()``.

    ``random`` is the diary's source of randomness: nonces, dummy uploads.
    """

    def __init__(
        self,
        directory: Path,
        box: nacl.secret.SecretBox,
        state: DiaryState,
        random: RandomBytes,
    ) -> None:
        self.directory = directory
        self.random = random
        self._box = box
        self._state = state

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
        if passphrase is not None and not passphrase.strip():
            raise DiaryError("an empty passphrase protects nothing: choose a real one")
        try:
            if salt_path.exists():
                if passphrase is None:
                    raise DiaryError(
                        f"the diary in {directory} is protected by a passphrase: "
                        "pass --passphrase to be asked for it (or, in scripts, "
                        "--passphrase-file or PLACECODE_PASSPHRASE)"
                    )
                key = _derive_key(passphrase, salt_path.read_bytes())
            elif key_path.exists():
                if passphrase is not None:
                    raise DiaryError(uses_key_file(directory))
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
            return cls(directory, box, DiaryState(), random)
        try:
            doc = json.loads(box.decrypt(box_path.read_bytes()))
        except (nacl.exceptions.CryptoError, ValueError):
            raise DiaryError(
                f"cannot open the diary in {directory}: wrong passphrase, or the file is damaged"
            ) from None
        except OSError as e:
            raise DiaryError(f"cannot read the diary in {directory}: {e.strerror}") from None
        if doc.get("version") != STATE_VERSION:
            raise DiaryError(f"the diary in {directory} was written by a newer app")
        try:
            state = DiaryState.from_json(doc)
        except (KeyError, TypeError, ValueError, Error):
            raise DiaryError(f"the diary in {directory} is damaged") from None
        return cls(directory, box, state, random)

    def save(self) -> None:
        plain = _pad(json.dumps(self._state.to_json(), separators=(",", ":")).encode())
        nonce = self.random(nacl.secret.SecretBox.NONCE_SIZE)
        write_private(self.directory / DIARY_FILE, bytes(self._box.encrypt(plain, nonce)))

    def new_id(self) -> int:
        """A fresh id for a visit or a warning."""
        n = self._state.next_id
        self._state.next_id = n + 1
        return n

    # --- check-in and check-out ------------------------------------------------------

    @property
    def checked_in(self) -> CheckIn | None:
        return self._state.check_in

    @property
    def visits(self) -> list[StoredVisit]:
        return sorted(self._state.visits, key=lambda s: s.visit.entered_at)

    def _close(self, state: CheckIn, left_at: int) -> StoredVisit:
        stored = StoredVisit(self.new_id(), state.check_out(left_at))
        self._state.visits.append(stored)
        self._state.check_in = None
        if self._state.check_in_reported:
            self._state.check_in_reported = False
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
        self._state.check_in = state
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
                self._state.visits = [v for v in self._state.visits if v.id != visit_id]
                self._state.warnings = [w for w in self._state.warnings if w.visit_id != visit_id]
                return stored
        raise DiaryError(
            f"there is no visit #{visit_id} in your diary (see `placecode visit list`)"
        )

    @property
    def retention_days(self) -> int:
        config = self.config
        return config.retention_days if config else c.RETENTION_DAYS

    def purge(self, now: int) -> int:
        """Deletes visits and bundles older than the retention period; returns visits deleted.

        A bundle goes by the hours its signed header covers. Bundle files the
        diary no longer lists and will not ask for again are removed too.
        """
        cutoff = now - self.retention_days * 86400
        old = [s.id for s in self.visits if s.visit.left_at <= cutoff]
        for visit_id in old:
            self.delete(visit_id)
        self._state.bundles = [b for b in self._state.bundles if (b.last_hour + 1) * 3600 > cutoff]
        self._state.indexes = [i for i in self._state.indexes if (i.last_hour + 1) * 3600 > cutoff]
        self._state.plans = [p for p in self._state.plans if (p.last_hour + 1) * 3600 > cutoff]
        listed = {b.sequence for b in self._state.bundles}
        for path in (self.directory / BUNDLE_DIR).glob("*.bin"):
            if path.stem.isdigit() and int(path.stem) not in listed:
                if int(path.stem) <= self._state.last_sequence:
                    path.unlink(missing_ok=True)
        indexed = {i.sequence for i in self._state.indexes}
        for path in (self.directory / INDEX_DIR).glob("*.bin"):
            sequence = path.stem.partition("-")[0]
            if sequence.isdigit() and int(sequence) not in indexed:
                if int(sequence) <= self._state.last_sequence:
                    path.unlink(missing_ok=True)
        return len(old)

    # --- warnings ----------------------------------------------------------------------

    @property
    def warnings(self) -> list[StoredWarning]:
        return list(self._state.warnings)

    def warning(self, warning_id: int) -> StoredWarning:
        for w in self.warnings:
            if w.id == warning_id:
                return w
        raise DiaryError(f"there is no warning #{warning_id} (see `placecode visit warnings`)")

    def set_warnings(self, warnings: Sequence[StoredWarning]) -> None:
        """Replaces the warnings with the outcome of matching."""
        self._state.warnings = list(warnings)

    def mark_contacted(self, warning_id: int, now: int) -> StoredWarning:
        """Notes that contact details were sent for a warning."""
        warning = self.warning(warning_id)
        warning.contacted_at = now
        return warning

    def mark_reported(self, visit_ids: Sequence[int | None]) -> None:
        """Visits this person reported as a case: their own entries will not warn them.

        ``None`` stands for the stay in progress, reported up to now: the visit
        it becomes at check-out is marked then.
        """
        self._state.reported |= {i for i in visit_ids if i}
        if None in visit_ids and self._state.check_in is not None:
            self._state.check_in_reported = True

    @property
    def reported(self) -> set[int]:
        return set(self._state.reported)

    # --- the authority and its bundles ------------------------------------------------

    @property
    def authority(self) -> AuthorityPublicKeys | None:
        return self._state.authority

    @property
    def config(self) -> ServiceConfig | None:
        payload = self._state.config
        return None if payload is None else ServiceConfig.parse(payload)

    @property
    def config_issued_at(self) -> int | None:
        """§14 When the configuration this diary holds was issued: an older one is refused."""
        payload = self._state.config
        if payload is None:
            return None
        issued = json.loads(payload).get("issued_at")
        return issued if isinstance(issued, int) else None

    def pin(self, authority: AuthorityPublicKeys, config_payload: bytes) -> None:
        """Trusts ``authority`` and keeps its verified configuration."""
        self._state.authority = authority
        self._state.config = config_payload

    @property
    def last_sequence(self) -> int:
        return self._state.last_sequence

    def _bundle_path(self, sequence: int) -> Path:
        return self.directory / BUNDLE_DIR / f"{sequence}.bin"

    def add_bundles(self, bundles: Sequence[tuple[Bundle, bytes]]) -> None:
        """Keeps verified bundles, in sequence order, after those already kept."""
        (self.directory / BUNDLE_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
        for bundle, data in bundles:
            sequence = bundle.header.sequence
            self._bundle_path(sequence).write_bytes(data)
            self._state.bundles.append(
                StoredBundle(sequence, hashlib.sha256(data).hexdigest(), bundle.header.last_hour)
            )
            self._state.last_sequence = sequence

    def bundles(self) -> list[Bundle]:
        """The stored bundles, verified again: a file changed on disk is refused."""
        authority = self.authority
        if authority is None:
            return []
        out = []
        for stored in self._state.bundles:
            path = self._bundle_path(stored.sequence)
            try:
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != stored.sha256:
                    raise crypto.VerificationError()
                out.append(Bundle.verify(data, authority))
            except (OSError, crypto.VerificationError):
                raise BundleRejected(
                    f"the stored bundle {path} was changed or removed: run "
                    "`placecode visit sync --refetch` to download the bundles again"
                ) from None
        return out

    def holds(self, sequence: int) -> bool:
        """Whether the diary keeps the bundle of this sequence, or its index."""
        return any(b.sequence == sequence for b in self._state.bundles) or any(
            i.sequence == sequence for i in self._state.indexes
        )

    def _index_path(self, sequence: int, shard: int | None = None) -> Path:
        name = f"{sequence}.bin" if shard is None else f"{sequence}-{shard}.bin"
        return self.directory / INDEX_DIR / name

    def add_indexed(self, index: Index, data: bytes, shards: Sequence[tuple[Shard, bytes]]) -> None:
        """Keeps a verified index and the verified shards fetched of it, after those kept."""
        (self.directory / INDEX_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
        sequence = index.header.sequence
        self._index_path(sequence).write_bytes(data)
        for shard, raw in shards:
            self._index_path(sequence, shard.number).write_bytes(raw)
        self._state.indexes.append(
            StoredIndex(
                sequence,
                hashlib.sha256(data).hexdigest(),
                index.header.last_hour,
                tuple((s.number, hashlib.sha256(raw).hexdigest()) for s, raw in shards),
            )
        )
        numbers = tuple(s.number for s, _ in shards)
        self._state.plans = [p for p in self._state.plans if p.sequence != sequence]
        self._state.plans.append(FetchPlan(sequence, index.header.last_hour, numbers))
        self._state.last_sequence = sequence

    def fetched_before(self, sequence: int) -> tuple[int, ...] | None:
        """The shards fetched of index ``sequence`` before (kept across --refetch), if any."""
        for plan in self._state.plans:
            if plan.sequence == sequence:
                return plan.shards
        return None

    def indexed(self) -> list[ShardedBundle]:
        """The stored indexes with their shards, verified again: a changed file is refused."""
        authority = self.authority
        if authority is None:
            return []
        out = []
        for stored in self._state.indexes:
            path = self._index_path(stored.sequence)
            try:
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != stored.sha256:
                    raise crypto.VerificationError()
                index = Index.verify(data, authority)
                shards = []
                for number, sha256 in stored.shards:
                    path = self._index_path(stored.sequence, number)
                    raw = path.read_bytes()
                    if hashlib.sha256(raw).hexdigest() != sha256:
                        raise crypto.VerificationError()
                    shards.append(Shard.verify(raw, authority, index, number))
                out.append(ShardedBundle(index, tuple(shards)))
            except (OSError, crypto.VerificationError):
                raise BundleRejected(
                    f"the stored index file {path} was changed or removed: run "
                    "`placecode visit sync --refetch` to download it again"
                ) from None
        return out

    def index_file(self, sequence: int) -> bytes | None:
        """The bytes of ``indexes/<sequence>.bin`` if there is such a file, kept or not."""
        try:
            return self._index_path(sequence).read_bytes()
        except OSError:
            return None

    def tags_to_check(self, now: int) -> list[bytes]:
        """Protocol §18: every tag that can match a bundle signed up to ``now``.

        The tags of the visits not reported as this person's own, and of the
        hours of a check-in in progress up to now: no entry counts for a minute
        after its bundle was signed (§12), so no later tag can match it.
        """
        reported = self._state.reported
        tags = [s.tag for v in self.visits if v.id not in reported for s in v.visit.slots]
        current = self._state.check_in
        if current is not None and not self._state.check_in_reported:
            left = min(max(now, current.entered_at + 1), current.auto_checkout_at)
            if left > current.entered_at:
                tags += [s.tag for s in current.check_out(left).slots]
        return sorted(set(tags))

    def bundle_file(self, sequence: int) -> bytes | None:
        """The bytes of ``bundles/<sequence>.bin`` if there is such a file, kept or not.

        Sync offers them with ``If-None-Match``, and verifies them like a download.
        """
        try:
            return self._bundle_path(sequence).read_bytes()
        except OSError:
            return None

    def forget_bundles(self) -> None:
        """Forgets every bundle, so the next sync downloads all again.

        The files stay until then: an unchanged one is not downloaded twice.
        """
        self._state.bundles = []
        self._state.indexes = []
        self._state.last_sequence = -1

    def forget_plans(self) -> None:
        """Forgets which shards were fetched (another authority: its sequences are new)."""
        self._state.plans = []


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
