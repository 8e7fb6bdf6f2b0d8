"""placecode/1 written a second time, from ``docs/protocol.md`` alone.

This module exists so that a misreading of the spec cannot hide in the
reference package: it was written by reading the specification and the test
vectors, never the reference code, and it shares no structure, names or
helpers with it. Where the spec left a choice open the reading taken here is
the one the spec's text decides (gaps found while writing it were fixed in
the spec, not here).

Its shape is deliberately its own: records are ``NamedTuple``s, refusals are
one exception class carrying the spec's error name, integers go through
``int.to_bytes``/``int.from_bytes`` at explicit offsets, base32 is a small
table-driven codec, and bundle lookup is ``bisect`` over a lazy tag column.
Primitives come only from ``cryptography`` and PyNaCl: signing keys,
X25519, sealed boxes and the §2 point check from libsodium, hashes, HMAC,
HKDF, AES-GCM and Ed25519 verification from ``cryptography``.

Section numbers in comments are the spec's.
"""

from __future__ import annotations

import base64
import bisect
import hmac
import json
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import nacl.bindings as sodium
import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.signing
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as mac_module
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# --------------------------------------------------------------------------
# refusals (§2 "Errors")

DECODE = "DecodeError"
CODE = "CodeError"
VERIFICATION = "VerificationError"
PROGRAMMING = "Error"

OPAQUE_TEXT = "verification failed"
NOT_OURS = "this is not a placecode QR code"
QR_TRUNCATED = "this placecode QR code is truncated"
QR_BAD_NAME = "this placecode QR code has a damaged venue name"
QR_BAD_KEY = "this placecode QR code carries an invalid venue key: do not use it"
CODE_FUTURE = "this code is dated in the future: check the time on this device"
CODE_EXPIRED = "this code expired: scan the live code on the venue's screen"
CODE_UNSIGNED = "this code was not signed by the venue: do not use it"
CODE_OTHER = "this is not the code you checked in with"
UPLOAD_FOREIGN = "this is not a placecode/1 upload"


class Refusal(Exception):
    """Anything this implementation refuses; ``kind`` is the spec's error name."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text


def opaque() -> Refusal:
    """The one verification failure of §2: it never says which check failed."""
    return Refusal(VERIFICATION, OPAQUE_TEXT)


def not_ours() -> Refusal:
    return Refusal(DECODE, NOT_OURS)


# --------------------------------------------------------------------------
# bytes and numbers (§2 "Notation")


def be(width: int, value: int) -> bytes:
    """``u8``/``u16``/``u32``/``u64``: fixed-width big-endian."""
    return value.to_bytes(width, "big")


def num(data: bytes, at: int, width: int) -> int:
    return int.from_bytes(data[at : at + width], "big")


def view_num(view: memoryview, at: int, width: int) -> int:
    return int.from_bytes(view[at : at + width], "big")


def words(*parts: str) -> bytes:
    """A domain label: ``placecode/1`` and the word(s) that follow it (§2 "Labels")."""
    return ("placecode/1 " + " ".join(parts)).encode("ascii")


# --------------------------------------------------------------------------
# primitives (§2): thin calls into cryptography and PyNaCl, nothing else


def sha256(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def hmac256(key: bytes, message: bytes) -> bytes:
    tagger = mac_module.HMAC(key, hashes.SHA256())
    tagger.update(message)
    return tagger.finalize()


def hkdf32(ikm: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(ikm)


def gcm_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def gcm_open(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise opaque() from None


def ed_public(seed: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def ed_sign(seed: bytes, message: bytes) -> bytes:
    return nacl.signing.SigningKey(seed).sign(message).signature


def point_ok(public: bytes) -> bool:
    """§2 rule 1: a canonical point of prime order, as libsodium decides it."""
    return len(public) == 32 and sodium.crypto_core_ed25519_is_valid_point(public)


def ed_holds(public: bytes, message: bytes, signature: bytes, *, scanned: bool) -> bool:
    """Ed25519 verification as §2 pins it; a scanned (venue) key must pass rule 1 first.

    Rule 2 is the cofactorless equation with a canonical ``S``, which is what
    OpenSSL checks. libsodium's own verify is not used here: it also refuses a
    small-order ``R``, which rule 2 accepts (see ``test_cleanroom``).
    """
    if len(public) != 32 or len(signature) != 64:
        return False
    if scanned and not point_ok(public):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def x25519_public(secret: bytes) -> bytes:
    return sodium.crypto_scalarmult_base(secret)


def box_seal(recipient: bytes, message: bytes, ephemeral_secret: bytes) -> bytes:
    """libsodium's ``crypto_box_seal`` with a chosen ephemeral secret (§2, §17)."""
    ephemeral_public = x25519_public(ephemeral_secret)
    nonce = nacl.hash.blake2b(
        ephemeral_public + recipient, digest_size=24, encoder=nacl.encoding.RawEncoder
    )
    boxed = sodium.crypto_box_easy(message, nonce, recipient, ephemeral_secret)
    return ephemeral_public + boxed


def box_open(secret: bytes, sealed: bytes) -> bytes:
    try:
        return nacl.public.SealedBox(nacl.public.PrivateKey(secret)).decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise opaque() from None


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


# --------------------------------------------------------------------------
# the test vectors' randomness (§17)


def counter_stream(seed: bytes) -> Callable[[int], bytes]:
    """``random(n)``: SHA-256 blocks of ``seed || u32 k``, each call on fresh blocks."""
    position = [0]

    def draw(n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += sha256(seed + be(4, position[0]))
            position[0] += 1
        return out[:n]

    return draw


# --------------------------------------------------------------------------
# venue codes (§3)

POSTER = 1
SCREEN = 2


class Minted(NamedTuple):
    """Everything the owner's tool derives for one poster generation or screen day."""

    kind: int
    number: int
    code_key: bytes
    seed: bytes
    public: bytes
    bound: bytes
    cid: bytes


def mint(secret: bytes, kind: int, number: int) -> Minted:
    if len(secret) != 32 or kind not in (POSTER, SCREEN) or not 0 <= number < 2**32:
        raise Refusal(PROGRAMMING, "bad venue secret, kind or number")
    context = (b"poster" if kind == POSTER else b"day") + be(4, number)
    code_key = hkdf32(secret, words("code") + context)
    seed = hkdf32(secret, words("venue-sign") + context)
    public = ed_public(seed)
    bound = bind(code_key, kind, public)
    return Minted(kind, number, code_key, seed, public, bound, fingerprint(bound))


def bind_info(kind: int, public: bytes) -> bytes:
    return words("bind") + be(1, kind) + public


def bind(code_key: bytes, kind: int, public: bytes) -> bytes:
    """The bound key ``K`` (§6): the code key tied to the code's kind and public key."""
    return hkdf32(code_key, bind_info(kind, public))


def fingerprint(bound: bytes) -> bytes:
    """``code_id`` (§3, §6)."""
    return sha256(words("code-id") + bound)


# --------------------------------------------------------------------------
# presence proofs (§5)


class Stamp(NamedTuple):
    """A presence proof: a screen day's signature over its code id and an epoch."""

    epoch: int
    sig: bytes


def stamp_message(cid: bytes, epoch: int) -> bytes:
    return words("presence") + cid + be(4, epoch)


def stamp(minted: Minted, epoch: int) -> Stamp:
    return Stamp(epoch, ed_sign(minted.seed, stamp_message(minted.cid, epoch)))


def stamp_holds(s: Stamp, public: bytes, cid: bytes) -> bool:
    return ed_holds(public, stamp_message(cid, s.epoch), s.sig, scanned=True)


# --------------------------------------------------------------------------
# QR payload and URL (§4)

URL_HEAD = "HTTPS://PLACECODE.APP/V#"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B32_VALUE = {letter: index for index, letter in enumerate(B32)}
ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
ASCII_SPACE = " \t\n\x0b\x0c\r"


class Card(NamedTuple):
    """A scanned (or printed) venue code."""

    kind: int
    code_key: bytes
    venue_key: bytes
    category: int
    stay_minutes: int
    name: str
    stamp: Stamp | None


def card_bytes(card: Card) -> bytes:
    name = card.name.encode("utf-8")
    if len(name) > 40 or not 1 <= card.stay_minutes <= 720 or not 0 <= card.category <= 255:
        raise Refusal(PROGRAMMING, "venue code field out of range")
    if (card.stamp is None) != (card.kind == POSTER):
        raise Refusal(PROGRAMMING, "a screen code carries a proof and a poster none")
    out = bytes([1, card.kind]) + card.code_key + card.venue_key
    out += bytes([card.category]) + be(2, card.stay_minutes) + bytes([len(name)]) + name
    if card.stamp is not None:
        out += be(4, card.stamp.epoch) + card.stamp.sig
    return out


def read_card(payload: bytes) -> Card:
    """``from_bytes`` (§4 step 5), each refusal in the spec's order."""
    size = len(payload)
    if size < 70:
        raise not_ours()
    version = payload[0]
    if version == 0 or version > 15:
        raise not_ours()
    if version != 1:
        raise Refusal(
            DECODE,
            f"this QR code uses placecode version {version}, "
            "which this app does not know: update the app",
        )
    kind = payload[1]
    if kind not in (POSTER, SCREEN):
        raise not_ours()
    code_key, venue_key = payload[2:34], payload[34:66]
    if not point_ok(venue_key):
        raise Refusal(DECODE, QR_BAD_KEY)
    category, stay, name_size = payload[66], num(payload, 67, 2), payload[69]
    if name_size > 40:
        raise not_ours()
    after_name = 70 + name_size
    if after_name > size:
        raise Refusal(DECODE, QR_TRUNCATED)
    try:
        name = payload[70:after_name].decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(DECODE, QR_BAD_NAME) from None
    seen: Stamp | None = None
    end = after_name
    if kind == SCREEN:
        end += 68
        if end > size:
            raise Refusal(DECODE, QR_TRUNCATED)
        seen = Stamp(num(payload, after_name, 4), payload[after_name + 4 : end])
    if end != size:
        raise Refusal(DECODE, f"this placecode QR code has {size - end} unexpected bytes")
    if not 1 <= stay <= 720:
        raise not_ours()
    return Card(kind, code_key, venue_key, category, stay, name, seen)


def b32_text(data: bytes) -> str:
    """RFC 4648 base32, upper case, without ``=`` padding."""
    bits = len(data) * 8
    spare = -bits % 5
    value = int.from_bytes(data, "big") << spare
    count = (bits + spare) // 5
    return "".join(B32[(value >> (5 * (count - 1 - i))) & 31] for i in range(count))


def b32_data(text: str) -> bytes:
    """Unpadded base32; the unused low bits of the last character are ignored (§4 step 4)."""
    if len(text) % 8 in (1, 3, 6):
        raise not_ours()
    value = 0
    for letter in text:
        digit = B32_VALUE.get(letter)
        if digit is None:
            raise not_ours()
        value = (value << 5) | digit
    bits = 5 * len(text)
    whole = bits // 8
    return (value >> (bits - 8 * whole)).to_bytes(whole, "big")


def card_url(card: Card) -> str:
    return URL_HEAD + b32_text(card_bytes(card))


def ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def read_url(scanned: str | bytes) -> Card:
    """``from_url`` (§4 steps 1-5)."""
    if isinstance(scanned, bytes):
        try:
            scanned = scanned.decode("utf-8")
        except UnicodeDecodeError:
            raise not_ours() from None
    text = scanned.strip(ASCII_SPACE)
    before, hash_mark, fragment = text.partition("#")
    if not hash_mark:
        raise not_ours()
    if not (ascii_lower(before[:8]) == "https://" or ascii_lower(before[:7]) == "http://"):
        raise not_ours()
    if not fragment or not set(fragment) <= ALNUM:
        raise not_ours()
    return read_card(b32_data(fragment.upper()))


# --------------------------------------------------------------------------
# check-in (§6)


class Cell(NamedTuple):
    """One hour of a stay: the device's slot."""

    hour: int
    lo: int
    hi: int
    tag: bytes
    key: bytes


class Arrival(NamedTuple):
    """A device checked in and not yet checked out."""

    card: Card
    bound: bytes
    entered: int
    stamps: tuple[Stamp, ...]


class Stay(NamedTuple):
    """What a device keeps after check-out: the visit."""

    entered: int
    left: int
    cells: tuple[Cell, ...]
    stamps: tuple[Stamp, ...]
    venue_key: bytes
    cid: bytes
    kind: int
    name: str
    category: int


def hour_tag(bound: bytes, hour: int) -> bytes:
    return hmac256(bound, words("tag") + be(4, hour))[:16]


def hour_key(bound: bytes, hour: int) -> bytes:
    return hkdf32(bound, words("entry") + be(4, hour))


def guard_number(bound: bytes, seen: Stamp) -> str:
    """The live verification number of a proof (§6)."""
    digest = hmac256(bound, words("verify") + be(4, seen.epoch) + seen.sig)
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def live_stamp(card: Card, now: int) -> Stamp:
    """``_check_live``: a screen code must be fresh and signed by its own key."""
    assert card.stamp is not None
    shown_at = card.stamp.epoch * 30
    if shown_at > now + 30:
        raise Refusal(CODE, CODE_FUTURE)
    if now - shown_at > 90:
        raise Refusal(CODE, CODE_EXPIRED)
    bound = bind(card.code_key, card.kind, card.venue_key)
    if not stamp_holds(card.stamp, card.venue_key, fingerprint(bound)):
        raise Refusal(CODE, CODE_UNSIGNED)
    return card.stamp


def arrive(card: Card, now: int) -> Arrival:
    bound = bind(card.code_key, card.kind, card.venue_key)
    if card.kind == POSTER:
        return Arrival(card, bound, now, ())
    return Arrival(card, bound, now, (live_stamp(card, now),))


def rescan(arrival: Arrival, card: Card, now: int) -> Arrival:
    if not same(bind(card.code_key, card.kind, card.venue_key), arrival.bound):
        raise Refusal(CODE, CODE_OTHER)
    if card.kind == POSTER:
        return arrival
    return arrival._replace(stamps=(arrival.stamps[0], live_stamp(card, now)))


def shown_number(arrival: Arrival, now: int) -> str | None:
    if not arrival.stamps:
        return None
    latest = arrival.stamps[-1]
    if now - latest.epoch * 30 > 90:
        return None
    return guard_number(arrival.bound, latest)


def minute_windows(start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """``stay_windows``: whole minutes of ``[start, end)`` cut at hour boundaries."""
    first, last = start // 60, -(-end // 60)
    for hour in range(first // 60, -(-last // 60)):
        base = 60 * hour
        lo, hi = max(first, base) - base, min(last, base + 60) - base
        if lo < hi:
            yield hour, lo, hi


def cells_of(bound: bytes, start: int, end: int) -> tuple[Cell, ...]:
    return tuple(
        Cell(h, lo, hi, hour_tag(bound, h), hour_key(bound, h))
        for h, lo, hi in minute_windows(start, end)
    )


def depart(arrival: Arrival, left: int) -> Stay:
    card = arrival.card
    left = min(left, arrival.entered + 60 * card.stay_minutes)
    if left <= arrival.entered:
        raise Refusal(PROGRAMMING, "a stay must end after it began")
    return Stay(
        entered=arrival.entered,
        left=left,
        cells=cells_of(arrival.bound, arrival.entered, left),
        stamps=arrival.stamps,
        venue_key=card.venue_key,
        cid=fingerprint(arrival.bound),
        kind=card.kind,
        name=card.name,
        category=card.category,
    )


# --------------------------------------------------------------------------
# exposure entries (§7)

CONFIRMED, PROVEN, SELF = 1, 2, 3
SHORTEST_ENTRY, LONGEST_ENTRY = 48, 185


class Claim(NamedTuple):
    """An entry's plaintext."""

    level: int
    lo: int
    hi: int
    note: int
    venue_sig: bytes
    stamps: tuple[Stamp, ...]


def claim_bytes(claim: Claim) -> bytes:
    out = bytes([claim.level, claim.lo, claim.hi, claim.note])
    if claim.level == CONFIRMED:
        return out + claim.venue_sig
    if claim.level == PROVEN:
        return out + bytes([len(claim.stamps)]) + b"".join(be(4, e) + s for e, s in claim.stamps)
    return out


def read_claim(plain: bytes) -> Claim:
    """Parse a decrypted plaintext; anything off is the opaque failure."""
    if len(plain) < 4 or plain[0] not in (CONFIRMED, PROVEN, SELF):
        raise opaque()
    level, lo, hi, note = plain[0], plain[1], plain[2], plain[3]
    venue_sig, end = b"", 4
    stamps: tuple[Stamp, ...] = ()
    if level == CONFIRMED:
        end = 68
        venue_sig = plain[4:68]
    elif level == PROVEN:
        if len(plain) < 5:
            raise opaque()
        count = plain[4]
        end = 5 + 68 * count
        stamps = tuple(
            Stamp(num(plain, at, 4), plain[at + 4 : at + 68]) for at in range(5, end, 68)
        )
        if not 1 <= count <= 2:
            raise opaque()
    if len(plain) != end or not 0 <= lo < hi <= 60:
        raise opaque()
    return Claim(level, lo, hi, note, venue_sig, stamps)


def confirm_message(tag: bytes, lo: int, hi: int) -> bytes:
    return words("venue-confirm") + tag + bytes([lo, hi])


def seal(tag: bytes, key: bytes, claim: Claim, nonce: bytes) -> bytes:
    if len(tag) != 16 or len(key) != 32 or len(nonce) != 12:
        raise Refusal(PROGRAMMING, "tag, key or nonce of the wrong length")
    return tag + nonce + gcm_seal(key, nonce, claim_bytes(claim), tag)


def unseal(entry: bytes, key: bytes) -> Claim:
    if not SHORTEST_ENTRY <= len(entry) <= LONGEST_ENTRY:
        raise opaque()
    tag, nonce, rest = entry[:16], entry[16:28], entry[28:]
    return read_claim(gcm_open(key, nonce, rest, tag))


def coverage(stamps: Sequence[Stamp]) -> tuple[int, int]:
    """``proof_coverage``: Unix minutes ``[lo, hi)`` the proofs vouch for."""
    epochs = sorted(s.epoch for s in stamps)
    lo_s = epochs[0] * 30
    hi_s = epochs[-1] * 30 + 90 if epochs[-1] > epochs[0] else lo_s + 3600
    return lo_s // 60, -(-hi_s // 60)


def evidence_ok(claim: Claim, cell: Cell, stay: Stay) -> bool:
    if claim.level == CONFIRMED:
        message = confirm_message(cell.tag, claim.lo, claim.hi)
        return ed_holds(stay.venue_key, message, claim.venue_sig, scanned=True)
    if claim.level == PROVEN:
        if not all(stamp_holds(s, stay.venue_key, stay.cid) for s in claim.stamps):
            return False
        lo, hi = coverage(claim.stamps)
        base = 60 * cell.hour
        return lo <= base + claim.lo and base + claim.hi <= hi
    return True


def report(stay: Stay, draw: Callable[[int], bytes], note: int = 0) -> list[bytes]:
    """``report_entries``: every minute claimed once, at the strongest level it can carry."""
    lo, hi = coverage(stay.stamps) if stay.stamps else (0, 0)
    sealed: list[bytes] = []
    for cell in stay.cells:
        base = 60 * cell.hour
        inner_lo, inner_hi = max(cell.lo, lo - base), min(cell.hi, hi - base)
        if inner_lo < inner_hi:
            pieces = [
                (SELF, cell.lo, inner_lo, ()),
                (PROVEN, inner_lo, inner_hi, stay.stamps),
                (SELF, inner_hi, cell.hi, ()),
            ]
        else:
            pieces = [(SELF, cell.lo, cell.hi, ())]
        for level, a, b, stamps in pieces:
            if a < b:
                claim = Claim(level, a, b, note, b"", tuple(stamps))
                sealed.append(seal(cell.tag, cell.key, claim, draw(12)))
    return sealed


# --------------------------------------------------------------------------
# authority keys (§9) and bundles (§8)


class Authority(NamedTuple):
    sign_key: bytes
    seal_key: bytes

    @property
    def key_id(self) -> bytes:
        return authority_id(self.sign_key)


def authority_id(sign_key: bytes) -> bytes:
    return sha256(words("key-id") + sign_key)[:8]


def authority_of(sign_seed: bytes, seal_secret: bytes) -> Authority:
    return Authority(ed_public(sign_seed), x25519_public(seal_secret))


class Heading(NamedTuple):
    """A bundle header's fields (the key id is computed from the key)."""

    sequence: int
    created_at: int
    hours: tuple[int, int]  # first and last hour the entries cover (informative)
    messages: tuple[str, ...]
    revoked: tuple[bytes, ...]


def heading_bytes(key_id: bytes, heading: Heading) -> bytes:
    out = b"PCB\x01" + key_id + be(8, heading.sequence) + be(8, heading.created_at)
    first, last = heading.hours
    out += be(4, first) + be(4, last) + be(1, len(heading.messages))
    for text in heading.messages:
        raw = text.encode("utf-8")
        if len(raw) > 1024:
            raise Refusal(PROGRAMMING, "message too long")
        out += be(2, len(raw)) + raw
    return out + be(2, len(heading.revoked)) + b"".join(heading.revoked)


def section_bytes(entries: Sequence[bytes]) -> bytes:
    ordered = sorted(entries)
    if any(not SHORTEST_ENTRY <= len(e) <= LONGEST_ENTRY for e in ordered):
        raise Refusal(PROGRAMMING, "entry of a length outside 48..185")
    ends, total = b"", 0
    for e in ordered:
        total += len(e) - 16
        ends += be(4, total)
    tags = b"".join(e[:16] for e in ordered)
    return be(4, len(ordered)) + tags + ends + b"".join(e[16:] for e in ordered)


def bundle_body(
    key_id: bytes, heading: Heading, authority_entries: Sequence[bytes], public: Sequence[bytes]
) -> bytes:
    return heading_bytes(key_id, heading) + section_bytes(authority_entries) + section_bytes(public)


def bundle_signed_message(body: bytes) -> bytes:
    return words("bundle") + sha256(body)


def make_bundle(
    sign_seed: bytes,
    heading: Heading,
    authority_entries: Sequence[bytes],
    public: Sequence[bytes],
) -> bytes:
    body = bundle_body(authority_id(ed_public(sign_seed)), heading, authority_entries, public)
    return body + ed_sign(sign_seed, bundle_signed_message(body))


class TagColumn(Sequence[bytes]):
    """A section's sorted tags read in place, for ``bisect``."""

    def __init__(self, data: memoryview, at: int, rows: int) -> None:
        self.data, self.at, self.rows = data, at, rows

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, i: Any) -> Any:
        if not isinstance(i, int) or not 0 <= i < self.rows:
            raise IndexError(i)
        start = self.at + 16 * i
        return bytes(self.data[start : start + 16])


class Section(NamedTuple):
    """One verified section: where its columns and payloads lie in the bundle."""

    data: memoryview
    tags_at: int
    rows: int
    payloads_at: int
    payloads_end: int

    def find(self, tag: bytes) -> Iterator[bytes]:
        column = TagColumn(self.data, self.tags_at, self.rows)
        i = bisect.bisect_left(column, tag)
        ends_at = self.tags_at + 16 * self.rows
        size = self.payloads_end - self.payloads_at
        while i < self.rows and column[i] == tag:
            start = view_num(self.data, ends_at + 4 * (i - 1), 4) if i else 0
            stop = view_num(self.data, ends_at + 4 * i, 4)
            if start < stop <= size:
                yield tag + bytes(self.data[self.payloads_at + start : self.payloads_at + stop])
            i += 1


class Published(NamedTuple):
    """A verified bundle."""

    heading: Heading
    official: Section
    public: Section


def read_heading(data: bytes) -> tuple[bytes, Heading, int]:
    """Header fields and where the header ends; any flaw is opaque (§8 step 1)."""
    if len(data) < 37 or data[:4] != b"PCB\x01":
        raise opaque()
    key_id = data[4:12]
    sequence, created = num(data, 12, 8), num(data, 20, 8)
    first, last = num(data, 28, 4), num(data, 32, 4)
    at, messages = 37, []
    for _ in range(data[36]):
        if at + 2 > len(data):
            raise opaque()
        size = num(data, at, 2)
        if size > 1024 or at + 2 + size > len(data):
            raise opaque()
        try:
            messages.append(data[at + 2 : at + 2 + size].decode("utf-8"))
        except UnicodeDecodeError:
            raise opaque() from None
        at += 2 + size
    if at + 2 > len(data):
        raise opaque()
    revoked_count = num(data, at, 2)
    at += 2
    if at + 16 * revoked_count > len(data):
        raise opaque()
    revoked = tuple(data[at + 16 * i : at + 16 * i + 16] for i in range(revoked_count))
    at += 16 * revoked_count
    if first > last:
        raise opaque()
    return key_id, Heading(sequence, created, (first, last), tuple(messages), revoked), at


def locate_section(view: memoryview, body_size: int, at: int) -> tuple[Section, int]:
    if at + 4 > body_size:
        raise opaque()
    count = view_num(view, at, 4)
    payloads_at = at + 4 + 20 * count
    if payloads_at > body_size:
        raise opaque()
    last_end = view_num(view, payloads_at - 4, 4) if count else 0
    end = payloads_at + last_end
    if end > body_size:
        raise opaque()
    return Section(view, at + 4, count, payloads_at, end), end


def open_bundle(data: bytes, authority: Authority, *, after: int = -1) -> Published:
    """``Bundle.verify`` (§8), in the spec's order; every failure is opaque."""
    key_id, heading, header_end = read_heading(data)
    if not same(key_id, authority.key_id):
        raise opaque()
    if len(data) < 64:
        raise opaque()
    body, signature = data[:-64], data[-64:]
    if not ed_holds(authority.sign_key, bundle_signed_message(body), signature, scanned=False):
        raise opaque()
    if heading.sequence <= after:
        raise opaque()
    view = memoryview(data)
    official, at = locate_section(view, len(body), header_end)
    public, at = locate_section(view, len(body), at)
    if at != len(body):
        raise opaque()
    return Published(heading, official, public)


# --------------------------------------------------------------------------
# consent (§10)

CONSENT_PLAIN = 464
CONSENT_SEALED = 512


class Consent(NamedTuple):
    tag: bytes
    hour: int
    lo: int
    hi: int
    contact: str


def consent_bytes(c: Consent) -> bytes:
    contact = c.contact.encode("utf-8")
    if len(contact) > 439 or len(c.tag) != 16 or not 0 <= c.lo < c.hi <= 60:
        raise Refusal(PROGRAMMING, "consent field out of range")
    head = b"\x01" + c.tag + be(4, c.hour) + bytes([c.lo, c.hi]) + be(2, len(contact))
    return (head + contact).ljust(CONSENT_PLAIN, b"\x00")


def seal_consent(c: Consent, seal_key: bytes, ephemeral_secret: bytes) -> bytes:
    return box_seal(seal_key, consent_bytes(c), ephemeral_secret)


def open_consent(sealed: bytes, seal_secret: bytes) -> Consent:
    if len(sealed) != CONSENT_SEALED:
        raise opaque()
    plain = box_open(seal_secret, sealed)
    if len(plain) != CONSENT_PLAIN or plain[0] != 1:
        raise opaque()
    size = num(plain, 23, 2)
    if 25 + size > CONSENT_PLAIN or any(plain[25 + size :]):
        raise opaque()
    try:
        contact = plain[25 : 25 + size].decode("utf-8")
    except UnicodeDecodeError:
        raise opaque() from None
    lo, hi = plain[21], plain[22]
    if not 0 <= lo < hi <= 60:
        raise opaque()
    return Consent(plain[1:17], num(plain, 17, 4), lo, hi, contact)


# --------------------------------------------------------------------------
# venue traces (§11)

TRACE_SLOT = 118


class Vouch(NamedTuple):
    """A confirmed slot: one code-hour the owner vouches for."""

    tag: bytes
    key: bytes
    hour: int
    lo: int
    hi: int
    sig: bytes


def vouch_bytes(v: Vouch) -> bytes:
    return v.tag + v.key + be(4, v.hour) + bytes([v.lo, v.hi]) + v.sig


def read_vouch(raw: bytes) -> Vouch:
    if len(raw) != TRACE_SLOT or not 0 <= raw[52] < raw[53] <= 60:
        raise Refusal(DECODE, "not a confirmed slot")
    return Vouch(raw[:16], raw[16:48], num(raw, 48, 4), raw[52], raw[53], raw[54:])


def codes_in_hour(
    secret: bytes, hour: int, posters: Sequence[int], screen: bool
) -> Iterator[Minted]:
    for generation in posters:
        yield mint(secret, POSTER, generation)
    if screen:
        day = hour // 24
        yield mint(secret, SCREEN, day)
        if hour % 24 < 12 and day > 0:
            yield mint(secret, SCREEN, day - 1)


def vouch_window(
    secret: bytes, start: int, end: int, posters: Sequence[int] = (0,), screen: bool = True
) -> list[Vouch]:
    """``confirm_window`` (§11)."""
    if not 0 < end - start <= 14 * 86400:
        raise Refusal(PROGRAMMING, "a confirmed window lasts from a second to 14 days")
    out = []
    for hour, lo, hi in minute_windows(start, end):
        for minted in codes_in_hour(secret, hour, posters, screen):
            tag = hour_tag(minted.bound, hour)
            sig = ed_sign(minted.seed, confirm_message(tag, lo, hi))
            out.append(Vouch(tag, hour_key(minted.bound, hour), hour, lo, hi, sig))
    return out


def trace_plain(vouches: Sequence[Vouch]) -> bytes:
    return b"\x01" + b"".join(vouch_bytes(v) for v in vouches)


def open_trace(sealed: bytes, seal_secret: bytes) -> list[Vouch]:
    plain = box_open(seal_secret, sealed)
    if len(plain) < 1 + TRACE_SLOT or plain[0] != 1 or (len(plain) - 1) % TRACE_SLOT:
        raise opaque()
    try:
        return [read_vouch(plain[at : at + TRACE_SLOT]) for at in range(1, len(plain), TRACE_SLOT)]
    except Refusal:
        raise opaque() from None


def vouch_entry(v: Vouch, note: int, nonce: bytes) -> bytes:
    return seal(v.tag, v.key, Claim(CONFIRMED, v.lo, v.hi, note, v.sig, ()), nonce)


# --------------------------------------------------------------------------
# matching (§12)


class Alert(NamedTuple):
    """An exposure found for one stay."""

    stay: int
    first_cell: Cell
    minutes: int
    level: int
    message: str


class Hit(NamedTuple):
    cell: int
    lo: int
    hi: int
    level: int
    message: str


def union_length(windows: Sequence[tuple[int, int]]) -> int:
    minutes: set[int] = set()
    for lo, hi in windows:
        minutes.update(range(lo, hi))
    return len(minutes)


def find_exposures(
    stays: Sequence[Stay],
    bundles: Sequence[Published],
    warn_levels: frozenset[int],
    min_minutes: int,
) -> list[Alert]:
    # sorted by tag, then sequence: the highest sequence revoking a tag is written last
    revoker = dict(sorted((t, b.heading.sequence) for b in bundles for t in b.heading.revoked))
    found = []
    for index, stay in enumerate(stays):
        hits: list[Hit] = []
        for n, cell in enumerate(stay.cells):
            for b in bundles:
                if revoker.get(cell.tag, -1) > b.heading.sequence:
                    continue
                signed = b.heading.created_at // 60 - 60 * cell.hour
                sources = [(True, e) for e in b.official.find(cell.tag)]
                sources += [(False, e) for e in b.public.find(cell.tag)]
                for official, entry in sources:
                    try:
                        claim = unseal(entry, cell.key)
                    except Refusal:
                        continue
                    if claim.level == CONFIRMED and not official:
                        continue
                    if claim.level not in warn_levels or not evidence_ok(claim, cell, stay):
                        continue
                    lo, hi = max(claim.lo, cell.lo), min(claim.hi, cell.hi, signed)
                    if lo < hi:
                        table = b.heading.messages
                        text = table[claim.note] if claim.note < len(table) else ""
                        hits.append(Hit(n, lo, hi, claim.level, text))
        if not hits:
            continue

        def overlap(level: int, hits: list[Hit] = hits, cells: int = len(stay.cells)) -> int:
            return sum(
                union_length([(h.lo, h.hi) for h in hits if h.cell == n and h.level <= level])
                for n in range(cells)
            )

        total = overlap(SELF)
        if total < min_minutes:
            continue
        level = min(h.level for h in hits if overlap(h.level) >= min_minutes)
        message = next(h.message for h in hits if h.level == level)
        found.append(Alert(index, stay.cells[hits[0].cell], total, level, message))
    return found


# --------------------------------------------------------------------------
# uploads (§13)

UPLOAD_SIZE = 65536
UPLOAD_MOST = 1336


class Upload(NamedTuple):
    tan: str
    entries: tuple[bytes, ...]
    dummy: bool


def upload_bytes(u: Upload) -> bytes:
    tan = u.tan.encode("ascii")
    if not 1 <= len(tan) <= 32 or len(u.entries) > UPLOAD_MOST:
        raise Refusal(PROGRAMMING, "TAN or entry count out of range")
    if any(not SHORTEST_ENTRY <= len(e) <= LONGEST_ENTRY for e in u.entries):
        raise Refusal(PROGRAMMING, "entry of a length outside 48..185")
    out = b"PCU\x01" + bytes([1 if u.dummy else 0, len(tan)]) + tan.ljust(32, b" ")
    out += be(2, len(u.entries)) + b"".join(bytes([len(e)]) + e for e in u.entries)
    if len(out) > UPLOAD_SIZE:
        raise Refusal(PROGRAMMING, "entries do not fit an upload")
    return out.ljust(UPLOAD_SIZE, b"\x00")


def read_upload(data: bytes) -> Upload:
    """``UploadRequest.from_bytes`` (§13), each refusal with its reason."""
    if len(data) != UPLOAD_SIZE:
        raise Refusal(DECODE, f"an upload is {UPLOAD_SIZE} bytes, not {len(data)}")
    if data[:4] != b"PCU\x01":
        raise Refusal(DECODE, UPLOAD_FOREIGN)
    if data[4] not in (0, 1):
        raise Refusal(DECODE, "unknown upload flag")
    tan_size, field = data[5], data[6:38]
    if not 1 <= tan_size <= 32 or any(c >= 0x80 for c in field):
        raise Refusal(DECODE, "the TAN field is not 1 to 32 ASCII characters")
    if field[tan_size:] != b" " * (32 - tan_size):
        raise Refusal(DECODE, "the TAN is not padded with spaces")
    count = num(data, 38, 2)
    if count > UPLOAD_MOST:
        raise Refusal(DECODE, "too many entries")
    at, entries = 40, []
    for _ in range(count):
        if at >= UPLOAD_SIZE or at + 1 + data[at] > UPLOAD_SIZE:
            raise Refusal(DECODE, "the entries run past the upload")
        size = data[at]
        entries.append(data[at + 1 : at + 1 + size])
        at += 1 + size
    if any(data[at:]):
        raise Refusal(DECODE, "the padding is not zero")
    if any(not SHORTEST_ENTRY <= len(e) <= LONGEST_ENTRY for e in entries):
        raise Refusal(DECODE, "an entry has a length outside 48..185")
    per_tag: dict[bytes, int] = {}
    for e in entries:
        per_tag[e[:16]] = per_tag.get(e[:16], 0) + 1
    if per_tag and max(per_tag.values()) > 3:
        raise Refusal(DECODE, "more than three entries share a tag")
    return Upload(field[:tan_size].decode("ascii"), tuple(entries), data[4] == 1)


# --------------------------------------------------------------------------
# configuration (§14)


class Settings(NamedTuple):
    warn_levels: frozenset[int]
    min_overlap_minutes: int
    retention_days: int
    messages: tuple[str, ...]
    public_url: str | None
    issued_at: int
    shard_min_entries: int  # k (§18)
    shard_fetches: int  # F (§18)


def config_message(payload: bytes) -> bytes:
    return words("config") + payload


def sign_config(sign_seed: bytes, payload: bytes) -> bytes:
    return ed_sign(sign_seed, config_message(payload))


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def short_text(value: object) -> bool:
    """A JSON string of at most 1024 UTF-8 bytes (a lone surrogate is no text)."""
    if not isinstance(value, str):
        return False
    try:
        return len(value.encode("utf-8")) <= 1024
    except UnicodeEncodeError:
        return False


def int_in(value: object, lo: int, hi: int) -> int:
    if not is_int(value) or not lo <= value <= hi:  # type: ignore[operator]
        raise opaque()
    return value  # type: ignore[return-value]


def read_config(
    payload: bytes, signature: bytes, authority: Authority, *, held_issued_at: int | None = None
) -> Settings:
    if not ed_holds(authority.sign_key, config_message(payload), signature, scanned=False):
        raise opaque()
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise opaque() from None
    if not isinstance(doc, dict):
        raise opaque()
    protocol = doc.get("protocol")
    if not is_int(protocol):
        raise opaque()
    if protocol != 1:
        raise Refusal(
            DECODE,
            f"the service speaks placecode/{protocol}, which this app does not know: "
            "update the app",
        )
    keys, policy = doc.get("authority"), doc.get("policy")
    if not isinstance(keys, dict) or not isinstance(policy, dict):
        raise opaque()
    expected = {
        "sign_key": base64.b64encode(authority.sign_key).decode("ascii"),
        "seal_key": base64.b64encode(authority.seal_key).decode("ascii"),
        "key_id": authority.key_id.hex(),
    }
    for field, text in expected.items():
        if not isinstance(keys.get(field), str) or keys[field] != text:
            raise opaque()
    levels = policy.get("warn_levels")
    if not isinstance(levels, list):
        raise opaque()
    warn = frozenset(int_in(level, 1, 3) for level in levels)
    min_overlap = int_in(policy.get("min_overlap_minutes"), 0, 43200)
    retention = int_in(doc.get("retention_days"), 1, 366)
    int_in(doc.get("upload_bytes"), UPLOAD_SIZE, UPLOAD_SIZE)
    int_in(doc.get("consent_bytes"), CONSENT_SEALED, CONSENT_SEALED)
    messages = doc.get("messages")
    if not isinstance(messages, list) or not all(short_text(m) for m in messages):
        raise opaque()
    public_url = doc.get("public_url")  # may be absent: the same as null
    if public_url is not None and not isinstance(public_url, str):
        raise opaque()
    sharding = doc.get("index")
    if not isinstance(sharding, dict):
        raise opaque()
    least = int_in(sharding.get("shard_min_entries"), 1, 2**32 - 1)
    fetches = int_in(sharding.get("shard_fetches"), 0, 64)
    issued = doc.get("issued_at")
    if not is_int(issued):
        raise opaque()
    assert isinstance(issued, int)
    if held_issued_at is not None and issued < held_issued_at:
        raise opaque()
    return Settings(
        warn, min_overlap, retention, tuple(messages), public_url, issued, least, fetches
    )


# --------------------------------------------------------------------------
# compact index and shards (§18)

WORD = 2**64


def finalize(h: int) -> int:
    """MurmurHash3's 64-bit finalizer, as §18 prints it (mod 2^64)."""
    for shift, factor in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB9FE1A85EC53)):
        h = ((h ^ (h >> shift)) * factor) % WORD
    return h ^ (h >> 33)


def salted_key(tag: bytes, salt: int) -> int:
    return int.from_bytes(tag[:8], "big") ^ salt


def fuse_sizes(n: int) -> tuple[int, int]:
    """(segment length L, segment count S) for n keys, §18's printed sizing."""
    span = 4 if n == 0 else min(2 ** math.floor(math.log(n) / math.log(3.33) + 2.25), 262144)
    room = 0
    if n > 1:
        room = math.floor(n * max(1.125, 0.875 + 0.25 * math.log(1000000) / math.log(n)) + 0.5)
    while span > 256 and -(-room // span) < 34:
        span //= 2
    initial = (-(-room // span) - 2) % 2**32
    segments = -(-(((initial + 2) * span) % 2**32) // span)
    return span, 1 if segments <= 2 else segments - 2


def cut_points(prefixes: Sequence[int], k: int) -> list[int]:
    n, out, i = len(prefixes), [], k
    while i < n:
        while i < n and prefixes[i] == prefixes[i - 1]:
            i += 1
        if i >= n:
            break
        out.append(i)
        i += k
    if out and n - out[-1] < k:
        out.pop()
    return out


class Filter(NamedTuple):
    salt: int
    seed: int
    span: int  # L
    segments: int  # S
    cells: bytes

    def holds(self, tag: bytes) -> bool:
        h = finalize((salted_key(tag, self.salt) + self.seed) % WORD)
        print_ = (h ^ (h >> 32)) % 256
        first = (h * self.segments * self.span) // WORD
        second = (first + self.span) ^ ((h >> 18) & (self.span - 1))
        third = (first + 2 * self.span) ^ (h & (self.span - 1))
        return print_ ^ self.cells[first] ^ self.cells[second] ^ self.cells[third] == 0


class Catalogue(NamedTuple):
    """A verified index."""

    heading: Heading
    entry_count: int
    least: int  # k
    edges: tuple[int, ...]  # boundaries
    sieve: Filter

    def where(self, tag: bytes) -> int:
        return bisect.bisect_right(self.edges, int.from_bytes(tag[:4], "big"))

    def span_of(self, number: int) -> tuple[int, int]:
        ends = (0, *self.edges, 2**32)
        return ends[number], ends[number + 1]

    @property
    def shard_total(self) -> int:
        return len(self.edges) + 1


def open_index(data: bytes, authority: Authority, *, after: int = -1, least: int = 1) -> Catalogue:
    """``Index.verify`` (§18), in the spec's order; every failure is opaque."""
    if data[:4] != b"PCI\x01" or len(data) < 4 + 64:
        raise opaque()
    key_id, heading, header_end = read_heading(data[4:])
    if not same(key_id, authority.key_id):
        raise opaque()
    body = data[:-64]
    if not ed_holds(authority.sign_key, words("index") + sha256(body), data[-64:], scanned=False):
        raise opaque()
    if heading.sequence <= after:
        raise opaque()
    at = 4 + header_end
    if at + 12 > len(body):
        raise opaque()
    entry_count, k, total = num(body, at, 4), num(body, at + 4, 4), num(body, at + 8, 4)
    at += 12
    if k < 1 or total < 1 or at + 4 * (total - 1) + 24 > len(body):
        raise opaque()
    edges = tuple(num(body, at + 4 * i, 4) for i in range(total - 1))
    at += 4 * (total - 1)
    if edges and (edges[0] == 0 or any(a >= b for a, b in zip(edges, edges[1:], strict=False))):
        raise opaque()
    if total > 1 and total * k > entry_count:
        raise opaque()
    salt, seed = num(body, at, 8), num(body, at + 8, 8)
    span, segments = num(body, at + 16, 4), num(body, at + 20, 4)
    at += 24
    if span not in {2**b for b in range(2, 19)} or segments < 1:
        raise opaque()
    if at + (segments + 2) * span != len(body):
        raise opaque()
    if total > 1 and k < least:
        raise opaque()
    return Catalogue(heading, entry_count, k, edges, Filter(salt, seed, span, segments, body[at:]))


class Piece(NamedTuple):
    """A verified shard."""

    sequence: int
    number: int
    official: Section
    public: Section


def open_shard(data: bytes, authority: Authority, catalogue: Catalogue, number: int) -> Piece:
    """``Shard.verify`` (§18), in the spec's order; every failure is opaque."""
    if len(data) < 24 + 64 or data[:4] != b"PCS\x01" or not same(data[4:12], authority.key_id):
        raise opaque()
    body = data[:-64]
    if not ed_holds(authority.sign_key, words("shard") + sha256(body), data[-64:], scanned=False):
        raise opaque()
    sequence, got = num(data, 12, 8), num(data, 20, 4)
    if sequence != catalogue.heading.sequence or got != number or number >= catalogue.shard_total:
        raise opaque()
    view = memoryview(data)
    official, at = locate_section(view, len(body), 24)
    public, at = locate_section(view, len(body), at)
    if at != len(body):
        raise opaque()
    lo, hi = catalogue.span_of(number)
    for part in (official, public):
        column = TagColumn(view, part.tags_at, part.rows)
        if any(not lo <= int.from_bytes(tag[:4], "big") < hi for tag in column):
            raise opaque()
    if catalogue.shard_total > 1 and official.rows + public.rows < catalogue.least:
        raise opaque()
    return Piece(sequence, number, official, public)


def pick_below(draw: Callable[[int], bytes], n: int) -> int:
    ceiling = WORD - WORD % n
    while True:
        value = int.from_bytes(draw(8), "big")
        if value < ceiling:
            return value % n


def plan_fetches(
    catalogue: Catalogue, tags: Sequence[bytes], fetches: int, draw: Callable[[int], bytes]
) -> tuple[list[int], list[int]]:
    """(hit shards, the shards to fetch in order), §18 "Private fetch"."""
    hit = sorted({catalogue.where(t) for t in tags if catalogue.sieve.holds(t)})
    chosen = list(hit)
    while len(chosen) < min(fetches, catalogue.shard_total):
        rest = [n for n in range(catalogue.shard_total) if n not in chosen]
        chosen.append(rest[pick_below(draw, len(rest))])
    for i in range(len(chosen) - 1, 0, -1):
        j = pick_below(draw, i + 1)
        chosen[i], chosen[j] = chosen[j], chosen[i]
    return hit, chosen
