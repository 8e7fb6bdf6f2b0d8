// §6 check-in and §12 matching played as an attacker would, through the published API.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as P from "../src/protocol/index.js";
import { fromHex } from "../src/protocol/index.js";
import { VECTORS } from "./vectors.js";

const SECRET = fromHex(VECTORS.venue.secret);
const NOW = 1780050000; // 2026-05-28 10:20 UTC, day 20602
const DAY = Math.floor(NOW / 86400);
const AUTH = VECTORS.authority;
const authority = P.authorityPublicKeys(fromHex(AUTH.sign_key), fromHex(AUTH.seal_key));

function screen(now: number, secret = SECRET, name = "Café"): P.VenueCode {
  const keys = P.codeKeys(secret, P.KIND_SCREEN, Math.floor(now / 86400));
  return { kind: P.KIND_SCREEN, codeKey: keys.codeKey, venuePublicKey: keys.publicKey, category: 3, stayMinutes: 180, name, proof: P.presenceProof(keys, P.epochOf(now)) };
}

function poster(generation = 0): P.VenueCode {
  const keys = P.codeKeys(SECRET, P.KIND_POSTER, generation);
  return { kind: P.KIND_POSTER, codeKey: keys.codeKey, venuePublicKey: keys.publicKey, category: 3, stayMinutes: 120, name: "Café", proof: null };
}

const counter = () => {
  let k = 0;
  return (n: number) => new Uint8Array(n).fill(++k % 256);
};

test("§6 a live screen code checks in; stale, future and unsigned codes are refused with CodeError", () => {
  const code = P.venueCodeFromUrl(P.venueCodeToUrl(screen(NOW)));
  assert.equal(P.checkIn(code, NOW + 90).proofs.length, 1);
  assert.throws(() => P.checkIn(code, NOW + 91 + 29), { name: "CodeError", message: "this code expired: scan the live code on the venue's screen" });
  assert.throws(() => P.checkIn(code, NOW - 31 - 29), { name: "CodeError", message: "this code is dated in the future: check the time on this device" });
  P.checkIn(code, NOW - 30);
  const forged = { ...code, proof: { epoch: code.proof!.epoch, signature: new Uint8Array(64).fill(1) } };
  assert.throws(() => P.checkIn(forged, NOW), { name: "CodeError", message: "this code was not signed by the venue: do not use it" });
  const otherKey = { ...code, venuePublicKey: P.codeKeys(SECRET, P.KIND_POSTER, 0).publicKey };
  assert.throws(() => P.checkIn(otherKey, NOW), P.CodeError);
  const replayedEpoch = { ...code, proof: { epoch: code.proof!.epoch + 2, signature: code.proof!.signature } };
  assert.throws(() => P.checkIn(replayedEpoch, NOW + 60), P.CodeError, "a proof re-dated to a later epoch");
});

test("§6 rescan: only the code checked in with; the latest exit proof replaces an earlier one", () => {
  const stay = P.checkIn(screen(NOW), NOW);
  assert.throws(() => P.rescan(stay, screen(NOW + 600, new Uint8Array(32).fill(5)), NOW + 600), { name: "CodeError", message: "this is not the code you checked in with" });
  assert.throws(() => P.rescan(stay, poster(), NOW + 600), P.CodeError);
  const once = P.rescan(stay, screen(NOW + 600), NOW + 600);
  const twice = P.rescan(once, screen(NOW + 1200), NOW + 1200);
  assert.deepEqual(twice.proofs.map((p) => p.epoch), [P.epochOf(NOW), P.epochOf(NOW + 1200)]);
  assert.throws(() => P.rescan(stay, screen(NOW + 600), NOW + 700), P.CodeError, "a stale exit code");
  const p = P.checkIn(poster(), NOW);
  assert.equal(P.rescan(p, poster(), NOW + 60), p, "a poster rescan changes nothing");
});

test("§6 check-out: clamped to the automatic check-out, never before the entry, no code key kept", () => {
  const stay = P.checkIn(poster(), NOW);
  assert.equal(P.autoCheckoutAt(stay), NOW + 7200);
  const visit = P.checkOut(stay, NOW + 86400);
  assert.equal(visit.leftAt, NOW + 7200);
  assert.throws(() => P.checkOut(stay, NOW), (e: unknown) => e instanceof P.PlacecodeError && !(e instanceof P.CodeError));
  const json = JSON.stringify(visit, (_k, v) => (v instanceof Uint8Array ? P.toHex(v) : v));
  assert.ok(!json.includes(P.toHex(stay.code.codeKey)), "the visit never holds the code key");
  assert.deepEqual(Object.keys(visit).sort(), ["category", "codeId", "enteredAt", "kind", "leftAt", "name", "proofs", "slots", "venuePublicKey"]);
});

test("§6 scanning: same code checks out, the screen's next-day code checks out, anything else checks in", () => {
  const stay = P.checkIn(screen(NOW), NOW);
  assert.equal(P.scanMeaning(null, screen(NOW)), "check-in");
  assert.equal(P.scanMeaning(stay, screen(NOW + 300)), "check-out");
  const tomorrow = (DAY + 1) * 86400 + 60;
  assert.equal(P.scanMeaning(stay, screen(tomorrow)), "next-day-check-out");
  assert.equal(P.scanMeaning(stay, screen(tomorrow, SECRET, "Other")), "check-in");
  assert.equal(P.scanMeaning(stay, screen(tomorrow + 86400)), "check-in");
  assert.equal(P.scanMeaning(stay, poster()), "check-in");
});

test("§6 stay windows: every minute of the widened stay exactly once, hour by hour", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 720 * 60 }), (start, length) => {
      const end = start + length;
      const windows = P.stayWindows(start, end);
      const minutes = windows.flatMap((w) => Array.from({ length: w.endMinute - w.startMinute }, (_, i) => 60 * w.hour + w.startMinute + i));
      const first = Math.floor(start / 60);
      const last = Math.ceil(end / 60);
      assert.deepEqual(minutes, Array.from({ length: last - first }, (_, i) => first + i));
      for (const w of windows) assert.ok(0 <= w.startMinute && w.startMinute < w.endMinute && w.endMinute <= 60);
    }),
  );
});

test("§6 verification number: from the latest scanned proof, shown for 90 s, never from a poster or a re-encoded screen", () => {
  const stay = P.checkIn(screen(NOW), NOW);
  const shown = P.liveVerificationCode(stay, NOW);
  assert.match(shown ?? "", /^\d{6}$/);
  const keys = P.codeKeys(SECRET, P.KIND_SCREEN, DAY);
  assert.equal(P.verificationCode(keys.boundKey, P.presenceProof(keys, P.epochOf(NOW))), shown, "what the screen shows");
  assert.equal(P.liveVerificationCode(stay, P.epochOf(NOW) * 30 + 90), shown);
  assert.equal(P.liveVerificationCode(stay, P.epochOf(NOW) * 30 + 91), null);
  const later = P.rescan(stay, screen(NOW + 600), NOW + 600);
  assert.equal(P.liveVerificationCode(later, NOW + 600), P.verificationCode(keys.boundKey, P.presenceProof(keys, P.epochOf(NOW + 600))));
  assert.equal(P.liveVerificationCode(P.checkIn(poster(), NOW), NOW), null);
  // A screenshot re-encoded as a poster checks in but shows nothing, and its tags are not the screen's.
  const code = screen(NOW);
  const downgraded = P.checkIn({ ...code, kind: P.KIND_POSTER, proof: null }, NOW + 3 * 3600);
  assert.equal(P.liveVerificationCode(downgraded, NOW + 3 * 3600), null);
  const real = P.checkOut(stay, NOW + 3600);
  const fake = P.checkOut(downgraded, NOW + 4 * 3600);
  assert.notDeepEqual(fake.slots[0]!.tag, P.hourTag(stay.boundKey, fake.slots[0]!.hour));
  assert.notDeepEqual(real.codeId, fake.codeId);
});

test("§4 a QR code carrying a small-order or mixed-order venue key is refused when parsed", () => {
  const code = poster();
  const payload = P.venueCodeToBytes(code);
  for (const key of [new Uint8Array(32), P.concat(Uint8Array.of(1), new Uint8Array(31))]) {
    const bad = payload.slice();
    bad.set(key, 34);
    assert.throws(() => P.venueCodeFromBytes(bad), { name: "DecodeError", message: "this placecode QR code carries an invalid venue key: do not use it" });
  }
});

/** A signed bundle of the given entries, as the authority would publish it. */
function bundle(entries: Uint8Array[], sequence = 1n, revoked: Uint8Array[] = [], messages = ["m0", "m1"]): P.Bundle {
  const header: P.BundleHeader = { keyId: fromHex(AUTH.key_id), sequence, createdAt: NOW + 86400, firstHour: 0, lastHour: 0, messages, revoked };
  return P.verifyBundle(P.signBundle(header, entries, fromHex(AUTH.sign_seed), authority.signKey), authority);
}

test("§12 an uploader's report warns a visitor of the same code-hours, with the overlap counted once", () => {
  const uploader = P.checkOut(P.checkIn(poster(), NOW), NOW + 3600);
  const visitor = P.checkOut(P.checkIn(poster(), NOW + 1800), NOW + 5400);
  const entries = P.reportEntries(uploader, counter(), 1);
  const twice = [...entries, ...P.reportEntries(uploader, counter(), 1).map((e) => e.slice())];
  const [exposure] = P.match([visitor], [bundle(twice)]);
  assert.ok(exposure);
  assert.equal(exposure.overlapMinutes, 30, "ten cases in the same minutes count once");
  assert.equal(exposure.level, P.SELF_REPORTED);
  assert.equal(exposure.message, "m1");
  assert.equal(P.match([visitor], [bundle(entries)], { warnLevels: new Set([1, 2]), minOverlapMinutes: 10 }).length, 0);
  const elsewhere = P.checkOut(P.checkIn(poster(1), NOW), NOW + 3600);
  assert.equal(P.match([elsewhere], [bundle(entries)]).length, 0, "another poster generation shares no tag");
});

test("§12 forged evidence warns at no stronger level: a venue signature by another key, proofs outside their coverage", () => {
  const visitor = P.checkOut(P.checkIn(screen(NOW), NOW), NOW + 3600);
  const slot = visitor.slots[0]!;
  const attacker = P.codeKeys(new Uint8Array(32).fill(9), P.KIND_SCREEN, DAY);
  const forgedConfirm = P.sealEntry(slot.tag, slot.key, { level: P.VENUE_CONFIRMED, startMinute: slot.startMinute, endMinute: slot.endMinute, messageId: 0, venueSignature: P.ed25519Sign(attacker.signingSeed, P.confirmMessage(slot.tag, slot.startMinute, slot.endMinute)), proofs: [] }, new Uint8Array(12));
  assert.deepEqual(P.match([visitor], [bundle([forgedConfirm])], { warnLevels: new Set([1]), minOverlapMinutes: 1 }), []);
  // A real proof of the screen, claimed for minutes more than an hour after it.
  const keys = P.codeKeys(SECRET, P.KIND_SCREEN, DAY);
  const early = P.presenceProof(keys, P.epochOf(NOW - 7200));
  const late = P.sealEntry(slot.tag, slot.key, { level: P.PRESENCE_PROVEN, startMinute: slot.startMinute, endMinute: slot.endMinute, messageId: 0, venueSignature: null, proofs: [early] }, new Uint8Array(12));
  assert.deepEqual(P.match([visitor], [bundle([late])], { warnLevels: new Set([1, 2]), minOverlapMinutes: 1 }), []);
  // The same proof within its hour holds.
  const fair = P.sealEntry(slot.tag, slot.key, { level: P.PRESENCE_PROVEN, startMinute: slot.startMinute, endMinute: slot.endMinute, messageId: 0, venueSignature: null, proofs: [P.presenceProof(keys, P.epochOf(NOW))] }, new Uint8Array(12));
  assert.equal(P.match([visitor], [bundle([fair])], { warnLevels: new Set([2]), minOverlapMinutes: 1 }).length, 1);
  // An entry sealed under another key for the same tag opens to nothing.
  const wrongKey = P.sealEntry(slot.tag, new Uint8Array(32).fill(1), { level: P.SELF_REPORTED, startMinute: 0, endMinute: 60, messageId: 0, venueSignature: null, proofs: [] }, new Uint8Array(12));
  assert.deepEqual(P.match([visitor], [bundle([wrongKey])]), []);
});

test("§12 revocation: a later bundle's header hides the tag's entries in earlier bundles only", () => {
  const uploader = P.checkOut(P.checkIn(poster(), NOW), NOW + 3600);
  const visitor = P.checkOut(P.checkIn(poster(), NOW), NOW + 3600);
  const entries = P.reportEntries(uploader, counter());
  const tags = entries.map((e) => e.subarray(0, 16).slice());
  assert.equal(tags.length, 2);
  const first = bundle(entries, 1n);
  assert.equal(P.match([visitor], [first, bundle([], 2n, [tags[0]!])])[0]?.overlapMinutes, 20, "one hour revoked");
  const revoking = bundle([], 2n, tags);
  assert.equal(P.match([visitor], [first]).length, 1);
  assert.equal(P.match([visitor], [first, revoking]).length, 0);
  const republished = bundle(P.reportEntries(uploader, counter()), 3n);
  assert.equal(P.match([visitor], [first, revoking, republished]).length, 1, "entries of a higher sequence still count");
});

test("§8 verification with WebCrypto's SHA-256 gives the same bundle and refuses the same tampering", async () => {
  for (const b of VECTORS.bundles) {
    const data = fromHex(b.bytes);
    assert.deepEqual(await P.verifyBundleAsync(data, authority), P.verifyBundle(data, authority));
    const bad = data.slice();
    bad[bad.length - 100]! ^= 1;
    await assert.rejects(P.verifyBundleAsync(bad, authority), P.VerificationError);
    await assert.rejects(P.verifyBundleAsync(data, authority, BigInt(b.sequence)), P.VerificationError);
    await assert.rejects(P.verifyBundleAsync(data.subarray(0, 10), authority), P.VerificationError);
  }
});

test("§8 catch-up: ascending order, never skipping a listed bundle that is missing or fails", () => {
  const make = (sequence: bigint) => {
    const header: P.BundleHeader = { keyId: fromHex(AUTH.key_id), sequence, createdAt: NOW, firstHour: 0, lastHour: 0, messages: [], revoked: [] };
    return P.signBundle(header, [], fromHex(AUTH.sign_seed), authority.signKey);
  };
  const all = new Map<bigint, Uint8Array | null>([5n, 6n, 7n, 8n].map((s) => [s, make(s)]));
  const full = P.catchUp(all, authority, 5n);
  assert.deepEqual(full.bundles.map((b) => b.header.sequence), [6n, 7n, 8n]);
  assert.equal(full.complete, true);
  const missing = P.catchUp(new Map([...all, [7n, null]]), authority, 5n);
  assert.deepEqual(missing.bundles.map((b) => b.header.sequence), [6n]);
  assert.equal(missing.complete, false);
  const tampered = make(7n);
  tampered[20]! ^= 1;
  assert.deepEqual(P.catchUp(new Map([...all, [7n, tampered]]), authority, 5n).bundles.map((b) => b.header.sequence), [6n]);
  // A server that lists bundle 7 under the number 8 does not get it accepted as 8.
  assert.deepEqual(P.catchUp(new Map([[8n, make(7n)]]), authority, 6n), { bundles: [], complete: false });
});

test("§12 property: at one poster, the overlap is exactly the minutes both stays share, cut at the bundle's creation", () => {
  const minutesOf = (start: number, end: number) => {
    const out = new Set<number>();
    for (let m = Math.floor(start / 60); m < Math.ceil(end / 60); m++) out.add(m);
    return out;
  };
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 6 * 3600 }),
      fc.integer({ min: 60, max: 5 * 3600 }),
      fc.integer({ min: 0, max: 6 * 3600 }),
      fc.integer({ min: 60, max: 5 * 3600 }),
      fc.integer({ min: 0, max: 12 * 3600 }),
      (a, aLength, b, bLength, created) => {
        const code = { ...poster(), stayMinutes: 720 };
        const uploader = P.checkOut(P.checkIn(code, NOW + a), NOW + a + aLength);
        const visitor = P.checkOut(P.checkIn(code, NOW + b), NOW + b + bLength);
        const header: P.BundleHeader = { keyId: fromHex(AUTH.key_id), sequence: 1n, createdAt: NOW + created, firstHour: 0, lastHour: 0, messages: [], revoked: [] };
        const data = P.signBundle(header, P.reportEntries(uploader, counter()), fromHex(AUTH.sign_seed), authority.signKey);
        const found = P.match([visitor], [P.verifyBundle(data, authority)], { warnLevels: new Set([1, 2, 3]), minOverlapMinutes: 1 });
        const shared = [...minutesOf(NOW + a, NOW + a + aLength)].filter(
          (m) => minutesOf(NOW + b, NOW + b + bLength).has(m) && m < Math.floor((NOW + created) / 60),
        ).length;
        assert.equal(found[0]?.overlapMinutes ?? 0, shared);
        if (shared > 0) assert.equal(found[0]!.level, P.SELF_REPORTED);
      },
    ),
    { numRuns: 60 },
  );
});
