// web_match_ms_diary300_vs_1e6 in the browser: bench/match.ts's construction (a
// 14-day diary of 100 visits, 300 hour tags, three visits really published, the
// rest of 10^6 entries random bytes of a self-reported entry's length), bundled
// for Chromium by bench/browser.py, which calls `placecodeMatchBench()` in a page.
import * as P from "../src/protocol/index.js";

const START = 1_767_225_600; // 2026-01-01 UTC
const VISITS = 100;
const ENTRIES = 1_000_000;
const RUNS = 15;
const TAGS = 300;

const random = P.systemRandom;

function code(secret: Uint8Array, name: string, now: number, screen: boolean): P.VenueCode {
  const kind = screen ? P.KIND_SCREEN : P.KIND_POSTER;
  const keys = P.codeKeys(secret, kind, screen ? Math.floor(now / 86400) : 0);
  const proof = screen ? P.presenceProof(keys, P.epochOf(now)) : null;
  return { kind, codeKey: keys.codeKey, venuePublicKey: keys.publicKey, category: 1, stayMinutes: 180, name, proof };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function run(): { web_match_ms_diary300_vs_1e6_browser: number } {
  const visits: P.Visit[] = [];
  const published: Uint8Array[] = [];
  for (let i = 0; i < VISITS; i++) {
    const secret = random(32);
    const enter = START - (START % 3600) + i * 3 * 3600 + 1800;
    let visit: P.Visit;
    if (i === VISITS - 1) {
      let stay = P.checkIn(code(secret, `Venue ${i}`, enter, true), enter);
      stay = P.rescan(stay, code(secret, `Venue ${i}`, enter + 7200, true), enter + 7200);
      visit = P.checkOut(stay, enter + 7200);
    } else {
      visit = P.checkOut(P.checkIn(code(secret, `Venue ${i}`, enter, false), enter), enter + 9000);
    }
    if (i === 10 || i === 50 || i === VISITS - 1) published.push(...P.reportEntries(visit, random));
    visits.push(visit);
  }
  const filler = random(48 * (ENTRIES - published.length));
  const entries = published.slice();
  for (let i = 0; i < ENTRIES - published.length; i++) entries.push(filler.subarray(48 * i, 48 * i + 48));
  const signSeed = random(32);
  const signKey = P.ed25519Public(signSeed);
  const authority = P.authorityPublicKeys(signKey, P.x25519Public(random(32)));
  const first = Math.floor(START / 3600);
  const data = P.signBundle(
    {
      keyId: P.keyId(signKey),
      sequence: 1n,
      createdAt: START + 15 * 86400,
      firstHour: first,
      lastHour: first + 14 * 24,
      messages: ["You shared a venue with a confirmed case."],
      revoked: [],
    },
    entries,
    signSeed,
    signKey,
  );
  const bundle = P.verifyBundle(data, authority);
  const times: number[] = [];
  let exposures = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    exposures = P.match(visits, [bundle], P.DEFAULT_POLICY).length;
    times.push(performance.now() - t);
  }
  if (visits.reduce((n, v) => n + v.slots.length, 0) !== TAGS) throw new Error("the diary must hold 300 tags");
  if (exposures !== 3) throw new Error(`expected the 3 published visits to match, got ${exposures}`);
  return { web_match_ms_diary300_vs_1e6_browser: Number(median(times).toFixed(3)) };
}

(globalThis as { placecodeMatchBench?: typeof run }).placecodeMatchBench = run;
