// The web client's matching figures, printed as one JSON object for bench/web.py:
// a 14-day diary of 100 visits (300 hour tags) matched against a signed bundle of
// 10^6 entries, in V8, single thread. As in bench/protocol.py, three of the
// diary's visits are really published (two posters self-reported, one screen with
// an exit rescan presence-proven), so matching opens entries and checks their
// evidence; every other entry is random bytes of a self-reported entry's length
// (AES-GCM output behind an HMAC tag looks the same to lookup and verification).
import { randomBytes } from "node:crypto";
import * as P from "../src/protocol/index.js";

const START = 1_767_225_600; // 2026-01-01 UTC
const VISITS = 100;
const ENTRIES = 1_000_000;
const RUNS = 15;
const TAGS = 300;

const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function posterCode(secret: Uint8Array, name: string): P.VenueCode {
  const keys = P.codeKeys(secret, P.KIND_POSTER, 0);
  return { kind: P.KIND_POSTER, codeKey: keys.codeKey, venuePublicKey: keys.publicKey, category: 1, stayMinutes: 180, name, proof: null };
}

function screenCode(secret: Uint8Array, name: string, now: number): P.VenueCode {
  const keys = P.codeKeys(secret, P.KIND_SCREEN, Math.floor(now / 86400));
  const proof = P.presenceProof(keys, P.epochOf(now));
  return { kind: P.KIND_SCREEN, codeKey: keys.codeKey, venuePublicKey: keys.publicKey, category: 1, stayMinutes: 180, name, proof };
}

function diary(): { visits: P.Visit[]; published: Uint8Array[] } {
  const visits: P.Visit[] = [];
  const published: Uint8Array[] = [];
  for (let i = 0; i < VISITS; i++) {
    const secret = random(32);
    const enter = START - (START % 3600) + i * 3 * 3600 + 1800; // hh:30, three hour slots
    let visit: P.Visit;
    if (i === VISITS - 1) {
      let stay = P.checkIn(screenCode(secret, `Venue ${i}`, enter), enter);
      stay = P.rescan(stay, screenCode(secret, `Venue ${i}`, enter + 7200), enter + 7200);
      visit = P.checkOut(stay, enter + 7200);
    } else {
      visit = P.checkOut(P.checkIn(posterCode(secret, `Venue ${i}`), enter), enter + 9000);
    }
    if (i === 10 || i === 50 || i === VISITS - 1) published.push(...P.reportEntries(visit, random));
    visits.push(visit);
  }
  return { visits, published };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const signSeed = random(32);
const signKey = P.ed25519Public(signSeed);
const authority = P.authorityPublicKeys(signKey, P.x25519Public(random(32)));
const { visits, published } = diary();
const filler = randomBytes(48 * (ENTRIES - published.length));
const entries: Uint8Array[] = published.slice();
for (let i = 0; i < ENTRIES - published.length; i++) entries.push(new Uint8Array(filler.buffer, filler.byteOffset + 48 * i, 48));
const first = Math.floor(START / 3600);
const header: P.BundleHeader = {
  keyId: P.keyId(signKey),
  sequence: 1n,
  createdAt: START + 15 * 86400,
  firstHour: first,
  lastHour: first + 14 * 24,
  messages: ["You shared a venue with a confirmed case."],
  revoked: [],
};
const data = P.signBundle(header, entries, signSeed, signKey);

const verifyMs: number[] = [];
let bundle = P.verifyBundle(data, authority);
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  bundle = P.verifyBundle(data, authority);
  verifyMs.push(performance.now() - t);
}

const verifyAsyncMs: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  await P.verifyBundleAsync(data, authority);
  verifyAsyncMs.push(performance.now() - t);
}

const matchMs: number[] = [];
let exposures = 0;
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  exposures = P.match(visits, [bundle], P.DEFAULT_POLICY).length;
  matchMs.push(performance.now() - t);
}
if (visits.reduce((n, v) => n + v.slots.length, 0) !== TAGS) throw new Error("the diary must hold 300 tags");
if (exposures !== 3) throw new Error(`expected the 3 published visits to match, got ${exposures}`);

const lookupMs: number[] = [];
const allSlots = visits.flatMap((v) => v.slots);
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  for (const s of allSlots) P.lookup(bundle, s.tag);
  lookupMs.push(performance.now() - t);
}

process.stdout.write(
  JSON.stringify({
    web_match_ms_diary300_vs_1e6: Number(median(matchMs).toFixed(3)),
    web_lookup_us_per_tag_1e6: Number(((1000 * median(lookupMs)) / allSlots.length).toFixed(3)),
    web_bundle_verify_ms_1e6: Number(median(verifyMs).toFixed(1)),
    web_bundle_verify_webcrypto_ms_1e6: Number(median(verifyAsyncMs).toFixed(1)),
    web_bundle_mb_1e6: Number((data.length / 1e6).toFixed(2)),
  }) + "\n",
);
