"""Builds ``docs/test-vectors.json``, the placecode/1 test vectors (see docs/protocol.md).

Run ``.venv/bin/python docs/generate_vectors.py`` (or ``make vectors``). The
output depends only on the fixed inputs below: every secret and nonce comes
from :class:`Drbg`, and the one randomness the protocol does not take as a
parameter (the sealed box's ephemeral key) is replaced by a fixed key through
libsodium's own construction, so the sealed bytes are reproducible too.
``tests/crypto/test_vectors.py`` checks that this file's output equals the
committed JSON and replays every vector through the ``crypto`` API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.encoding
import nacl.hash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from placecode.crypto import (  # noqa: E402
    AuthorityKeys,
    Bundle,
    BundleHeader,
    Category,
    EntryContent,
    EvidenceLevel,
    Policy,
    PresenceProof,
    UploadRequest,
    Venue,
    Visit,
    check_in,
    code_id,
    confirm_window,
    entry_key,
    hour_tag,
    match,
    open_entry,
    proof_coverage,
    report_entries,
    seal_entry,
    sign_bundle,
    sign_config,
    verification_code,
)
from placecode.crypto import constants as c  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "test-vectors.json"

DRBG_SEED = b"placecode/1 test vectors"

#: Fixed times (Unix seconds, UTC). Day 20602 is 2026-05-28; DAY_START is its 00:00.
DAY = 20602
DAY_START = DAY * 86400
T_1020 = DAY_START + 10 * 3600 + 20 * 60
T_1025 = DAY_START + 10 * 3600 + 25 * 60
T_1030 = DAY_START + 10 * 3600 + 30 * 60
T_1040 = DAY_START + 10 * 3600 + 40 * 60
T_1100 = DAY_START + 11 * 3600
T_1105 = DAY_START + 11 * 3600 + 5 * 60
T_1110 = DAY_START + 11 * 3600 + 10 * 60
T_1115 = DAY_START + 11 * 3600 + 15 * 60
T_1130 = DAY_START + 11 * 3600 + 30 * 60
T_1145 = DAY_START + 11 * 3600 + 45 * 60
T_1210 = DAY_START + 12 * 3600 + 10 * 60
T_1400 = DAY_START + 14 * 3600
T_1500 = DAY_START + 15 * 3600
BUNDLE_TIME = (DAY + 1) * 86400

VENUE_NAME = "Café Ümlaut"
VENUE_STAY = 180
TAN = "ABCD-EFGH-JKMN"
CONTACT = "Alex Muster, +41 79 000 00 00"
MESSAGES = (
    "You shared a venue with a confirmed case. Watch for symptoms and get tested.",
    "The venue confirmed this outbreak. Get tested today.",
)


class Drbg:
    """``random(n)``: n bytes of SHA-256(DRBG_SEED || u32 k) || SHA-256(DRBG_SEED || u32 k+1) ...

    Every call starts on a fresh block: a call for n bytes consumes ceil(n / 32)
    blocks and drops the unused tail of the last one.
    """

    def __init__(self) -> None:
        self.counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(DRBG_SEED + self.counter.to_bytes(4, "big")).digest()
            self.counter += 1
        return out[:n]


def sealed_box(plaintext: bytes, recipient: bytes, ephemeral_secret: bytes) -> bytes:
    """libsodium's crypto_box_seal with a chosen ephemeral secret instead of a random one.

    epk || crypto_box_easy(m, nonce = BLAKE2b-192(epk || pk), pk, esk): the bytes
    crypto_box_seal would produce had it drawn ``ephemeral_secret``.
    """
    epk = nacl.bindings.crypto_scalarmult_base(ephemeral_secret)
    nonce = nacl.hash.blake2b(epk + recipient, digest_size=24, encoder=nacl.encoding.RawEncoder)
    return epk + nacl.bindings.crypto_box_easy(plaintext, nonce, recipient, ephemeral_secret)


def _hex(data: bytes) -> str:
    return data.hex()


def _content(content: EntryContent) -> dict[str, Any]:
    return {
        "level": int(content.level),
        "start_minute": content.start_minute,
        "end_minute": content.end_minute,
        "message_id": content.message_id,
        "venue_signature": _hex(content.venue_signature) if content.venue_signature else None,
        "proofs": [{"epoch": p.epoch, "signature": _hex(p.signature)} for p in content.proofs],
        "plaintext": _hex(content.to_bytes()),
    }


def _visit(visit: Visit) -> dict[str, Any]:
    return {
        "kind": visit.kind,
        "venue_public_key": _hex(visit.venue_public_key),
        "code_id": _hex(visit.code_id),
        "entered_at": visit.entered_at,
        "left_at": visit.left_at,
        "proofs": [{"epoch": p.epoch, "signature": _hex(p.signature)} for p in visit.proofs],
        "slots": [
            {
                "hour": s.hour,
                "start_minute": s.start_minute,
                "end_minute": s.end_minute,
                "tag": _hex(s.tag),
                "key": _hex(s.key),
            }
            for s in visit.slots
        ],
    }


def _stay(
    venue: Venue, kind: int, entered_at: int, left_at: int, rescan_at: int | None = None
) -> tuple[dict[str, Any], Visit]:
    """A device's stay: it scans at ``entered_at``, maybe rescans, and checks out."""
    code = venue.poster(0) if kind == c.KIND_POSTER else venue.screen(entered_at)
    state = check_in(code, entered_at)
    step: dict[str, Any] = {"code_url": code.to_url(), "entered_at": entered_at}
    if rescan_at is not None:
        state = state.rescan(venue.screen(rescan_at), rescan_at)
        step["rescan_url"] = venue.screen(rescan_at).to_url()
        step["rescan_at"] = rescan_at
    step["left_at"] = left_at
    visit = state.check_out(left_at)
    step["visit"] = _visit(visit)
    return step, visit


def _entries(visit: Visit, random: Drbg, message_id: int) -> list[dict[str, Any]]:
    """report_entries for ``visit``, with the inputs of each sealed entry spelled out."""
    start = random.counter
    sealed = report_entries(visit, random, message_id)
    random.counter = start
    slots = {slot.tag: slot for slot in visit.slots}
    out = []
    for entry in sealed:
        slot = slots[entry[: c.TAG_BYTES]]
        nonce = random(c.NONCE_BYTES)
        content = open_entry(entry, slot.key)
        assert seal_entry(slot.tag, slot.key, content, nonce) == entry
        out.append(
            {
                "hour": slot.hour,
                "tag": _hex(slot.tag),
                "key": _hex(slot.key),
                "nonce": _hex(nonce),
                "content": _content(content),
                "entry": _hex(entry),
                "length": len(entry),
            }
        )
    return out


def _upload(request: UploadRequest) -> dict[str, Any]:
    data = request.to_bytes()
    used = c.UPLOAD_HEAD_BYTES + sum(1 + len(e) for e in request.entries)
    return {
        "tan": request.tan,
        "dummy": request.dummy,
        "entries": [_hex(e) for e in request.entries],
        "head": _hex(data[:used]),
        "zero_padding": len(data) - used,
        "length": len(data),
        "sha256": _hex(hashlib.sha256(data).digest()),
    }


def build_vectors() -> dict[str, Any]:
    """Every vector, as a JSON-ready dict; the same call always gives the same dict."""
    random = Drbg()
    v: dict[str, Any] = {
        "protocol": "placecode/1",
        "description": (
            "Test vectors for docs/protocol.md, made by docs/generate_vectors.py. "
            "Bytes are lowercase hex; times are Unix seconds (UTC), hours Unix hours, "
            "epochs 30-second Unix epochs."
        ),
        "random": {
            "construction": (
                "random(n) returns the first n bytes of SHA-256(seed || u32 k) || "
                "SHA-256(seed || u32 k+1) || ..., with k a counter that starts at 0 and "
                "advances by one per 32-byte block used; every call starts on a fresh "
                "block and drops the unused tail. Every input below drawn from it is "
                "also given in hex, so no implementation needs it."
            ),
            "seed": _hex(DRBG_SEED),
            "first_outputs": [],
        },
    }
    probe = Drbg()
    v["random"]["first_outputs"] = [_hex(probe(32)), _hex(probe(12)), _hex(probe(40))]

    # §9 Authority keys.
    authority = AuthorityKeys(random(32), random(32))
    public = authority.public
    v["authority"] = {
        "sign_seed": _hex(authority.sign_seed),
        "seal_secret": _hex(authority.seal_secret),
        "sign_key": _hex(public.sign_key),
        "seal_key": _hex(public.seal_key),
        "key_id": _hex(public.key_id),
    }

    # §3 Venue keys.
    venue = Venue(random(32), VENUE_NAME, Category.CAFE, VENUE_STAY)
    codes = []
    for kind, number in (
        (c.KIND_POSTER, 0),
        (c.KIND_POSTER, 1),
        (c.KIND_SCREEN, DAY - 1),
        (c.KIND_SCREEN, DAY),
    ):
        keys = venue.code_keys(kind, number)
        codes.append(
            {
                "kind": kind,
                "number": number,
                "code_key": _hex(keys.code_key),
                "signing_seed": _hex(keys.signing_seed),
                "public_key": _hex(keys.public_key),
                "code_id": _hex(keys.code_id),
            }
        )
    v["venue"] = {
        "secret": _hex(venue.secret),
        "name": venue.name,
        "name_utf8": _hex(venue.name.encode()),
        "category": int(venue.category),
        "stay_minutes": venue.stay_minutes,
        "codes": codes,
    }

    # §5 Presence proofs.
    day_keys = venue.code_keys(c.KIND_SCREEN, DAY)
    proofs: list[dict[str, Any]] = []
    for at in (T_1020, T_1110):
        epoch = at // c.EPOCH_SECONDS
        proof = day_keys.presence_proof(epoch)
        proofs.append(
            {
                "day": DAY,
                "epoch": epoch,
                "message": _hex(c.PRESENCE_LABEL + day_keys.code_id + epoch.to_bytes(4, "big")),
                "signature": _hex(proof.signature),
            }
        )
    v["presence_proofs"] = proofs

    # §4 QR payloads.
    poster = venue.poster(0)
    screen = venue.screen(T_1020)
    v["payloads"] = [
        {
            "kind": code.kind,
            "at": at,
            "code_key": _hex(code.code_key),
            "venue_public_key": _hex(code.venue_public_key),
            "name": code.name,
            "category": code.category,
            "stay_minutes": code.stay_minutes,
            "proof": None
            if code.proof is None
            else {"epoch": code.proof.epoch, "signature": _hex(code.proof.signature)},
            "bytes": _hex(code.to_bytes()),
            "length": len(code.to_bytes()),
            "url": code.to_url(),
        }
        for code, at in ((poster, None), (screen, T_1020))
    ]
    v["payload_errors"] = _payload_errors(poster.to_bytes())

    # §6 Check-in derivations.
    hours = [T_1020 // 3600 - 1, T_1020 // 3600, T_1020 // 3600 + 1]
    v["check_in"] = {
        "hours": [
            {
                "code_key": _hex(code.code_key),
                "hour": hour,
                "tag": _hex(hour_tag(code.code_key, hour)),
                "entry_key": _hex(entry_key(code.code_key, hour)),
            }
            for code in (poster, screen)
            for hour in hours
        ],
        "verification_codes": [
            {
                "code_key": _hex(screen.code_key),
                "epoch": epoch,
                "code": verification_code(screen.code_key, epoch),
            }
            for epoch in (T_1020 // 30, T_1020 // 30 + 1, T_1110 // 30, 0, 2**32 - 1)
        ],
        "code_id": [
            {"code_key": _hex(code.code_key), "code_id": _hex(code_id(code.code_key))}
            for code in (poster, screen)
        ],
    }

    # §6 Stays of uploaders and §7 their entries.
    screen_step, screen_visit = _stay(venue, c.KIND_SCREEN, T_1020, T_1110, rescan_at=T_1110)
    one_step, one_visit = _stay(venue, c.KIND_SCREEN, T_1020, T_1210)
    poster_step, poster_visit = _stay(venue, c.KIND_POSTER, T_1040, T_1130)
    uploads = {
        "screen_with_exit_proof": (screen_step, _entries(screen_visit, random, 0)),
        "screen_single_proof": (one_step, _entries(one_visit, random, 0)),
        "poster": (poster_step, _entries(poster_visit, random, 0)),
    }
    v["uploader_stays"] = {
        name: {**step, "entries": entries} for name, (step, entries) in uploads.items()
    }

    # §7 One entry of each level, sealed from explicit inputs.
    hour = T_1020 // 3600
    tag, key = hour_tag(screen.code_key, hour), entry_key(screen.code_key, hour)
    sig = day_keys.sign(c.CONFIRM_LABEL + tag + bytes([30, 60]))
    samples = [
        EntryContent(EvidenceLevel.VENUE_CONFIRMED, 30, 60, 1, sig),
        EntryContent(
            EvidenceLevel.PRESENCE_PROVEN,
            20,
            60,
            0,
            None,
            tuple(PresenceProof(p["epoch"], bytes.fromhex(p["signature"])) for p in proofs),
        ),
        EntryContent(EvidenceLevel.SELF_REPORTED, 20, 60, 0),
    ]
    v["entries"] = []
    for content in samples:
        nonce = random(c.NONCE_BYTES)
        sealed = seal_entry(tag, key, content, nonce)
        v["entries"].append(
            {
                "tag": _hex(tag),
                "key": _hex(key),
                "nonce": _hex(nonce),
                "content": _content(content),
                "entry": _hex(sealed),
                "length": len(sealed),
            }
        )

    # §7 Proof coverage.
    e0 = T_1020 // 30
    v["proof_coverage"] = [
        {"epochs": epochs, "minutes": list(proof_coverage(_fake_proofs(epochs)))}
        for epochs in ([e0], [e0, e0 + 100], [e0 + 100, e0, e0 + 3], [e0, e0])
    ]

    # §11 Venue confirmation of 10:30-11:15 under poster 0 and the screen's day codes.
    confirmed = confirm_window(venue, T_1030, T_1115)
    confirmed_entries = []
    for slot in confirmed:
        nonce = random(c.NONCE_BYTES)
        confirmed_entries.append((slot, nonce, slot.seal(1, nonce)))
    trace_plain = bytes([c.PROTOCOL_VERSION]) + b"".join(s.to_bytes() for s in confirmed)
    trace_ephemeral = random(32)
    v["venue_confirmation"] = {
        "start": T_1030,
        "end": T_1115,
        "posters": [0],
        "screen": True,
        "slots": [
            {
                "tag": _hex(s.tag),
                "key": _hex(s.key),
                "hour": s.hour,
                "start_minute": s.start_minute,
                "end_minute": s.end_minute,
                "signature": _hex(s.signature),
                "bytes": _hex(s.to_bytes()),
                "message_id": 1,
                "nonce": _hex(nonce),
                "entry": _hex(entry),
            }
            for s, nonce, entry in confirmed_entries
        ],
        "trace_plaintext": _hex(trace_plain),
        "trace_ephemeral_secret": _hex(trace_ephemeral),
        "trace_sealed": _hex(sealed_box(trace_plain, public.seal_key, trace_ephemeral)),
    }

    # §8 Bundles: an earlier one that a later one revokes a tag of.
    revoked_stay, revoked_visit = _stay(venue, c.KIND_POSTER, T_1400, T_1500)
    revoked_entries = _entries(revoked_visit, random, 0)
    early_header = BundleHeader(
        public.key_id, 6, BUNDLE_TIME - 3600, T_1400 // 3600, T_1400 // 3600, MESSAGES
    )
    early = sign_bundle(
        early_header, [bytes.fromhex(e["entry"]) for e in revoked_entries], authority.signing_key
    )
    published = [bytes.fromhex(e["entry"]) for _, entries in uploads.values() for e in entries]
    published += [entry for _, _, entry in confirmed_entries]
    revoked_tag = revoked_visit.slots[0].tag
    header = BundleHeader(
        public.key_id,
        7,
        BUNDLE_TIME,
        T_1020 // 3600,
        T_1210 // 3600,
        MESSAGES,
        (revoked_tag,),
    )
    bundle = sign_bundle(header, published, authority.signing_key)
    v["bundles"] = [
        _bundle(early_header, early, [bytes.fromhex(e["entry"]) for e in revoked_entries]),
        _bundle(header, bundle, published),
    ]
    v["revoked_stay"] = {**revoked_stay, "entries": revoked_entries}

    # §12 Matching a diary against the bundles.
    diary_steps = [
        _stay(venue, c.KIND_SCREEN, T_1025, T_1105),
        _stay(venue, c.KIND_POSTER, T_1100, T_1145),
        _stay(venue, c.KIND_POSTER, T_1400, T_1500),
        _stay(venue, c.KIND_POSTER, T_1210 + 3600, T_1400),
    ]
    visits = [visit for _, visit in diary_steps]
    verified = [Bundle.verify(data, public) for data in (early, bundle)]
    policies = {
        "default": Policy(),
        "no_self_reported": Policy(
            frozenset({EvidenceLevel.VENUE_CONFIRMED, EvidenceLevel.PRESENCE_PROVEN}), 10
        ),
        "strict_overlap": Policy(min_overlap_minutes=45),
    }
    v["matching"] = {
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

    # §10 Consent.
    exposed = visits[0].slots[0]
    consent_plain = (
        bytes([c.PROTOCOL_VERSION])
        + exposed.tag
        + exposed.hour.to_bytes(4, "big")
        + bytes([exposed.start_minute, exposed.end_minute])
        + len(CONTACT.encode()).to_bytes(2, "big")
        + CONTACT.encode()
    ).ljust(c.CONSENT_PLAINTEXT_BYTES, b"\0")
    ephemeral = random(32)
    v["consent"] = {
        "tag": _hex(exposed.tag),
        "hour": exposed.hour,
        "start_minute": exposed.start_minute,
        "end_minute": exposed.end_minute,
        "contact": CONTACT,
        "plaintext": _hex(consent_plain),
        "ephemeral_secret": _hex(ephemeral),
        "ephemeral_public": _hex(nacl.bindings.crypto_scalarmult_base(ephemeral)),
        "sealed": _hex(sealed_box(consent_plain, public.seal_key, ephemeral)),
    }

    # §13 Uploads.
    v["uploads"] = [
        _upload(UploadRequest(TAN, tuple(bytes.fromhex(e["entry"]) for e in entries)))
        for _, entries in uploads.values()
    ] + [_upload(UploadRequest("DUMMY", (random(c.MIN_ENTRY_BYTES),), dummy=True))]

    # §14 Configuration.
    config = {
        "protocol": 1,
        "authority": {
            "sign_key": _b64(public.sign_key),
            "seal_key": _b64(public.seal_key),
            "key_id": _hex(public.key_id),
        },
        "policy": {"warn_levels": [1, 2, 3], "min_overlap_minutes": 10},
        "retention_days": c.RETENTION_DAYS,
        "upload_bytes": c.UPLOAD_BYTES,
        "consent_bytes": c.CONSENT_BYTES,
        "messages": list(MESSAGES),
        "issued_at": BUNDLE_TIME,
    }
    payload = json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode()
    v["config"] = {
        "payload": _hex(payload),
        "signed_message": _hex(c.CONFIG_LABEL + payload),
        "signature": _hex(sign_config(payload, authority.signing_key)),
    }
    return v


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _fake_proofs(epochs: list[int]) -> tuple[PresenceProof, ...]:
    """Coverage reads only epochs; the signatures here are placeholders, never verified."""
    return tuple(PresenceProof(e, bytes(c.SIGNATURE_BYTES)) for e in epochs)


def _payload_errors(poster: bytes) -> list[dict[str, Any]]:
    """Payloads a receiver refuses, and the error it raises (§4)."""
    name_len_at = 1 + 1 + 32 + 32 + 1 + 2
    cases = [
        ("empty payload", b""),
        ("version 0: not a placecode", b"\x00" + poster[1:]),
        ("unknown version 2: the message asks to update", b"\x02" + poster[1:]),
        ("unknown version 15: the message asks to update", b"\x0f" + poster[1:]),
        ("version 16: not a placecode", b"\x10" + poster[1:]),
        ("unknown kind 3", poster[:1] + b"\x03" + poster[2:]),
        ("one trailing byte", poster + b"\x00"),
        ("truncated by one byte", poster[:-1]),
        ("stay of 0 minutes", poster[: name_len_at - 2] + b"\x00\x00" + poster[name_len_at:]),
        ("stay of 721 minutes", poster[: name_len_at - 2] + b"\x02\xd1" + poster[name_len_at:]),
        ("name longer than 40 bytes", _with_name(poster, name_len_at, b"x" * 41)),
        ("name not UTF-8", _with_name(poster, name_len_at, b"\xff")),
    ]
    return [
        {
            "case": case,
            "bytes": _hex(data),
            "error": "DecodeError",
            "asks_update": bool(data) and 2 <= data[0] <= c.MAX_KNOWN_FUTURE_VERSION,
        }
        for case, data in cases
    ]


def _with_name(poster: bytes, at: int, name: bytes) -> bytes:
    return poster[:at] + bytes([len(name)]) + name


def _bundle(header: BundleHeader, data: bytes, entries: list[bytes]) -> dict[str, Any]:
    head = header.to_bytes()
    ordered = sorted(entries)
    body = data[: -c.SIGNATURE_BYTES]
    return {
        "key_id": _hex(header.key_id),
        "sequence": header.sequence,
        "created_at": header.created_at,
        "first_hour": header.first_hour,
        "last_hour": header.last_hour,
        "messages": list(header.messages),
        "revoked": [_hex(t) for t in header.revoked],
        "header": _hex(head),
        "entries_in": [_hex(e) for e in entries],
        "entries_sorted": [_hex(e) for e in ordered],
        "count": len(ordered),
        "body_sha256": _hex(hashlib.sha256(body).digest()),
        "signature": _hex(data[-c.SIGNATURE_BYTES :]),
        "bytes": _hex(data),
        "length": len(data),
    }


def main() -> None:
    OUTPUT.write_text(render(build_vectors()))
    print(f"wrote {OUTPUT}")


def render(vectors: dict[str, Any]) -> str:
    """The committed text: sorted keys, two-space indent, UTF-8, final newline."""
    return json.dumps(vectors, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    main()
