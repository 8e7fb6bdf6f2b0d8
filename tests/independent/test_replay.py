"""Every vector of docs/test-vectors.json, replayed through the clean-room implementation.

The replay walks the JSON rather than a list of names: a top-level section
with no replay here fails, and so does any field of any vector that no check
read, so a vector added to the file cannot be skipped in silence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.independent import cleanroom as pc

VECTOR_FILE = Path(__file__).resolve().parents[2] / "docs" / "test-vectors.json"
VECTORS: dict[str, Any] = json.loads(VECTOR_FILE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------
# reading the vectors, remembering what was read


class Node:
    """One JSON object of the vectors; it knows which of its fields were read."""

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.raw, self.where = raw, where
        self.read: dict[str, Any] = {}
        self.children: list[Node] = []

    def __getitem__(self, field: str) -> Any:
        assert field in self.raw, f"{self.where} has no field {field!r}"
        if field not in self.read:
            self.read[field] = self.adopt(self.raw[field], f"{self.where}.{field}")
        return self.read[field]

    def adopt(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            child = Node(value, where)
            self.children.append(child)
            return child
        if isinstance(value, list):
            return [self.adopt(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return value

    def hex(self, field: str) -> bytes:
        return bytes.fromhex(self[field])

    def hexes(self, field: str) -> list[bytes]:
        return [bytes.fromhex(item) for item in self[field]]

    def unread(self) -> Iterator[str]:
        for field in self.raw:
            if field not in self.read:
                yield f"{self.where}.{field}"
        for child in self.children:
            yield from child.unread()


def section(name: str) -> Any:
    """A fresh, untracked view of another section (for cross-references)."""
    return Node({name: VECTORS[name]}, "ref")[name]


def authority() -> pc.Authority:
    keys = VECTORS["authority"]
    return pc.Authority(bytes.fromhex(keys["sign_key"]), bytes.fromhex(keys["seal_key"]))


def sign_seed() -> bytes:
    return bytes.fromhex(VECTORS["authority"]["sign_seed"])


def seal_secret() -> bytes:
    return bytes.fromhex(VECTORS["authority"]["seal_secret"])


def venue_secret() -> bytes:
    return bytes.fromhex(VECTORS["venue"]["secret"])


def refused(kind: str, action: Callable[..., object], *args: Any, **kwargs: Any) -> pc.Refusal:
    """``action(*args, **kwargs)`` must refuse with the spec's error ``kind``."""
    with pytest.raises(pc.Refusal) as caught:
        action(*args, **kwargs)
    assert caught.value.kind == kind, caught.value.text
    if kind == pc.VERIFICATION:
        assert caught.value.text == pc.OPAQUE_TEXT
    return caught.value


def nonces(given: list[bytes]) -> Callable[[int], bytes]:
    """A ``random`` that hands out the vector's nonces, in order, and nothing else."""
    queue = list(given)

    def draw(n: int) -> bytes:
        assert n == 12 and queue, "report drew more randomness than the vectors hold"
        return queue.pop(0)

    return draw


# --------------------------------------------------------------------------
# shared checks


def check_claim(claim: pc.Claim, content: Node) -> None:
    assert claim.level == content["level"]
    assert (claim.lo, claim.hi) == (content["start_minute"], content["end_minute"])
    assert claim.note == content["message_id"]
    signature = content["venue_signature"]
    assert claim.venue_sig == (bytes.fromhex(signature) if signature else b"")
    assert list(claim.stamps) == [stamp_of(p) for p in content["proofs"]]
    assert pc.claim_bytes(claim) == content.hex("plaintext")


def claim_of(content: Node) -> pc.Claim:
    signature = content["venue_signature"]
    return pc.Claim(
        content["level"],
        content["start_minute"],
        content["end_minute"],
        content["message_id"],
        bytes.fromhex(signature) if signature else b"",
        tuple(stamp_of(p) for p in content["proofs"]),
    )


def stamp_of(proof: Node) -> pc.Stamp:
    return pc.Stamp(proof["epoch"], proof.hex("signature"))


def check_sealed(entry: Node, sealed: bytes, cell: pc.Cell | None = None) -> pc.Claim:
    """An entry vector against bytes this implementation sealed."""
    tag, key = entry.hex("tag"), entry.hex("key")
    if cell is not None:
        assert (tag, key, entry["hour"]) == (cell.tag, cell.key, cell.hour)
    assert sealed == entry.hex("entry")
    assert len(sealed) == entry["length"]
    assert sealed[:16] == tag and sealed[16:28] == entry.hex("nonce")
    claim = pc.unseal(sealed, key)
    check_claim(claim, entry["content"])
    assert pc.seal(tag, key, claim, sealed[16:28]) == sealed
    return claim


def replay_stay(record: Node) -> pc.Stay:
    """A diary record: check in, maybe rescan, check out; the visit as the vectors give it."""
    arrival = pc.arrive(pc.read_url(record["code_url"]), record["entered_at"])
    if "rescan_url" in record.raw:
        arrival = pc.rescan(arrival, pc.read_url(record["rescan_url"]), record["rescan_at"])
    stay = pc.depart(arrival, record["left_at"])
    check_visit(stay, record["visit"])
    return stay


def check_visit(stay: pc.Stay, visit: Node) -> None:
    assert stay.cid == visit.hex("code_id")
    assert (stay.entered, stay.left) == (visit["entered_at"], visit["left_at"])
    assert stay.kind == visit["kind"]
    assert stay.venue_key == visit.hex("venue_public_key")
    assert list(stay.stamps) == [stamp_of(p) for p in visit["proofs"]]
    cells = [
        pc.Cell(s["hour"], s["start_minute"], s["end_minute"], s.hex("tag"), s.hex("key"))
        for s in visit["slots"]
    ]
    assert list(stay.cells) == cells


def replay_bundle(vector: Node) -> pc.Published:
    """Build the bundle from its fields, compare every byte, then verify and look up."""
    heading = pc.Heading(
        vector["sequence"],
        vector["created_at"],
        (vector["first_hour"], vector["last_hour"]),
        tuple(vector["messages"]),
        tuple(vector.hexes("revoked")),
    )
    official, public = vector.hexes("authority_entries_in"), vector.hexes("entries_in")
    assert len(official) == vector["authority_count"] and len(public) == vector["count"]
    assert sorted(official) == vector.hexes("authority_entries_sorted")
    assert sorted(public) == vector.hexes("entries_sorted")
    key_id = vector.hex("key_id")
    assert key_id == authority().key_id
    header = pc.heading_bytes(key_id, heading)
    assert header == vector.hex("header")
    body = pc.bundle_body(key_id, heading, official, public)
    assert pc.sha256(body) == vector.hex("body_sha256")
    data = pc.make_bundle(sign_seed(), heading, official, public)
    assert data == vector.hex("bytes") and len(data) == vector["length"]
    assert data == body + vector.hex("signature")

    opened = pc.open_bundle(data, authority(), after=heading.sequence - 1)
    assert opened.heading == heading
    refused(pc.VERIFICATION, pc.open_bundle, data, authority(), after=heading.sequence)
    for part, entries in ((opened.official, official), (opened.public, public)):
        for tag in {e[:16] for e in entries}:
            assert list(part.find(tag)) == sorted(e for e in entries if e[:16] == tag)
    return opened


def check_results(
    results: list[Node], stays: list[pc.Stay], bundles: Callable[[Node], list[pc.Published]]
) -> None:
    for result in results:
        chosen = bundles(result)
        assert isinstance(result["policy"], str)
        alerts = pc.find_exposures(
            stays, chosen, frozenset(result["warn_levels"]), result["min_overlap_minutes"]
        )
        expected = [
            (e["visit"], e["first_hour"], e["overlap_minutes"], e["level"], e["message"])
            for e in result["exposures"]
        ]
        got = [(a.stay, a.first_cell.hour, a.minutes, a.level, a.message) for a in alerts]
        assert got == expected, result.where


# --------------------------------------------------------------------------
# one replay per section


def replay_protocol(value: str) -> None:
    assert value == "placecode/1"


def replay_description(value: str) -> None:
    assert "docs/protocol.md" in value


def replay_random(v: Node) -> None:
    assert "SHA-256(seed || u32 k)" in v["construction"]
    draw = pc.counter_stream(v.hex("seed"))
    assert v.hex("seed") == b"placecode/1 test vectors"
    for expected in v.hexes("first_outputs"):
        assert draw(len(expected)) == expected


def replay_authority(v: Node) -> None:
    keys = pc.authority_of(v.hex("sign_seed"), v.hex("seal_secret"))
    assert keys.sign_key == v.hex("sign_key")
    assert keys.seal_key == v.hex("seal_key")
    assert keys.key_id == v.hex("key_id")


def replay_venue(v: Node) -> None:
    assert v["name"].encode("utf-8") == v.hex("name_utf8")
    assert 0 <= v["category"] <= 255 and 1 <= v["stay_minutes"] <= 720
    for code in v["codes"]:
        minted = pc.mint(v.hex("secret"), code["kind"], code["number"])
        assert minted.code_key == code.hex("code_key")
        assert minted.seed == code.hex("signing_seed")
        assert minted.public == code.hex("public_key")
        assert minted.bound == code.hex("bound_key")
        assert minted.cid == code.hex("code_id")


def replay_presence_proofs(proofs: list[Node]) -> None:
    for p in proofs:
        minted = pc.mint(venue_secret(), pc.SCREEN, p["day"])
        message = pc.stamp_message(minted.cid, p["epoch"])
        assert message == p.hex("message")
        made = pc.stamp(minted, p["epoch"])
        assert made.sig == p.hex("signature")
        assert pc.stamp_holds(made, minted.public, minted.cid)
        assert not pc.stamp_holds(made._replace(epoch=made.epoch + 1), minted.public, minted.cid)


def replay_payloads(payloads: list[Node]) -> None:
    venue = VECTORS["venue"]
    for p in payloads:
        proof = p["proof"]
        card = pc.Card(
            p["kind"],
            p.hex("code_key"),
            p.hex("venue_public_key"),
            p["category"],
            p["stay_minutes"],
            p["name"],
            stamp_of(proof) if proof else None,
        )
        at = p["at"]
        if card.kind == pc.SCREEN:
            minted = pc.mint(venue_secret(), pc.SCREEN, at // 86400)
            assert card.stamp == pc.stamp(minted, at // 30)
        else:
            assert at is None
            minted = pc.mint(venue_secret(), pc.POSTER, 0)
        assert (card.code_key, card.venue_key) == (minted.code_key, minted.public)
        assert (card.name, card.category) == (venue["name"], venue["category"])
        raw = pc.card_bytes(card)
        assert raw == p.hex("bytes") and len(raw) == p["length"]
        assert pc.card_url(card) == p["url"]
        assert pc.read_card(raw) == card
        assert pc.read_url(p["url"]) == card
        assert pc.read_url(p["url"].encode("utf-8")) == card


def replay_payload_errors(cases: list[Node]) -> None:
    for case in cases:
        what = case["case"]
        raw = case.hex("bytes")
        assert case["error"] == pc.DECODE, what
        error = refused(case["error"], pc.read_card, raw)
        assert error.text == case["message"], what
        assert ("update the app" in error.text) == case["asks_update"], what
        if raw:
            via_url = refused(pc.DECODE, pc.read_url, pc.URL_HEAD + pc.b32_text(raw))
            assert via_url.text == case["message"], what


def replay_url_parsing(cases: list[Node]) -> None:
    for case in cases:
        what, text = case["case"], case["text"]
        if "error" in case.raw:
            error = refused(case["error"], pc.read_url, text)
            assert error.text == case["message"], what
        else:
            assert pc.card_bytes(pc.read_url(text)) == case.hex("bytes"), what
            assert pc.card_bytes(pc.read_url(text.encode("utf-8"))) == case.hex("bytes")


def replay_check_in(v: Node) -> None:
    tags = set()
    for b in v["bound_keys"]:
        assert isinstance(b["case"], str)
        kind, public = b["kind"], b.hex("venue_public_key")
        assert pc.bind_info(kind, public) == b.hex("info")
        bound = pc.bind(b.hex("code_key"), kind, public)
        assert bound == b.hex("bound_key")
        tag = pc.hour_tag(bound, b["hour"])
        assert tag == b.hex("tag")
        tags.add(tag)
    assert len(tags) == len(v.raw["bound_keys"]), "the bound key must separate every case"
    for c in v["code_id"]:
        assert pc.fingerprint(c.hex("bound_key")) == c.hex("code_id")
    for h in v["hours"]:
        assert pc.hour_tag(h.hex("bound_key"), h["hour"]) == h.hex("tag")
        assert pc.hour_key(h.hex("bound_key"), h["hour"]) == h.hex("entry_key")
    for n in v["verification_codes"]:
        seen = pc.Stamp(n["epoch"], n.hex("signature"))
        assert pc.guard_number(n.hex("bound_key"), seen) == n["code"]
    for s in v["shown_numbers"]:
        arrival = pc.arrive(pc.read_url(s["code_url"]), s["checked_in_at"])
        assert pc.shown_number(arrival, s["now"]) == s["shows"]
    for r in v["refusals"]:
        what = r["case"]
        at, code = r["at"], pc.read_url(r["code_url"])
        first = r["checked_in_with"]
        if first is None:
            error = refused(r["error"], pc.arrive, code, at)
        else:
            arrival = pc.arrive(pc.read_url(first), at)
            error = refused(r["error"], pc.rescan, arrival, code, at)
        assert error.text == r["message"], what


def replay_entries(entries: list[Node]) -> None:
    for e in entries:
        content = e["content"]
        claim = claim_of(content)
        sealed = pc.seal(e.hex("tag"), e.hex("key"), claim, e.hex("nonce"))
        check_sealed(e, sealed)
        tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
        refused(pc.VERIFICATION, pc.unseal, tampered, e.hex("key"))


def replay_uploader_stays(stays: Node) -> None:
    for name in stays.raw:
        record = stays[name]
        stay = replay_stay(record)
        given = record["entries"]
        sealed = pc.report(stay, nonces([e.hex("nonce") for e in given]))
        assert len(sealed) == len(given), name
        by_tag = {cell.tag: cell for cell in stay.cells}
        for entry, raw in zip(given, sealed, strict=True):
            cell = by_tag[raw[:16]]
            claim = check_sealed(entry, raw, cell)
            assert pc.evidence_ok(claim, cell, stay), name


def replay_proof_coverage(cases: list[Node]) -> None:
    for case in cases:
        stamps = [pc.Stamp(e, b"") for e in case["epochs"]]
        assert list(pc.coverage(stamps)) == case["minutes"]


def replay_venue_confirmation(v: Node) -> None:
    vouches = pc.vouch_window(venue_secret(), v["start"], v["end"], v["posters"], v["screen"])
    slots = v["slots"]
    assert len(vouches) == len(slots)
    for vouch, slot in zip(vouches, slots, strict=True):
        assert pc.vouch_bytes(vouch) == slot.hex("bytes")
        assert (vouch.tag, vouch.key, vouch.hour) == (
            slot.hex("tag"),
            slot.hex("key"),
            slot["hour"],
        )
        assert (vouch.lo, vouch.hi) == (slot["start_minute"], slot["end_minute"])
        assert vouch.sig == slot.hex("signature")
        assert pc.read_vouch(slot.hex("bytes")) == vouch
        entry = pc.vouch_entry(vouch, slot["message_id"], slot.hex("nonce"))
        assert entry == slot.hex("entry")
        claim = pc.unseal(entry, vouch.key)
        assert claim == pc.Claim(
            pc.CONFIRMED, vouch.lo, vouch.hi, slot["message_id"], vouch.sig, ()
        )
    plain = pc.trace_plain(vouches)
    assert plain == v.hex("trace_plaintext")
    sealed = pc.box_seal(authority().seal_key, plain, v.hex("trace_ephemeral_secret"))
    assert sealed == v.hex("trace_sealed")
    assert pc.open_trace(sealed, seal_secret()) == vouches


def replay_bundles(bundles: list[Node]) -> None:
    for b in bundles:
        replay_bundle(b)


def replay_revoked_stay(v: Node) -> None:
    stay = replay_stay(v)
    given = v["entries"]
    sealed = pc.report(stay, nonces([e.hex("nonce") for e in given]))
    for entry, raw, cell in zip(given, sealed, stay.cells, strict=True):
        check_sealed(entry, raw, cell)
    carriers = [b for b in VECTORS["bundles"] if bytes.fromhex(b["entries_in"][0]) in sealed]
    assert carriers, "no bundle carries the revoked stay's entries"


def published_by_sequence() -> dict[int, pc.Published]:
    return {b["sequence"]: replay_bundle(b) for b in section("bundles")}


def replay_matching(v: Node) -> None:
    stays = [replay_stay(record) for record in v["diary"]]
    published = published_by_sequence()
    check_results(v["results"], stays, lambda r: [published[s] for s in r["bundles"]])


def always(opened: list[pc.Published]) -> Callable[[Node], list[pc.Published]]:
    return lambda _result: opened


def replay_matching_rules(cases: list[Node]) -> None:
    for case in cases:
        assert isinstance(case["case"], str)
        opened = [replay_bundle(b) for b in case["bundles"]]
        stays = [replay_stay(record) for record in case["diary"]]
        check_results(case["results"], stays, always(opened))


def replay_consent(v: Node) -> None:
    message = pc.Consent(v.hex("tag"), v["hour"], v["start_minute"], v["end_minute"], v["contact"])
    assert pc.consent_bytes(message) == v.hex("plaintext")
    assert pc.x25519_public(v.hex("ephemeral_secret")) == v.hex("ephemeral_public")
    sealed = pc.seal_consent(message, authority().seal_key, v.hex("ephemeral_secret"))
    assert sealed == v.hex("sealed") and len(sealed) == pc.CONSENT_SEALED
    assert pc.open_consent(sealed, seal_secret()) == message


def replay_uploads(uploads: list[Node]) -> None:
    for u in uploads:
        request = pc.Upload(u["tan"], tuple(u.hexes("entries")), u["dummy"])
        raw = pc.upload_bytes(request)
        head = u.hex("head")
        assert len(raw) == u["length"]
        assert raw[: len(head)] == head
        assert raw[len(head) :] == bytes(u["zero_padding"])
        assert len(head) + u["zero_padding"] == len(raw)
        assert pc.sha256(raw) == u.hex("sha256")
        assert pc.read_upload(raw) == request


def replay_trace_errors(cases: list[Node]) -> None:
    esk = bytes.fromhex(VECTORS["venue_confirmation"]["trace_ephemeral_secret"])
    for case in cases:
        sealed = case.hex("sealed")
        assert pc.box_seal(authority().seal_key, case.hex("plaintext"), esk) == sealed
        assert isinstance(case["case"], str)
        refused(case["error"], pc.open_trace, sealed, seal_secret())


def replay_config(v: Node) -> None:
    payload = v.hex("payload")
    assert pc.config_message(payload) == v.hex("signed_message")
    assert pc.sign_config(sign_seed(), payload) == v.hex("signature")
    settings = pc.read_config(payload, v.hex("signature"), authority())
    document = json.loads(payload)
    assert settings.issued_at == document["issued_at"]
    assert settings.warn_levels == frozenset(document["policy"]["warn_levels"])
    assert settings.messages == tuple(document["messages"])
    assert settings.public_url == document.get("public_url")
    refused(pc.VERIFICATION, pc.read_config, payload + b" ", v.hex("signature"), authority())


def replay_config_reading(cases: list[Node]) -> None:
    for case in cases:
        what = case["case"]
        payload, signature = case.hex("payload"), case.hex("signature")
        assert pc.sign_config(sign_seed(), payload) == signature, what
        held = case["held_issued_at"]
        if "error" in case.raw:
            error = refused(
                case["error"], pc.read_config, payload, signature, authority(), held_issued_at=held
            )
            if "message" in case.raw:
                assert error.text == case["message"], what
        else:
            settings = pc.read_config(payload, signature, authority(), held_issued_at=held)
            assert settings.issued_at == case["issued_at"], what


# --------------------------------------------------------------------------
# §18 compact index and shards


def replay_index(v: Node) -> pc.Catalogue:
    """Rebuild every byte but the library's fingerprints, then verify, query and open shards."""
    header = v.hex("header")
    key_id, heading, end = pc.read_heading(header)
    assert end == len(header) and key_id == authority().key_id
    assert heading.sequence == v["sequence"]
    official, public = v.hexes("authority_entries"), v.hexes("entries")
    every = official + public
    assert v["entry_count"] == len(every)
    k = v["shard_min_entries"]
    prefixes = sorted(int.from_bytes(e[:4], "big") for e in every)
    edges = [prefixes[i] for i in pc.cut_points(prefixes, k)]
    assert edges == v["boundaries"]
    salt = int.from_bytes(v.hex("salt"), "big")
    listed = v["keys"]
    assert sorted({e[:16] for e in every}) == [x.hex("tag") for x in listed]
    for x in listed:
        assert pc.salted_key(x.hex("tag"), salt).to_bytes(8, "big") == x.hex("key")
    span, segments = pc.fuse_sizes(len(listed))
    assert (span, segments) == (v["segment_length"], v["segment_count"])
    cells = v.hex("fingerprints")
    assert len(cells) == (segments + 2) * span
    body = (
        b"PCI\x01"
        + header
        + pc.be(4, len(every))
        + pc.be(4, k)
        + pc.be(4, len(edges) + 1)
        + b"".join(pc.be(4, e) for e in edges)
        + v.hex("salt")
        + v.hex("seed")
        + pc.be(4, span)
        + pc.be(4, segments)
        + cells
    )
    assert pc.sha256(body) == v.hex("body_sha256")
    signature = pc.ed_sign(sign_seed(), pc.words("index") + pc.sha256(body))
    assert signature == v.hex("signature")
    data = body + signature
    assert data == v.hex("bytes") and len(data) == v["length"]
    catalogue = pc.open_index(data, authority(), least=k)
    assert all(catalogue.sieve.holds(x.hex("tag")) for x in listed)
    refused(pc.VERIFICATION, pc.open_index, data, authority(), after=heading.sequence)
    ends = [0, *edges, 2**32]
    shards = v["shards"]
    assert len(shards) == len(edges) + 1
    for number, shard in enumerate(shards):
        assert shard["number"] == number
        lo, hi = ends[number], ends[number + 1]
        assert shard["range"] == [lo, hi] and list(catalogue.span_of(number)) == [lo, hi]

        def inside(entries: list[bytes], lo: int = lo, hi: int = hi) -> list[bytes]:
            return sorted(e for e in entries if lo <= int.from_bytes(e[:4], "big") < hi)

        assert shard.hexes("authority_entries") == inside(official)
        assert shard.hexes("entries") == inside(public)
        frame = b"PCS\x01" + key_id + pc.be(8, heading.sequence) + pc.be(4, number)
        frame += pc.section_bytes(inside(official)) + pc.section_bytes(inside(public))
        raw = frame + pc.ed_sign(sign_seed(), pc.words("shard") + pc.sha256(frame))
        assert raw == shard.hex("bytes")
        piece = pc.open_shard(raw, authority(), catalogue, number)
        for e in inside(public):
            assert e in list(piece.public.find(e[:16]))
        for e in inside(official):
            assert e in list(piece.official.find(e[:16]))
    return catalogue


def replay_index_large(v: Node) -> None:
    catalogue = replay_index(v)
    for q in v["queries"]:
        tag = q.hex("tag")
        assert (catalogue.sieve.holds(tag), catalogue.where(tag)) == (q["contains"], q["shard"])
    assert any(q["contains"] for q in v["queries"]) and not all(q["contains"] for q in v["queries"])


def catalogue_of(name: str) -> pc.Catalogue:
    return pc.open_index(bytes.fromhex(VECTORS[name]["bytes"]), authority())


def replay_fetch_plans(cases: list[Node]) -> None:
    for case in cases:
        assert isinstance(case["case"], str)
        catalogue = catalogue_of(case["index"])
        queue = case.hexes("random")

        def draw(n: int, queue: list[bytes] = queue) -> bytes:
            assert n == 8 and queue, "the plan drew more than the vector holds"
            return queue.pop(0)

        hits, plan = pc.plan_fetches(catalogue, case.hexes("tags"), case["fetches"], draw)
        assert (hits, plan) == (case["hits"], case["plan"]) and not queue


def replay_fuse8_layouts(cases: list[Node]) -> None:
    for case in cases:
        span, segments = pc.fuse_sizes(case["keys"])
        assert (span, segments) == (case["segment_length"], case["segment_count"])
        assert case["fingerprint_bytes"] == (segments + 2) * span


def replay_shard_cuts(cases: list[Node]) -> None:
    for case in cases:
        assert pc.cut_points(case["prefixes"], case["k"]) == case["cuts"]


def replay_index_errors(cases: list[Node]) -> None:
    for case in cases:
        assert isinstance(case["case"], str)
        refused(
            pc.VERIFICATION,
            pc.open_index,
            case.hex("bytes"),
            authority(),
            after=case["after_sequence"],
            least=case["shard_min_entries"],
        )


def replay_shard_errors(cases: list[Node]) -> None:
    for case in cases:
        assert isinstance(case["case"], str)
        catalogue = catalogue_of(case["index"])
        refused(
            pc.VERIFICATION,
            pc.open_shard,
            case.hex("bytes"),
            authority(),
            catalogue,
            case["number"],
        )


REPLAYS: dict[str, Callable[[Any], None]] = {
    "protocol": replay_protocol,
    "description": replay_description,
    "random": replay_random,
    "authority": replay_authority,
    "venue": replay_venue,
    "presence_proofs": replay_presence_proofs,
    "payloads": replay_payloads,
    "payload_errors": replay_payload_errors,
    "url_parsing": replay_url_parsing,
    "check_in": replay_check_in,
    "entries": replay_entries,
    "uploader_stays": replay_uploader_stays,
    "proof_coverage": replay_proof_coverage,
    "venue_confirmation": replay_venue_confirmation,
    "bundles": replay_bundles,
    "revoked_stay": replay_revoked_stay,
    "matching": replay_matching,
    "matching_rules": replay_matching_rules,
    "consent": replay_consent,
    "uploads": replay_uploads,
    "trace_errors": replay_trace_errors,
    "config": replay_config,
    "config_reading": replay_config_reading,
    "index": replay_index,
    "index_large": replay_index_large,
    "fetch_plans": replay_fetch_plans,
    "fuse8_layouts": replay_fuse8_layouts,
    "shard_cuts": replay_shard_cuts,
    "index_errors": replay_index_errors,
    "shard_errors": replay_shard_errors,
}


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_section_replays_completely(name: str) -> None:
    replay = REPLAYS.get(name)
    assert replay is not None, f"docs/test-vectors.json has a section {name!r} nothing replays"
    root = Node({name: VECTORS[name]}, "vectors")
    replay(root[name])
    unread = list(root.unread())
    assert not unread, f"fields no check read: {unread}"


def test_every_replay_has_its_section() -> None:
    assert sorted(REPLAYS) == sorted(VECTORS)
