"""The committed test vectors: regenerated exactly, and replayed through the public API."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from placecode.crypto import (
    AuthorityKeys,
    AuthorityPublicKeys,
    Bundle,
    BundleHeader,
    CodeError,
    ConfirmedSlot,
    ConsentMessage,
    DecodeError,
    EntryContent,
    EvidenceLevel,
    Index,
    Policy,
    PresenceProof,
    SealingKey,
    Shard,
    ShardedBundle,
    UploadRequest,
    Venue,
    VenueCode,
    VerificationError,
    bound_key,
    check_in,
    code_id,
    confirm_window,
    entry_key,
    filter_key,
    fuse8_layout,
    hour_tag,
    key_id,
    match,
    open_consent,
    open_entry,
    open_trace,
    proof_coverage,
    read_config,
    seal_consent,
    seal_entry,
    shard_cuts,
    sign_index,
    stay_windows,
    verification_code,
    verify_config,
)
from placecode.crypto import constants as c

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_vectors", DOCS / "generate_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def v() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DOCS / "test-vectors.json").read_text())
    return data


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def authority_keys(v: dict[str, Any]) -> AuthorityKeys:
    return AuthorityKeys(h(v["authority"]["sign_seed"]), h(v["authority"]["seal_secret"]))


def authority_public(v: dict[str, Any]) -> AuthorityPublicKeys:
    return AuthorityPublicKeys(h(v["authority"]["sign_key"]), h(v["authority"]["seal_key"]))


def venue(v: dict[str, Any]) -> Venue:
    x = v["venue"]
    return Venue(h(x["secret"]), x["name"], x["category"], x["stay_minutes"])


def content_of(x: dict[str, Any]) -> EntryContent:
    return EntryContent(
        EvidenceLevel(x["level"]),
        x["start_minute"],
        x["end_minute"],
        x["message_id"],
        h(x["venue_signature"]) if x["venue_signature"] else None,
        tuple(PresenceProof(p["epoch"], h(p["signature"])) for p in x["proofs"]),
    )


def replay_stay(step: dict[str, Any]) -> Any:
    state = check_in(VenueCode.from_url(step["code_url"]), step["entered_at"])
    if "rescan_url" in step:
        state = state.rescan(VenueCode.from_url(step["rescan_url"]), step["rescan_at"])
    return state.check_out(step["left_at"])


def test_generator_reproduces_the_committed_json(v: dict[str, Any]) -> None:
    generator = _generator()
    built = generator.build_vectors()
    assert built == v
    assert generator.render(built) == (DOCS / "test-vectors.json").read_text()


def test_random_construction(v: dict[str, Any]) -> None:
    seed = h(v["random"]["seed"])
    blocks = [hashlib.sha256(seed + k.to_bytes(4, "big")).digest() for k in range(4)]
    assert v["random"]["first_outputs"] == [
        blocks[0].hex(),
        blocks[1][:12].hex(),
        (blocks[2] + blocks[3])[:40].hex(),
    ]


def test_authority_keys(v: dict[str, Any]) -> None:
    public = authority_keys(v).public
    assert public == authority_public(v)
    assert key_id(public.sign_key).hex() == v["authority"]["key_id"]
    assert len(h(v["authority"]["key_id"])) == c.KEY_ID_BYTES


def test_venue_code_keys(v: dict[str, Any]) -> None:
    owner = venue(v)
    assert owner.name.encode().hex() == v["venue"]["name_utf8"]
    assert len(v["venue"]["codes"]) == 4
    for x in v["venue"]["codes"]:
        keys = owner.code_keys(x["kind"], x["number"])
        assert keys.code_key.hex() == x["code_key"]
        assert keys.signing_seed.hex() == x["signing_seed"]
        assert keys.public_key.hex() == x["public_key"]
        assert bound_key(keys.code_key, x["kind"], keys.public_key).hex() == x["bound_key"]
        assert code_id(h(x["bound_key"])).hex() == x["code_id"]
    assert len({x["public_key"] for x in v["venue"]["codes"]}) == 4


def test_presence_proofs(v: dict[str, Any]) -> None:
    day_code = next(x for x in v["venue"]["codes"] if x["number"] == v["presence_proofs"][0]["day"])
    for x in v["presence_proofs"]:
        message = c.PRESENCE_LABEL + h(day_code["code_id"]) + x["epoch"].to_bytes(4, "big")
        assert message.hex() == x["message"]
        proof = PresenceProof(x["epoch"], h(x["signature"]))
        assert proof.verify(h(day_code["public_key"]), h(day_code["code_id"]))
        assert not proof.verify(h(day_code["public_key"]), bytes(32))


def test_payloads_decode_and_reencode(v: dict[str, Any]) -> None:
    kinds = []
    for x in v["payloads"]:
        for code in (VenueCode.from_url(x["url"]), VenueCode.from_bytes(h(x["bytes"]))):
            assert code.kind == x["kind"]
            assert code.code_key.hex() == x["code_key"]
            assert code.venue_public_key.hex() == x["venue_public_key"]
            assert (code.name, code.category, code.stay_minutes) == (
                x["name"],
                x["category"],
                x["stay_minutes"],
            )
            if x["proof"] is None:
                assert code.proof is None
            else:
                assert code.proof == PresenceProof(x["proof"]["epoch"], h(x["proof"]["signature"]))
            assert code.to_bytes().hex() == x["bytes"]
            assert code.to_url() == x["url"]
        assert len(h(x["bytes"])) == x["length"]
        assert VenueCode.from_url(x["url"].lower()).to_bytes().hex() == x["bytes"]
        kinds.append(x["kind"])
    assert kinds == [c.KIND_POSTER, c.KIND_SCREEN]
    screen = VenueCode.from_url(v["payloads"][1]["url"])
    assert check_in(screen, v["payloads"][1]["at"]).proofs == (screen.proof,)


def test_payload_errors(v: dict[str, Any]) -> None:
    assert v["payload_errors"]
    for x in v["payload_errors"]:
        with pytest.raises(DecodeError) as raised:
            VenueCode.from_bytes(h(x["bytes"]))
        assert str(raised.value) == x["message"]
        assert ("update the app" in str(raised.value)) == x["asks_update"]
    assert sum(x["asks_update"] for x in v["payload_errors"]) == 2
    assert sum("invalid venue key" in x["message"] for x in v["payload_errors"]) == 11


def test_url_parsing(v: dict[str, Any]) -> None:
    accepted = 0
    for x in v["url_parsing"]:
        if "error" in x:
            with pytest.raises(DecodeError) as raised:
                VenueCode.from_url(x["text"])
            assert str(raised.value) == x["message"]
        else:
            assert VenueCode.from_url(x["text"]).to_bytes().hex() == x["bytes"]
            accepted += 1
    assert accepted == 5


def test_check_in_derivations(v: dict[str, Any]) -> None:
    x = v["check_in"]
    for y in x["bound_keys"]:
        bound = bound_key(h(y["code_key"]), y["kind"], h(y["venue_public_key"]))
        assert bound.hex() == y["bound_key"]
        assert hour_tag(bound, y["hour"]).hex() == y["tag"]
    # a downgraded screen code and a foreign key under a poster's code key match nothing
    assert len({y["tag"] for y in x["bound_keys"]}) == 4
    assert len({y["tag"] for y in x["hours"]}) == len(x["hours"]) == 6
    for y in x["hours"]:
        assert hour_tag(h(y["bound_key"]), y["hour"]).hex() == y["tag"]
        assert entry_key(h(y["bound_key"]), y["hour"]).hex() == y["entry_key"]
    for y in x["verification_codes"]:
        proof = PresenceProof(y["epoch"], h(y["signature"]))
        assert verification_code(h(y["bound_key"]), proof) == y["code"]
        assert len(y["code"]) == c.VERIFY_DIGITS
    assert len({y["code"] for y in x["verification_codes"]}) == 4
    for y in x["code_id"]:
        assert code_id(h(y["bound_key"])).hex() == y["code_id"]
    for y in x["shown_numbers"]:
        state = check_in(VenueCode.from_url(y["code_url"]), y["checked_in_at"])
        assert state.verification_code(y["now"]) == y["shows"]
    assert [y["shows"] is None for y in x["shown_numbers"]] == [False, False, True]


def test_check_in_refusals(v: dict[str, Any]) -> None:
    assert len(v["check_in"]["refusals"]) == 6
    for y in v["check_in"]["refusals"]:
        code = VenueCode.from_url(y["code_url"])
        with pytest.raises(CodeError) as raised:
            if y["checked_in_with"] is None:
                check_in(code, y["at"])
            else:
                first = VenueCode.from_url(y["checked_in_with"])
                check_in(first, y["at"] - 60).rescan(code, y["at"])
        assert str(raised.value) == y["message"]


def test_entries_of_each_level(v: dict[str, Any]) -> None:
    lengths = []
    for x in v["entries"]:
        content = content_of(x["content"])
        assert content.to_bytes().hex() == x["content"]["plaintext"]
        entry = h(x["entry"])
        assert seal_entry(h(x["tag"]), h(x["key"]), content, h(x["nonce"])) == entry
        assert open_entry(entry, h(x["key"])) == content
        tampered = entry[:-1] + bytes([entry[-1] ^ 1])
        with pytest.raises(VerificationError):
            open_entry(tampered, h(x["key"]))
        with pytest.raises(VerificationError):
            open_entry(entry, bytes(32))
        lengths.append(len(entry))
    assert lengths == [112, 185, 48]


def test_uploader_stays_and_their_entries(v: dict[str, Any]) -> None:
    for x in v["uploader_stays"].values():
        visit = replay_stay(x)
        assert [s.tag.hex() for s in visit.slots] == [s["tag"] for s in x["visit"]["slots"]]
        assert [p.epoch for p in visit.proofs] == [p["epoch"] for p in x["visit"]["proofs"]]
        slots = {slot.tag: slot for slot in visit.slots}
        for e in x["entries"]:
            slot = slots[bytes.fromhex(e["tag"])]
            content = open_entry(h(e["entry"]), slot.key)
            assert content == content_of(e["content"])
            assert seal_entry(slot.tag, slot.key, content, h(e["nonce"])).hex() == e["entry"]
    levels = {
        name: [e["content"]["level"] for e in x["entries"]]
        for name, x in v["uploader_stays"].items()
    }
    assert levels == {
        "screen_with_exit_proof": [2, 2],
        "screen_single_proof": [2, 2, 3, 3],
        "poster": [3, 3],
    }


def test_proof_coverage(v: dict[str, Any]) -> None:
    for x in v["proof_coverage"]:
        proofs = tuple(PresenceProof(e, bytes(64)) for e in x["epochs"])
        assert list(proof_coverage(proofs)) == x["minutes"]


def test_venue_confirmation(v: dict[str, Any]) -> None:
    x = v["venue_confirmation"]
    slots = confirm_window(venue(v), x["start"], x["end"], posters=tuple(x["posters"]))
    assert [s.to_bytes().hex() for s in slots] == [y["bytes"] for y in x["slots"]]
    for s, y in zip(slots, x["slots"], strict=True):
        assert ConfirmedSlot.from_bytes(h(y["bytes"])) == s
        assert s.seal(y["message_id"], h(y["nonce"])).hex() == y["entry"]
        content = open_entry(h(y["entry"]), s.key)
        assert content.level == EvidenceLevel.VENUE_CONFIRMED
        assert content.venue_signature == s.signature
    assert open_trace(h(x["trace_sealed"]), authority_keys(v)) == slots
    assert [y["case"] for y in v["trace_errors"]][0] == "no slot"
    for y in v["trace_errors"]:
        with pytest.raises(VerificationError):
            open_trace(h(y["sealed"]), authority_keys(v))
    inbox = SealingKey(h(v["authority"]["seal_secret"]))
    assert open_trace(h(x["trace_sealed"]), inbox) == slots
    windows = [(s.hour, s.start_minute, s.end_minute) for s in slots]
    assert sorted(set(windows)) == stay_windows(x["start"], x["end"])
    assert (bytes([c.PROTOCOL_VERSION]) + b"".join(s.to_bytes() for s in slots)).hex() == x[
        "trace_plaintext"
    ]


def test_bundles_verify_and_look_up(v: dict[str, Any]) -> None:
    public = authority_public(v)
    for x in v["bundles"]:
        data = h(x["bytes"])
        header = BundleHeader(
            h(x["key_id"]),
            x["sequence"],
            x["created_at"],
            x["first_hour"],
            x["last_hour"],
            tuple(x["messages"]),
            tuple(h(t) for t in x["revoked"]),
        )
        assert header.to_bytes().hex() == x["header"]
        assert data.startswith(h(x["header"]))
        bundle = Bundle.verify(data, public)
        assert bundle.header == header
        assert bundle.public_section.count == x["count"] == len(x["entries_in"])
        assert bundle.authority_section.count == x["authority_count"]
        tags = sorted({h(e)[: c.TAG_BYTES] for e in x["entries_in"]})
        found = [e.hex() for t in tags for e in bundle.lookup_public(t)]
        assert found == x["entries_sorted"]
        tags = sorted({h(e)[: c.TAG_BYTES] for e in x["authority_entries_in"]})
        found = [e.hex() for t in tags for e in bundle.lookup_authority(t)]
        assert found == x["authority_entries_sorted"]
        assert bundle.lookup(bytes(16)) == []
        assert hashlib.sha256(data[: -c.SIGNATURE_BYTES]).hexdigest() == x["body_sha256"]
        with pytest.raises(VerificationError):
            Bundle.verify(data, public, after_sequence=x["sequence"])
        for at in (0, len(x["header"]) // 2 + 1, len(data) // 2, len(data) - 1):
            tampered = bytearray(data)
            tampered[at] ^= 0x80
            with pytest.raises(VerificationError):
                Bundle.verify(bytes(tampered), public)
    assert [x["sequence"] for x in v["bundles"]] == [6, 7]
    assert [x["authority_count"] for x in v["bundles"]][0] == 0
    assert v["bundles"][1]["authority_count"] > 0


def test_matching(v: dict[str, Any]) -> None:
    public = authority_public(v)
    bundles = {x["sequence"]: Bundle.verify(h(x["bytes"]), public) for x in v["bundles"]}
    visits = [replay_stay(step) for step in v["matching"]["diary"]]
    for step, visit in zip(v["matching"]["diary"], visits, strict=True):
        assert [s.tag.hex() for s in visit.slots] == [s["tag"] for s in step["visit"]["slots"]]
    warned = 0
    for x in v["matching"]["results"]:
        policy = Policy(
            frozenset(EvidenceLevel(n) for n in x["warn_levels"]), x["min_overlap_minutes"]
        )
        got = match(visits, [bundles[s] for s in x["bundles"]], policy)
        assert [
            {
                "visit": visits.index(e.visit),
                "first_hour": e.slot.hour,
                "overlap_minutes": e.overlap_minutes,
                "level": int(e.level),
                "message": e.message,
            }
            for e in got
        ] == x["exposures"]
        warned += len(got)
    assert warned > 0


def test_matching_rules(v: dict[str, Any]) -> None:
    public = authority_public(v)
    assert len(v["matching_rules"]) == 5
    for case in v["matching_rules"]:
        visits = [replay_stay(step) for step in case["diary"]]
        bundles = [Bundle.verify(h(x["bytes"]), public) for x in case["bundles"]]
        for x in case["results"]:
            policy = Policy(
                frozenset(EvidenceLevel(n) for n in x["warn_levels"]), x["min_overlap_minutes"]
            )
            got = [
                {
                    "visit": visits.index(e.visit),
                    "first_hour": e.slot.hour,
                    "overlap_minutes": e.overlap_minutes,
                    "level": int(e.level),
                    "message": e.message,
                }
                for e in match(visits, bundles, policy)
            ]
            assert got == x["exposures"], case["case"]


def test_consent(v: dict[str, Any]) -> None:
    x = v["consent"]
    keys = authority_keys(v)
    expected = ConsentMessage(
        h(x["tag"]), x["hour"], x["start_minute"], x["end_minute"], x["contact"]
    )
    assert expected.to_bytes().hex() == x["plaintext"]
    sealed = h(x["sealed"])
    assert len(sealed) == c.CONSENT_BYTES
    assert sealed[:32].hex() == x["ephemeral_public"]
    assert open_consent(sealed, keys) == expected
    inbox = SealingKey(h(v["authority"]["seal_secret"]))
    assert inbox.public_key.hex() == v["authority"]["seal_key"]
    assert open_consent(sealed, inbox) == expected
    assert open_consent(seal_consent(expected, keys.public), keys) == expected
    with pytest.raises(VerificationError):
        open_consent(sealed[:-1] + bytes([sealed[-1] ^ 1]), keys)


def test_uploads(v: dict[str, Any]) -> None:
    assert [x["dummy"] for x in v["uploads"]] == [False, False, False, True]
    for x in v["uploads"]:
        data = h(x["head"]) + bytes(x["zero_padding"])
        assert len(data) == x["length"] == c.UPLOAD_BYTES
        assert hashlib.sha256(data).hexdigest() == x["sha256"]
        request = UploadRequest.from_bytes(data)
        assert request.tan == x["tan"]
        assert request.dummy == x["dummy"]
        assert [e.hex() for e in request.entries] == x["entries"]
        assert request.to_bytes() == data


def test_config(v: dict[str, Any]) -> None:
    x = v["config"]
    payload = h(x["payload"])
    public = authority_public(v)
    assert (c.CONFIG_LABEL + payload).hex() == x["signed_message"]
    verify_config(payload, h(x["signature"]), public)
    document = json.loads(payload)
    assert document["authority"]["key_id"] == v["authority"]["key_id"]
    with pytest.raises(VerificationError):
        verify_config(payload + b" ", h(x["signature"]), public)
    assert read_config(payload, h(x["signature"]), public).issued_at == document["issued_at"]


def test_config_reading(v: dict[str, Any]) -> None:
    public = authority_public(v)
    outcomes = []
    for x in v["config_reading"]:
        payload, signature = h(x["payload"]), h(x["signature"])
        held = x["held_issued_at"]
        if x.get("error") == "DecodeError":
            with pytest.raises(DecodeError) as raised:
                read_config(payload, signature, public, held_issued_at=held)
            assert str(raised.value) == x["message"]
        elif x.get("error") == "VerificationError":
            with pytest.raises(VerificationError):
                read_config(payload, signature, public, held_issued_at=held)
        else:
            assert (
                read_config(payload, signature, public, held_issued_at=held).issued_at
                == (x["issued_at"])
            )
        outcomes.append(x.get("error"))
    assert outcomes[:3] == [None, None, "VerificationError"]


def _listed(draws: list[str]) -> Any:
    queue = [h(d) for d in draws]

    def draw(n: int) -> bytes:
        assert n == 8 and queue, "the fetch plan drew more than the vector holds"
        return queue.pop(0)

    return draw


def test_indexes_verify_query_and_rebuild(v: dict[str, Any]) -> None:
    keys = authority_keys(v)
    public = keys.public
    for name in ("index", "index_large"):
        x = v[name]
        data = h(x["bytes"])
        index = Index.verify(data, public, shard_min_entries=x["shard_min_entries"])
        assert (
            index.header.to_bytes().hex() == x["header"] and index.header.sequence == x["sequence"]
        )
        assert data[4:].startswith(h(x["header"])) and len(data) == x["length"]
        assert (index.entry_count, list(index.boundaries)) == (x["entry_count"], x["boundaries"])
        assert index.salt.to_bytes(8, "big").hex() == x["salt"]
        for k in x["keys"]:
            assert filter_key(h(k["tag"]), index.salt).to_bytes(8, "big").hex() == k["key"]
            assert index.contains(h(k["tag"]))
        assert hashlib.sha256(data[: -c.SIGNATURE_BYTES]).hexdigest() == x["body_sha256"]
        assert data[-c.SIGNATURE_BYTES :].hex() == x["signature"]
        assert (x["segment_length"], x["segment_count"]) == fuse8_layout(len(x["keys"]))
        assert data[: -c.SIGNATURE_BYTES].endswith(
            h(x["seed"])
            + x["segment_length"].to_bytes(4, "big")
            + x["segment_count"].to_bytes(4, "big")
            + h(x["fingerprints"])
        )
        # the library rebuilds the same bytes from the same inputs
        header = index.header
        rebuilt = sign_index(
            header,
            [h(e) for e in x["entries"]],
            keys.signing_key,
            [h(e) for e in x["authority_entries"]],
            salt=h(x["salt"]),
            shard_min_entries=x["shard_min_entries"],
        )
        assert rebuilt.index == data
        assert [s.hex() for s in rebuilt.shards] == [s["bytes"] for s in x["shards"]]
        for s in x["shards"]:
            shard = Shard.verify(h(s["bytes"]), public, index, s["number"])
            assert list(index.shard_range(s["number"])) == s["range"]
            assert [e.hex() for e in shard.authority_section.entries()] == s["authority_entries"]
            assert [e.hex() for e in shard.public_section.entries()] == s["entries"]
        with pytest.raises(VerificationError):
            Index.verify(data, public, after_sequence=x["sequence"])
    for q in v["index_large"]["queries"]:
        index = Index.verify(h(v["index_large"]["bytes"]), public)
        assert (index.contains(h(q["tag"])), index.shard_of(h(q["tag"]))) == (
            q["contains"],
            q["shard"],
        )


def test_fetch_plans_and_sizing(v: dict[str, Any]) -> None:
    public = authority_public(v)
    for x in v["fetch_plans"]:
        index = Index.verify(h(v[x["index"]]["bytes"]), public)
        tags = [h(t) for t in x["tags"]]
        assert index.hits(tags) == x["hits"]
        assert index.fetch_plan(tags, x["fetches"], _listed(x["random"])) == x["plan"]
    for x in v["fuse8_layouts"]:
        assert fuse8_layout(x["keys"]) == (x["segment_length"], x["segment_count"])
        assert x["fingerprint_bytes"] == (x["segment_count"] + 2) * x["segment_length"]
    for x in v["shard_cuts"]:
        assert shard_cuts(x["prefixes"], x["k"]) == x["cuts"]


def test_index_and_shard_refusals(v: dict[str, Any]) -> None:
    public = authority_public(v)
    assert len(v["index_errors"]) >= 6 and len(v["shard_errors"]) >= 6
    for x in v["index_errors"]:
        with pytest.raises(VerificationError):
            Index.verify(
                h(x["bytes"]),
                public,
                after_sequence=x["after_sequence"],
                shard_min_entries=x["shard_min_entries"],
            )
    for x in v["shard_errors"]:
        index = Index.verify(h(v[x["index"]]["bytes"]), public)
        with pytest.raises(VerificationError):
            Shard.verify(h(x["bytes"]), public, index, x["number"])


def test_matching_on_shards_equals_matching_on_bundles(v: dict[str, Any]) -> None:
    """§18: the diary matched on the shards the fetch plan picks finds what the bundles find."""
    keys = authority_keys(v)
    visits = [replay_stay(step) for step in v["matching"]["diary"]]
    tags = [s.tag for visit in visits for s in visit.slots]
    bundles = {x["sequence"]: Bundle.verify(h(x["bytes"]), keys.public) for x in v["bundles"]}
    sharded = {}
    for sequence, bundle in bundles.items():
        signed = sign_index(
            bundle.header,
            bundle.public_entries(),
            keys.signing_key,
            bundle.authority_entries(),
            salt=bytes(8),
            shard_min_entries=2,
        )
        index = Index.verify(signed.index, keys.public)
        plan = index.fetch_plan(tags, 1, lambda n: bytes(n))
        assert set(index.hits(tags)) <= set(plan)
        shards = tuple(Shard.verify(signed.shards[n], keys.public, index, n) for n in plan)
        sharded[sequence] = ShardedBundle(index, shards)
    for x in v["matching"]["results"]:
        policy = Policy(
            frozenset(EvidenceLevel(n) for n in x["warn_levels"]), x["min_overlap_minutes"]
        )
        full = match(visits, [bundles[s] for s in x["bundles"]], policy)
        partial = match(visits, [sharded[s] for s in x["bundles"]], policy)
        assert [(e.visit, e.slot, e.overlap_minutes, e.level) for e in partial] == [
            (e.visit, e.slot, e.overlap_minutes, e.level) for e in full
        ]
