// Loads docs/test-vectors.json from the repository (found by walking up from this file).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findVectors(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "docs", "test-vectors.json");
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error("docs/test-vectors.json not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export type Json = any;
/** docs/test-vectors.json, or the file PLACECODE_VECTORS names (to try vectors not yet on main). */
export const VECTORS: Json = JSON.parse(readFileSync(process.env.PLACECODE_VECTORS ?? findVectors(), "utf8"));

import {
  checkIn,
  checkOut,
  fromHex,
  rescan,
  sha256,
  toHex,
  u32,
  venueCodeFromUrl,
  type EntryContent,
  type PresenceProof,
  type Slot,
  type Visit,
} from "../src/protocol/index.js";

/** The vectors' `random(n)`: SHA-256(seed || u32 k) blocks, each call on a fresh block. */
export function vectorRandom(): (n: number) => Uint8Array {
  const seed = fromHex(VECTORS.random.seed);
  let k = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 32) out.set(sha256(seed, u32(k++)).subarray(0, Math.min(32, n - at)), at);
    return out;
  };
}

/** A random(n) that hands out the given byte strings in order, checking each length. */
export function replay(values: readonly Uint8Array[]): (n: number) => Uint8Array {
  let i = 0;
  return (n: number) => {
    const v = values[i++];
    if (v === undefined || v.length !== n) throw new Error(`replay: call ${i} asked for ${n} bytes`);
    return v;
  };
}

export function proofFrom(p: Json): PresenceProof {
  return { epoch: p.epoch, signature: fromHex(p.signature) };
}

export function contentFrom(c: Json): EntryContent {
  return {
    level: c.level,
    startMinute: c.start_minute,
    endMinute: c.end_minute,
    messageId: c.message_id,
    venueSignature: c.venue_signature === null ? null : fromHex(c.venue_signature),
    proofs: c.proofs.map(proofFrom),
  };
}

export function slotFrom(s: Json): Slot {
  return { hour: s.hour, startMinute: s.start_minute, endMinute: s.end_minute, tag: fromHex(s.tag), key: fromHex(s.key) };
}

export function visitFrom(v: Json, name: string, category: number): Visit {
  return {
    name,
    category,
    kind: v.kind,
    venuePublicKey: fromHex(v.venue_public_key),
    codeId: fromHex(v.code_id),
    enteredAt: v.entered_at,
    leftAt: v.left_at,
    slots: v.slots.map(slotFrom),
    proofs: v.proofs.map(proofFrom),
  };
}

/** Replays a stay (check in from its URL, rescan if it has one, check out) into a Visit. */
export function replayStay(stay: Json): Visit {
  let s = checkIn(venueCodeFromUrl(stay.code_url), stay.entered_at);
  if (stay.rescan_url !== undefined) s = rescan(s, venueCodeFromUrl(stay.rescan_url), stay.rescan_at);
  return checkOut(s, stay.left_at);
}

export { toHex };
