// Replays every vector of docs/test-vectors.json through the TypeScript implementation.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as P from "../src/protocol/index.js";
import { fromHex, toHex } from "../src/protocol/index.js";
import { VECTORS, contentFrom, proofFrom, replay, replayStay, vectorRandom, type Json } from "./vectors.js";

const AUTH = VECTORS.authority;
const authority = P.authorityPublicKeys(fromHex(AUTH.sign_key), fromHex(AUTH.seal_key));
const VENUE = VECTORS.venue;

/** Every top-level key of the vectors file, and the test that replays it. */
const COVERED = new Set([
  "description",
  "protocol",
  "random",
  "authority",
  "venue",
  "presence_proofs",
  "payloads",
  "payload_errors",
  "url_parsing",
  "check_in",
  "entries",
  "uploader_stays",
  "proof_coverage",
  "venue_confirmation",
  "bundles",
  "revoked_stay",
  "matching",
  "consent",
  "uploads",
  "config",
  "config_reading",
  "trace_errors",
  "matching_rules",
]);

// §18 (compact index and shards): this client syncs full bundles, which §18 allows;
// these sections are replayed by tests/independent and tests/crypto until it fetches indexes.
const FULL_BUNDLES_ONLY = new Set([
  "index",
  "index_large",
  "fetch_plans",
  "fuse8_layouts",
  "shard_cuts",
  "index_errors",
  "shard_errors",
]);

test("every section of the vectors file is replayed here", () => {
  assert.equal(VECTORS.protocol, "placecode/1");
  const unknown = Object.keys(VECTORS).filter((k) => !COVERED.has(k) && !FULL_BUNDLES_ONLY.has(k));
  assert.deepEqual(unknown, [], "vectors this implementation does not replay yet");
});

test("random: the vectors' deterministic random(n)", () => {
  const random = vectorRandom();
  for (const out of VECTORS.random.first_outputs as string[]) assert.equal(toHex(random(out.length / 2)), out);
});

test("§9 authority: key id and public halves", () => {
  const keys = { signSeed: fromHex(AUTH.sign_seed), sealSecret: fromHex(AUTH.seal_secret) };
  const pub = P.publicKeysOf(keys);
  assert.equal(toHex(pub.signKey), AUTH.sign_key);
  assert.equal(toHex(pub.sealKey), AUTH.seal_key);
  assert.equal(toHex(P.keyId(pub.signKey)), AUTH.key_id);
  const generated = P.generateAuthorityKeys(vectorRandom());
  assert.equal(toHex(generated.signSeed), AUTH.sign_seed, "generate draws sign_seed first");
  assert.equal(toHex(generated.sealSecret), AUTH.seal_secret);
});

test("§5 presence proofs: message and signature, verified", () => {
  for (const p of VECTORS.presence_proofs) {
    const keys = P.codeKeys(fromHex(VENUE.secret), P.KIND_SCREEN, p.day);
    assert.equal(toHex(P.presenceMessage(keys.codeId, p.epoch)), p.message);
    const proof = P.presenceProof(keys, p.epoch);
    assert.equal(toHex(proof.signature), p.signature);
    assert.ok(P.verifyPresenceProof(proofFrom(p), keys.publicKey, keys.codeId));
    assert.ok(!P.verifyPresenceProof({ epoch: p.epoch + 1, signature: proof.signature }, keys.publicKey, keys.codeId));
  }
});

test("§6 check-in: bound keys, code ids, hour tags, entry keys, verification numbers", () => {
  const ci = VECTORS.check_in;
  const tags = new Set<string>();
  assert.equal(ci.bound_keys.length, 4);
  for (const b of ci.bound_keys) {
    assert.equal(toHex(P.concat(P.BIND_LABEL, P.u8(b.kind), fromHex(b.venue_public_key))), b.info, b.case);
    const bound = P.boundKey(fromHex(b.code_key), b.kind, fromHex(b.venue_public_key));
    assert.equal(toHex(bound), b.bound_key, b.case);
    assert.equal(toHex(P.hourTag(bound, b.hour)), b.tag, b.case);
    tags.add(b.tag);
  }
  assert.equal(tags.size, 4, "a re-encoded or re-keyed code shares no tag with the real one");
  for (const c of ci.code_id) assert.equal(toHex(P.codeId(fromHex(c.bound_key))), c.code_id);
  assert.ok(ci.hours.length >= 6);
  for (const h of ci.hours) {
    assert.equal(toHex(P.hourTag(fromHex(h.bound_key), h.hour)), h.tag);
    assert.equal(toHex(P.entryKey(fromHex(h.bound_key), h.hour)), h.entry_key);
  }
  assert.ok(ci.verification_codes.length >= 4);
  for (const v of ci.verification_codes) {
    assert.equal(P.verificationCode(fromHex(v.bound_key), { epoch: v.epoch, signature: fromHex(v.signature) }), v.code);
  }
});

test("§6 the number a checked-in device shows, and check-ins and rescans refused with their messages", () => {
  const ci = VECTORS.check_in;
  assert.ok(ci.shown_numbers.length >= 3);
  for (const n of ci.shown_numbers) {
    const stay = P.checkIn(P.venueCodeFromUrl(n.code_url), n.checked_in_at);
    assert.equal(P.liveVerificationCode(stay, n.now), n.shows, `at +${n.now - n.checked_in_at} s`);
  }
  assert.ok(ci.refusals.length >= 6);
  for (const r of ci.refusals) {
    const code = P.venueCodeFromUrl(r.code_url);
    const run = () => {
      if (r.checked_in_with === null) return P.checkIn(code, r.at);
      const first = P.venueCodeFromUrl(r.checked_in_with);
      const stay = P.checkIn(first, first.proof === null ? r.at - 60 : first.proof.epoch * 30);
      return P.rescan(stay, code, r.at);
    };
    assert.throws(run, (e: unknown) => {
      assert.ok(e instanceof P.CodeError, r.case);
      assert.equal(e.name, r.error);
      assert.equal(e.message, r.message, r.case);
      return true;
    });
  }
});

test("§4 URL parsing: scanned texts and what they give", () => {
  assert.ok(VECTORS.url_parsing.length >= 10);
  for (const u of VECTORS.url_parsing) {
    if (u.error === undefined) {
      assert.equal(toHex(P.venueCodeToBytes(P.venueCodeFromUrl(u.text))), u.bytes, u.case);
      assert.deepEqual(P.venueCodeFromUrl(P.bytes(u.text)), P.venueCodeFromUrl(u.text));
    } else {
      assert.throws(() => P.venueCodeFromUrl(u.text), (e: unknown) => {
        assert.ok(e instanceof P.DecodeError, u.case);
        assert.equal(e.message, u.message, u.case);
        return true;
      });
    }
  }
});

test("§7 entries: plaintext, sealed bytes, opened back", () => {
  const levels = new Set<number>();
  for (const e of VECTORS.entries) {
    const content = contentFrom(e.content);
    levels.add(content.level);
    assert.equal(toHex(P.entryContentToBytes(content)), e.content.plaintext);
    const sealed = P.sealEntry(fromHex(e.tag), fromHex(e.key), content, fromHex(e.nonce));
    assert.equal(toHex(sealed), e.entry);
    assert.equal(sealed.length, e.length);
    assert.deepEqual(P.openEntry(sealed, fromHex(e.key)), content);
    const tampered = sealed.slice();
    tampered[tampered.length - 1]! ^= 1;
    assert.throws(() => P.openEntry(tampered, fromHex(e.key)), P.VerificationError);
  }
  assert.deepEqual([...levels].sort(), [1, 2, 3]);
});

test("§7 proof coverage", () => {
  for (const c of VECTORS.proof_coverage) {
    const proofs = c.epochs.map((epoch: number) => ({ epoch, signature: new Uint8Array(64) }));
    assert.deepEqual(P.proofCoverage(proofs), c.minutes);
  }
});

function checkVisit(visit: P.Visit, expected: Json): void {
  assert.equal(visit.kind, expected.kind);
  assert.equal(toHex(visit.codeId), expected.code_id);
  assert.equal(toHex(visit.venuePublicKey), expected.venue_public_key);
  assert.equal(visit.enteredAt, expected.entered_at);
  assert.equal(visit.leftAt, expected.left_at);
  assert.deepEqual(visit.slots, expected.slots.map((s: Json) => ({ hour: s.hour, startMinute: s.start_minute, endMinute: s.end_minute, tag: fromHex(s.tag), key: fromHex(s.key) })));
  assert.deepEqual(visit.proofs, expected.proofs.map(proofFrom));
}

test("§6-§7 uploader stays: check in, rescan, check out, report entries", () => {
  const stays = VECTORS.uploader_stays;
  assert.ok(Object.keys(stays).length >= 3);
  for (const [name, stay] of Object.entries(stays) as [string, Json][]) {
    const visit = replayStay(stay);
    checkVisit(visit, stay.visit);
    const nonces = stay.entries.map((e: Json) => fromHex(e.nonce));
    const sealed = P.reportEntries(visit, replay(nonces));
    assert.deepEqual(sealed.map(toHex), stay.entries.map((e: Json) => e.entry), name);
    for (const e of stay.entries) {
      assert.equal(toHex(P.entryContentToBytes(contentFrom(e.content))), e.content.plaintext, name);
      assert.equal(toHex(P.hourTag(P.codeBoundKey(P.venueCodeFromUrl(stay.code_url)), e.hour)), e.tag, name);
    }
  }
});

test("§11 venue confirmation: slots, sealed entries, trace plaintext and sealed trace", () => {
  const vc = VECTORS.venue_confirmation;
  const secret = fromHex(VENUE.secret);
  const slots = P.confirmWindow(secret, vc.start, vc.end, vc.posters, vc.screen);
  assert.equal(slots.length, vc.slots.length);
  slots.forEach((slot, i) => {
    const v = vc.slots[i];
    assert.equal(toHex(P.confirmedSlotToBytes(slot)), v.bytes);
    assert.deepEqual(P.confirmedSlotFromBytes(fromHex(v.bytes)), slot);
    assert.equal(toHex(slot.signature), v.signature);
    assert.equal(slot.hour, v.hour);
    assert.equal(toHex(P.sealConfirmedSlot(slot, v.message_id, fromHex(v.nonce))), v.entry);
  });
  assert.equal(toHex(P.tracePlaintext(slots)), vc.trace_plaintext);
  const sealed = P.sealTrace(slots, authority, fromHex(vc.trace_ephemeral_secret));
  assert.equal(toHex(sealed), vc.trace_sealed);
  assert.deepEqual(P.openTrace(fromHex(vc.trace_sealed), fromHex(AUTH.seal_secret)), slots);
  const tampered = sealed.slice();
  tampered[60]! ^= 1;
  assert.throws(() => P.openTrace(tampered, fromHex(AUTH.seal_secret)), P.VerificationError);
});

function headerFrom(b: Json): P.BundleHeader {
  return {
    keyId: fromHex(b.key_id),
    sequence: BigInt(b.sequence),
    createdAt: b.created_at,
    firstHour: b.first_hour,
    lastHour: b.last_hour,
    messages: b.messages,
    revoked: b.revoked.map(fromHex),
  };
}

/** Signs a bundle vector from its fields and checks every byte; returns the verified bundle. */
function replayBundle(b: Json): P.Bundle {
  const header = headerFrom(b);
  assert.equal(toHex(P.bundleHeaderToBytes(header)), b.header);
  const entries = b.entries_in.map(fromHex);
  const authorityEntries = b.authority_entries_in.map(fromHex);
  assert.deepEqual([...entries].sort(P.compareBytes).map(toHex), b.entries_sorted);
  assert.deepEqual([...authorityEntries].sort(P.compareBytes).map(toHex), b.authority_entries_sorted);
  const data = P.signBundle(header, entries, fromHex(AUTH.sign_seed), fromHex(AUTH.sign_key), authorityEntries);
  assert.equal(toHex(data), b.bytes);
  assert.equal(data.length, b.length);
  assert.equal(toHex(P.sha256(data.subarray(0, data.length - 64))), b.body_sha256);
  assert.equal(toHex(data.subarray(data.length - 64)), b.signature);
  const bundle = P.verifyBundle(fromHex(b.bytes), authority, -1n);
  assert.deepEqual(bundle.header, header);
  assert.equal(bundle.public.count, b.count);
  assert.equal(bundle.authority.count, b.authority_count);
  for (const [section, sorted] of [
    [P.lookupPublic, b.entries_sorted],
    [P.lookupAuthority, b.authority_entries_sorted],
  ] as [(b: P.Bundle, t: Uint8Array) => Uint8Array[], string[]][]) {
    for (const e of sorted) {
      const found = section(bundle, fromHex(e.slice(0, 32))).map(toHex);
      assert.deepEqual(found, sorted.filter((x) => x.slice(0, 32) === e.slice(0, 32)));
    }
  }
  assert.deepEqual(P.lookup(bundle, new Uint8Array(16)), []);
  assert.deepEqual(P.lookup(bundle, new Uint8Array(16).fill(255)), []);
  assert.throws(() => P.verifyBundle(data, authority, BigInt(b.sequence)), P.VerificationError);
  return bundle;
}

test("§8 bundles: header, both sections, body hash, signature, bytes; verified and looked up in place", () => {
  assert.equal(VECTORS.bundles.length, 2);
  for (const b of VECTORS.bundles) replayBundle(b);
});

test("§7 revoked stay: the entries bundle 6 carries", () => {
  const stay = VECTORS.revoked_stay;
  const visit = replayStay(stay);
  checkVisit(visit, stay.visit);
  const sealed = P.reportEntries(visit, replay(stay.entries.map((e: Json) => fromHex(e.nonce))));
  assert.deepEqual(sealed.map(toHex), stay.entries.map((e: Json) => e.entry));
});

test("§12 matching: the diary against bundles 6 and 7 under three policies", () => {
  const m = VECTORS.matching;
  const visits = m.diary.map((d: Json) => {
    const visit = replayStay(d);
    checkVisit(visit, d.visit);
    return visit;
  });
  const bySequence = new Map<number, P.Bundle>(VECTORS.bundles.map((b: Json) => [b.sequence, P.verifyBundle(fromHex(b.bytes), authority)]));
  assert.ok(m.results.length >= 6);
  for (const r of m.results) {
    const policy: P.Policy = { warnLevels: new Set(r.warn_levels), minOverlapMinutes: r.min_overlap_minutes };
    const bundles = r.bundles.map((s: number) => bySequence.get(s)!);
    const found = P.match(visits, bundles, policy).map((e) => ({
      first_hour: e.firstSlot.hour,
      level: e.level,
      message: e.message,
      overlap_minutes: e.overlapMinutes,
      visit: visits.indexOf(e.visit),
    }));
    assert.deepEqual(found, r.exposures, `${r.policy} with bundles ${r.bundles}`);
  }
});

test("§10 consent: plaintext, sealed bytes, opened with the sealing secret", () => {
  const c = VECTORS.consent;
  const message: P.ConsentMessage = { tag: fromHex(c.tag), hour: c.hour, startMinute: c.start_minute, endMinute: c.end_minute, contact: c.contact };
  assert.equal(toHex(P.consentToBytes(message)), c.plaintext);
  assert.equal(toHex(P.x25519Public(fromHex(c.ephemeral_secret))), c.ephemeral_public);
  const sealed = P.sealConsent(message, authority, fromHex(c.ephemeral_secret));
  assert.equal(toHex(sealed), c.sealed);
  assert.equal(sealed.length, P.CONSENT_BYTES);
  assert.deepEqual(P.openConsent(fromHex(c.sealed), fromHex(AUTH.seal_secret)), message);
  for (const at of [0, 40, 511]) {
    const tampered = sealed.slice();
    tampered[at]! ^= 1;
    assert.throws(() => P.openConsent(tampered, fromHex(AUTH.seal_secret)), P.VerificationError);
  }
});

test("§13 uploads: head, padding, digest; parsed back", () => {
  for (const u of VECTORS.uploads) {
    const req: P.UploadRequest = { tan: u.tan, entries: u.entries.map(fromHex), dummy: u.dummy };
    const data = P.uploadToBytes(req);
    assert.equal(data.length, u.length);
    assert.equal(toHex(data.subarray(0, data.length - u.zero_padding)), u.head);
    assert.ok(data.subarray(data.length - u.zero_padding).every((b) => b === 0));
    assert.equal(toHex(P.sha256(data)), u.sha256);
    assert.deepEqual(P.uploadFromBytes(data), req);
  }
});

test("§14 configuration: signed message and signature, verified then parsed", () => {
  const c = VECTORS.config;
  const payload = fromHex(c.payload);
  assert.equal(toHex(P.concat(P.CONFIG_LABEL, payload)), c.signed_message);
  assert.equal(toHex(P.ed25519Sign(fromHex(AUTH.sign_seed), fromHex(c.signed_message))), c.signature);
  const config = P.verifyConfig(payload, fromHex(c.signature), authority);
  const doc = JSON.parse(new TextDecoder().decode(payload));
  assert.deepEqual([...config.policy.warnLevels], doc.policy.warn_levels);
  assert.equal(config.policy.minOverlapMinutes, doc.policy.min_overlap_minutes);
  assert.deepEqual(config.messages, doc.messages);
  assert.equal(config.issuedAt, doc.issued_at);
  const tampered = payload.slice();
  tampered[5]! ^= 1;
  assert.throws(() => P.verifyConfig(tampered, fromHex(c.signature), authority), P.VerificationError);
});

test("§11 trace errors: each sealed trace refused with VerificationError", () => {
  assert.ok(VECTORS.trace_errors.length >= 4);
  for (const t of VECTORS.trace_errors) {
    assert.equal(toHex(P.sealedBoxOpen(fromHex(AUTH.seal_secret), fromHex(t.sealed))), t.plaintext, t.case);
    assert.throws(() => P.openTrace(fromHex(t.sealed), fromHex(AUTH.seal_secret)), P.VerificationError, t.case);
  }
  assert.throws(() => P.tracePlaintext([]), P.PlacecodeError);
});

test("§12 matching rules: sections, claims after the bundle, the level shown, a bundle's own revocation", () => {
  assert.ok(VECTORS.matching_rules.length >= 5);
  for (const rule of VECTORS.matching_rules) {
    const visits = rule.diary.map((d: Json) => {
      const visit = replayStay(d);
      checkVisit(visit, d.visit);
      return visit;
    });
    const bundles = rule.bundles.map(replayBundle);
    for (const r of rule.results) {
      const policy: P.Policy = { warnLevels: new Set(r.warn_levels), minOverlapMinutes: r.min_overlap_minutes };
      const found = P.match(visits, bundles, policy).map((e) => ({
        first_hour: e.firstSlot.hour,
        level: e.level,
        message: e.message,
        overlap_minutes: e.overlapMinutes,
        visit: visits.indexOf(e.visit),
      }));
      assert.deepEqual(found, r.exposures, `${rule.case}: ${r.policy}`);
    }
  }
});

test("§14 configuration reading: freshness, another protocol, bad values", () => {
  assert.ok(VECTORS.config_reading.length >= 7);
  for (const c of VECTORS.config_reading) {
    const read = () => P.readConfig(fromHex(c.payload), fromHex(c.signature), authority, c.held_issued_at);
    if (c.error === undefined) {
      assert.equal(read().issuedAt, c.issued_at, c.case);
    } else {
      assert.throws(read, (e: unknown) => {
        assert.ok(e instanceof P.PlacecodeError, c.case);
        assert.equal(e.name, c.error, c.case);
        if (c.message !== undefined) assert.equal(e.message, c.message, c.case);
        return true;
      });
    }
  }
});
