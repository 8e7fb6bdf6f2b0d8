// fast-check properties for every parser a receiver runs on untrusted bytes: total
// on arbitrary input (a value or the one documented error, never a crash), and
// encode/parse round trips for every valid value.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as P from "../src/protocol/index.js";
import { fromHex, toHex } from "../src/protocol/index.js";
import { VECTORS } from "./vectors.js";

const AUTH = VECTORS.authority;
const authority = P.authorityPublicKeys(fromHex(AUTH.sign_key), fromHex(AUTH.seal_key));
const signSeed = fromHex(AUTH.sign_seed);
const sealSecret = fromHex(AUTH.seal_secret);

/** Runs `f`; passes if it returns or throws an instance of `kind`; fails on any other throw. */
function onlyThrows(kind: new (...a: never[]) => Error, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof kind)) throw new Error(`expected ${kind.name} or a value, got ${String(e)}`);
    assert.ok(e.message.length > 0, "an error says what is wrong");
  }
}

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

/** Valid venue codes: any kind, key, category, stay and a name of at most 40 UTF-8 bytes. */
const venueCode: fc.Arbitrary<P.VenueCode> = fc
  .record({
    kind: fc.constantFrom(P.KIND_POSTER, P.KIND_SCREEN),
    codeKey: bytes(32, 32),
    venuePublicKey: bytes(32, 32).map((seed) => P.ed25519Public(seed)),
    category: fc.integer({ min: 0, max: 255 }),
    stayMinutes: fc.integer({ min: 1, max: P.MAX_STAY_MINUTES }),
    name: fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => P.bytes(s).length <= P.MAX_NAME_BYTES),
    epoch: fc.integer({ min: 0, max: 0xffffffff }),
    signature: bytes(64, 64),
  })
  .map(({ epoch, signature, ...c }) => ({ ...c, proof: c.kind === P.KIND_SCREEN ? { epoch, signature } : null }));

test("§4 QR payload: from_url is total on arbitrary text and bytes (a code or DecodeError)", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 400 }), (s) => onlyThrows(P.DecodeError, () => P.venueCodeFromUrl(s))));
  fc.assert(fc.property(bytes(0, 400), (b) => onlyThrows(P.DecodeError, () => P.venueCodeFromUrl(b))));
  const alphabet = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcxyz0189=#-_ ");
  fc.assert(
    fc.property(fc.string({ unit: alphabet, maxLength: 300 }), (frag) =>
      onlyThrows(P.DecodeError, () => P.venueCodeFromUrl("https://x.example/v#" + frag)),
    ),
  );
});

test("§4 QR payload: from_bytes is total on arbitrary bytes and on one-byte changes of a valid payload", () => {
  fc.assert(fc.property(bytes(0, 300), (b) => onlyThrows(P.DecodeError, () => P.venueCodeFromBytes(b))));
  fc.assert(
    fc.property(venueCode, fc.nat(), fc.integer({ min: 1, max: 255 }), (code, at, x) => {
      const payload = P.venueCodeToBytes(code);
      payload[at % payload.length]! ^= x;
      onlyThrows(P.DecodeError, () => P.venueCodeFromBytes(payload));
    }),
  );
  fc.assert(
    fc.property(venueCode, fc.nat(), (code, cut) => {
      const payload = P.venueCodeToBytes(code);
      assert.throws(() => P.venueCodeFromBytes(payload.subarray(0, cut % payload.length)), P.DecodeError);
      assert.throws(() => P.venueCodeFromBytes(P.concat(payload, new Uint8Array(1 + (cut % 3)))), P.DecodeError);
    }),
  );
});

test("§4 QR payload: every valid code round-trips through bytes and URL, in any case and with white space", () => {
  fc.assert(
    fc.property(venueCode, fc.constantFrom("", " ", "\n", "\t "), (code, ws) => {
      assert.deepEqual(P.venueCodeFromBytes(P.venueCodeToBytes(code)), code);
      const url = P.venueCodeToUrl(code);
      assert.match(url, /^HTTPS:\/\/PLACECODE\.APP\/V#[A-Z2-7]+$/);
      assert.deepEqual(P.venueCodeFromUrl(ws + url + ws), code);
      assert.deepEqual(P.venueCodeFromUrl(url.toLowerCase()), code);
      assert.deepEqual(P.venueCodeFromUrl(P.bytes(url)), code);
      assert.deepEqual(P.venueCodeFromUrl(P.venueCodeToUrl(code, P.checkinUrl("http://localhost:8080/"))), code);
    }),
  );
});

test("§4 base32: decode inverts encode; impossible lengths are refused", () => {
  fc.assert(fc.property(bytes(0, 200), (b) => assert.deepEqual(P.base32Decode(P.base32Encode(b)), b)));
  for (const n of [1, 3, 6, 9, 11, 14]) assert.throws(() => P.base32Decode("A".repeat(n)), P.DecodeError);
});

const entry = fc
  .tuple(bytes(16, 16), fc.constantFrom(48, 112, 117, 185), bytes(185, 185))
  .map(([tag, n, rest]) => P.concat(tag, rest.subarray(0, n - 16)));

const tan = fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 32 });

const upload: fc.Arbitrary<P.UploadRequest> = fc
  .record({ tan, entries: fc.array(entry, { maxLength: 40 }), dummy: fc.boolean() })
  .filter((u) => P.entriesProblem(u.entries) === null)
  .map((u) => ({ tan: u.tan, entries: u.entries, dummy: u.dummy }));

test("§13 uploads: every valid request round-trips at exactly 65,536 bytes", () => {
  fc.assert(
    fc.property(upload, (u) => {
      const data = P.uploadToBytes(u);
      assert.equal(data.length, P.UPLOAD_BYTES);
      assert.deepEqual(P.uploadFromBytes(data), u);
    }),
    { numRuns: 200 },
  );
});

test("§13 uploads: the parser is total on arbitrary and on changed requests (DecodeError with a reason)", () => {
  fc.assert(fc.property(bytes(0, 200), (b) => assert.throws(() => P.uploadFromBytes(b), P.DecodeError)));
  fc.assert(
    fc.property(upload, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (u, changes) => {
      const data = P.uploadToBytes(u);
      const used = 40 + u.entries.reduce((n, e) => n + 1 + e.length, 0);
      for (const [at, x] of changes) data[at % (used + 8)]! ^= x;
      onlyThrows(P.DecodeError, () => P.uploadFromBytes(data));
    }),
    { numRuns: 300 },
  );
  const zeroPadding = P.uploadToBytes({ tan: "T", entries: [], dummy: false });
  zeroPadding[P.UPLOAD_BYTES - 1] = 1;
  assert.throws(() => P.uploadFromBytes(zeroPadding), /padding/);
});

test("§13 uploads: a fourth entry under one tag, a bad length, a bad TAN field: each refused", () => {
  const tag = new Uint8Array(16).fill(7);
  const four = [0, 1, 2, 3].map((i) => P.concat(tag, new Uint8Array(32).fill(i)));
  assert.throws(() => P.uploadToBytes({ tan: "T", entries: four, dummy: false }), P.PlacecodeError);
  const data = P.uploadToBytes({ tan: "T", entries: four.slice(0, 3), dummy: false });
  // Append a fourth entry by hand: count 4 and one more length-prefixed entry.
  data[39] = 4;
  data[40 + 3 * 49] = 48;
  data.set(four[3]!, 40 + 3 * 49 + 1);
  assert.throws(() => P.uploadFromBytes(data), /entries under one tag/);
  const short = P.uploadToBytes({ tan: "T", entries: [], dummy: false });
  short[39] = 1;
  short[40] = 47;
  assert.throws(() => P.uploadFromBytes(short), /47 bytes/);
  const badTan = P.uploadToBytes({ tan: "AB", entries: [], dummy: true });
  badTan[9] = 0x41; // a TAN byte after the length that is not a space
  assert.throws(() => P.uploadFromBytes(badTan), /padded with spaces/);
  const empty = P.uploadToBytes({ tan: "AB", entries: [], dummy: true });
  empty[5] = 0;
  assert.throws(() => P.uploadFromBytes(empty), /TAN/);
  const flag = P.uploadToBytes({ tan: "AB", entries: [], dummy: true });
  flag[4] = 2;
  assert.throws(() => P.uploadFromBytes(flag), /flag/);
  const magic = P.uploadToBytes({ tan: "AB", entries: [], dummy: true });
  magic[3] = 2;
  assert.throws(() => P.uploadFromBytes(magic), { message: "this is not a placecode/1 upload" });
});

test("§10 consent: every message round-trips through 512 sealed bytes; anything else is VerificationError", () => {
  const contact = fc.string({ unit: "grapheme", maxLength: 200 }).filter((s) => P.contactBytes(s) <= P.MAX_CONTACT_BYTES);
  const window = fc.tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 60 })).filter(([s, e]) => s < e);
  fc.assert(
    fc.property(bytes(16, 16), fc.integer({ min: 0, max: 0xffffffff }), window, contact, bytes(32, 32), (tag, hour, [s, e], c, esk) => {
      const m: P.ConsentMessage = { tag, hour, startMinute: s, endMinute: e, contact: c };
      const sealed = P.sealConsent(m, authority, esk);
      assert.equal(sealed.length, P.CONSENT_BYTES);
      assert.deepEqual(P.openConsent(sealed, sealSecret), m);
    }),
    { numRuns: 50 },
  );
  fc.assert(fc.property(bytes(0, 600), (b) => assert.throws(() => P.openConsent(b, sealSecret), P.VerificationError)));
  fc.assert(
    fc.property(bytes(P.CONSENT_PLAINTEXT_BYTES, P.CONSENT_PLAINTEXT_BYTES), (pt) =>
      onlyThrows(P.VerificationError, () => P.consentFromBytes(pt)),
    ),
  );
  // A well-sealed plaintext that breaks a rule behind the MAC is the same opaque error.
  const good = P.consentToBytes({ tag: new Uint8Array(16), hour: 1, startMinute: 0, endMinute: 60, contact: "x" });
  for (const [at, value] of [[0, 2], [21, 60], [23, 2], [463, 1], [25, 0xff]] as const) {
    const bad = good.slice();
    bad[at] = value;
    const sealed = P.sealedBox(authority.sealKey, bad, new Uint8Array(32).fill(9));
    assert.throws(() => P.openConsent(sealed, sealSecret), { message: "verification failed" });
  }
});

test("§7 entries: open_entry is total (VerificationError) on arbitrary bytes and keys", () => {
  fc.assert(fc.property(bytes(0, 200), bytes(32, 32), (e, k) => assert.throws(() => P.openEntry(e, k), P.VerificationError)));
  fc.assert(fc.property(bytes(0, 200), (pt) => onlyThrows(P.VerificationError, () => P.entryContentFromBytes(pt))));
});

/** Entries whose tags repeat (to exercise equal runs in the tag column). */
const bundleEntries = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 7 }), bytes(16, 16), fc.constantFrom(48, 112, 117, 185), bytes(169, 169)).map(([t, tag, n, rest]) => {
    if (t < 4) tag.fill(t * 60); // a handful of shared tags, sorted apart
    return P.concat(tag, rest.subarray(0, n - 16));
  }),
  { maxLength: 30 },
);

function sign(entries: readonly Uint8Array[], sequence = 1n, revoked: Uint8Array[] = [], authorityEntries: readonly Uint8Array[] = []): Uint8Array {
  const header: P.BundleHeader = {
    keyId: P.keyId(authority.signKey),
    sequence,
    createdAt: 1780000000,
    firstHour: 1,
    lastHour: 2,
    messages: ["m"],
    revoked,
  };
  return P.signBundle(header, entries, signSeed, authority.signKey, authorityEntries);
}

test("§8 bundles: lookup by binary search finds exactly what a linear scan finds", () => {
  fc.assert(
    fc.property(bundleEntries, bundleEntries, bytes(16, 16), (entries, authorityEntries, probe) => {
      const bundle = P.verifyBundle(sign(entries, 1n, [], authorityEntries), authority);
      assert.equal(bundle.public.count, entries.length);
      assert.equal(bundle.authority.count, authorityEntries.length);
      const find = (list: Uint8Array[], tag: Uint8Array) =>
        [...list].sort(P.compareBytes).filter((e) => P.equalBytes(e.subarray(0, 16), tag)).map(toHex);
      for (const tag of [probe, ...entries.map((e) => e.subarray(0, 16)), ...authorityEntries.map((e) => e.subarray(0, 16))]) {
        assert.deepEqual(P.lookupPublic(bundle, tag).map(toHex), find(entries, tag));
        assert.deepEqual(P.lookupAuthority(bundle, tag).map(toHex), find(authorityEntries, tag));
        assert.deepEqual(P.lookup(bundle, tag).map(toHex), [...find(authorityEntries, tag), ...find(entries, tag)]);
      }
    }),
    { numRuns: 60 },
  );
});

test("§8 bundles: any change, truncation or extension of a signed bundle is VerificationError", () => {
  const data = fromHex(VECTORS.bundles[1].bytes);
  P.verifyBundle(data, authority);
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, x) => {
      const bad = data.slice();
      bad[at % bad.length]! ^= x;
      assert.throws(() => P.verifyBundle(bad, authority), P.VerificationError);
    }),
  );
  fc.assert(
    fc.property(fc.nat(), bytes(1, 8), (cut, extra) => {
      assert.throws(() => P.verifyBundle(data.subarray(0, cut % data.length), authority), P.VerificationError);
      assert.throws(() => P.verifyBundle(P.concat(data, extra), authority), P.VerificationError);
    }),
  );
  fc.assert(fc.property(bytes(0, 400), (b) => assert.throws(() => P.verifyBundle(b, authority), P.VerificationError)));
});

test("§8 bundles: a validly signed but malformed body is refused, and a bad offset is skipped by lookup", () => {
  // A body whose count promises more entries than it holds, signed by the authority itself.
  const entries = [P.concat(new Uint8Array(16).fill(1), new Uint8Array(32))];
  const good = sign(entries);
  const body = good.subarray(0, good.length - 64);
  const resign = (b: Uint8Array) => P.concat(b, P.ed25519Sign(signSeed, P.concat(P.BUNDLE_LABEL, P.sha256(b))));
  const headerLength = body.length - 4 - 20 - 32;
  const bigCount = body.slice();
  bigCount[headerLength + 3] = 2;
  assert.throws(() => P.verifyBundle(resign(bigCount), authority), P.VerificationError);
  const trailing = P.concat(body, Uint8Array.of(0));
  assert.throws(() => P.verifyBundle(resign(trailing), authority), P.VerificationError);
  // Two entries whose first end offset runs backwards: verification passes (it does not
  // parse entries), lookup skips the malformed position and returns the other.
  const two = [P.concat(new Uint8Array(16).fill(1), new Uint8Array(32).fill(1)), P.concat(new Uint8Array(16).fill(1), new Uint8Array(32).fill(2))];
  const b2 = sign(two);
  const body2 = b2.subarray(0, b2.length - 64).slice();
  const endsAt = body2.length - 64 - 8;
  body2.set(P.u32(70), endsAt); // end_0 = 70 > end_1 = 64
  const bundle = P.verifyBundle(resign(body2), authority);
  const found = P.lookup(bundle, new Uint8Array(16).fill(1));
  assert.equal(found.length, 0, "end_0 > len(payloads) and end_1 < end_0: both positions skipped");
});

test("§8 bundles: rollback and a foreign key are refused", () => {
  const data = sign([], 5n);
  assert.equal(P.verifyBundle(data, authority, 4n).header.sequence, 5n);
  assert.throws(() => P.verifyBundle(data, authority, 5n), P.VerificationError);
  assert.throws(() => P.verifyBundle(data, authority, 6n), P.VerificationError);
  const other = P.authorityPublicKeys(P.ed25519Public(new Uint8Array(32).fill(3)), authority.sealKey);
  assert.throws(() => P.verifyBundle(data, other), P.VerificationError);
});

test("§13 dummy uploads: 65,536 bytes, a TAN of the service's shape, real entry lengths; parsed like a real one", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      let k = 0;
      const random = (n: number) => {
        const out = new Uint8Array(n);
        for (let at = 0; at < n; at += 32) out.set(P.sha256(P.u32(seed), P.u32(k++)).subarray(0, Math.min(32, n - at)), at);
        return out;
      };
      const dummy = P.dummyUpload(random);
      assert.equal(P.normalizeTan(dummy.tan.toLowerCase().replace(/-/g, " ")), dummy.tan);
      assert.ok(dummy.entries.length >= 1 && dummy.entries.length <= P.MAX_DUMMY_ENTRIES);
      for (const e of dummy.entries) assert.ok([48, 117, 185].includes(e.length));
      const data = P.uploadToBytes(dummy);
      assert.equal(data.length, P.UPLOAD_BYTES);
      assert.equal(data[4], P.UPLOAD_DUMMY);
      assert.deepEqual(P.uploadFromBytes(data), dummy);
    }),
    { numRuns: 30 },
  );
  assert.equal(P.normalizeTan("abcd efgh jkmo"), "ABCD-EFGH-JKM0", "O reads as 0, as the service reads it");
  assert.equal(P.normalizeTan("ABCD-EFGH-JKil"), "ABCD-EFGH-JK11");
  assert.throws(() => P.normalizeTan("ABCD-EFGH-JKMU"), P.DecodeError, "U is not a Crockford digit");
  assert.throws(() => P.normalizeTan("ABCD-EFGH-JKM"), P.DecodeError);
  assert.equal(P.chance(() => new Uint8Array(8), 0.3), true);
  assert.equal(P.chance(() => new Uint8Array(8).fill(255), 0.3), false);
  assert.equal(P.chance(() => new Uint8Array(8).fill(255), 1), true);
});

test("§14 configuration: reading is total on any signed JSON or text (a configuration, DecodeError or VerificationError)", () => {
  const sign = (payload: Uint8Array) => P.ed25519Sign(signSeed, P.concat(P.CONFIG_LABEL, payload));
  const good = JSON.parse(new TextDecoder().decode(fromHex(VECTORS.config.payload)));
  const read = (payload: Uint8Array) => {
    try {
      P.readConfig(payload, sign(payload), authority, null);
    } catch (e) {
      if (!(e instanceof P.VerificationError || e instanceof P.DecodeError)) throw e;
    }
  };
  fc.assert(fc.property(fc.json(), (text) => read(P.bytes(text))), { numRuns: 200 });
  fc.assert(fc.property(bytes(0, 200), (b) => read(b)), { numRuns: 100 });
  // The real document with one field replaced by any JSON value.
  const fields = ["protocol", "authority", "policy", "retention_days", "upload_bytes", "consent_bytes", "messages", "issued_at", "public_url"];
  fc.assert(
    fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => read(P.bytes(JSON.stringify({ ...good, [field]: value })))),
    { numRuns: 300 },
  );
  // Numbers written with a fraction or an exponent are not integers, though JavaScript reads 1.0 as 1.
  const text = new TextDecoder().decode(fromHex(VECTORS.config.payload));
  for (const [from, to] of [[/"retention_days":14/, '"retention_days":14.0'], [/"issued_at":(\d+)/, '"issued_at":1.7801e9'], [/"min_overlap_minutes":10/, '"min_overlap_minutes":1E1']] as const) {
    const changed = P.bytes(text.replace(from, to));
    assert.notDeepEqual(changed, P.bytes(text));
    assert.throws(() => P.readConfig(changed, sign(changed), authority), P.VerificationError, to);
  }
  // public_url: absent or null reads as null, a string as itself, anything else is refused.
  for (const [value, expected] of [[undefined, null], [null, null], ["https://checkin.example.org", "https://checkin.example.org"]] as const) {
    const changed = P.bytes(JSON.stringify({ ...good, public_url: value }));
    assert.equal(P.readConfig(changed, sign(changed), authority).publicUrl, expected);
  }
  for (const value of [1, true, ["x"], { u: 1 }]) {
    const changed = P.bytes(JSON.stringify({ ...good, public_url: value }));
    assert.throws(() => P.readConfig(changed, sign(changed), authority), P.VerificationError);
  }
  // Freshness: an older configuration is refused, the same or a newer one read.
  const payload = fromHex(VECTORS.config.payload);
  const issued = P.readConfig(payload, sign(payload), authority).issuedAt;
  P.readConfig(payload, sign(payload), authority, issued);
  assert.throws(() => P.readConfig(payload, sign(payload), authority, issued + 1), P.VerificationError);
  // A configuration signed by another key is refused before its JSON is read.
  const other = P.ed25519Sign(new Uint8Array(32).fill(4), P.concat(P.CONFIG_LABEL, payload));
  assert.throws(() => P.readConfig(payload, other, authority), P.VerificationError);
});
