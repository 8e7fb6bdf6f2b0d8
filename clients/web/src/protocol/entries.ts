/**
 * §7 Exposure entries: `tag || nonce || AES-GCM(entry key, plaintext, aad = tag)`,
 * the plaintext an evidence level, a window and its evidence.
 */
import { PlacecodeError, VerificationError, opaque } from "./errors.js";
import { aesGcmOpen, aesGcmSeal, ed25519Verify, validPublicKey, SIGNATURE_BYTES, type RandomBytes } from "./primitives.js";
import { Reader, bytes, concat, requireLength, toHex, u32, u8, validWindow } from "./wire.js";
import { TAG_BYTES, type Slot, type Visit } from "./check-in.js";
import {
  EPOCH_SECONDS,
  MAX_CODE_AGE_SECONDS,
  MAX_PROOFS,
  SINGLE_PROOF_SPAN_SECONDS,
  checkProof,
  presenceMessage,
  type PresenceProof,
} from "./presence-proofs.js";

export const NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
export const CONFIRM_LABEL = bytes("placecode/1 venue-confirm");
export const ENTRY_HEAD_BYTES = 4;
export const MIN_ENTRY_BYTES = TAG_BYTES + NONCE_BYTES + ENTRY_HEAD_BYTES + GCM_TAG_BYTES; // 48
export const MAX_ENTRY_BYTES = MIN_ENTRY_BYTES + 1 + MAX_PROOFS * (4 + SIGNATURE_BYTES); // 185

/** `EvidenceLevel`: lower is stronger. */
export const VENUE_CONFIRMED = 1;
export const PRESENCE_PROVEN = 2;
export const SELF_REPORTED = 3;
export type EvidenceLevel = typeof VENUE_CONFIRMED | typeof PRESENCE_PROVEN | typeof SELF_REPORTED;

/** `EntryContent`: the plaintext of an entry. */
export interface EntryContent {
  readonly level: EvidenceLevel;
  readonly startMinute: number;
  readonly endMinute: number;
  readonly messageId: number;
  /** Level 1 only (64 bytes), else null. */
  readonly venueSignature: Uint8Array | null;
  /** Level 2 only (1 or 2 proofs), else empty. */
  readonly proofs: readonly PresenceProof[];
}

/** The plaintext bytes; refuses (base Error) a content that breaks the table's rules. */
export function entryContentToBytes(c: EntryContent): Uint8Array {
  if (!validWindow(c.startMinute, c.endMinute)) throw new PlacecodeError("window must satisfy 0 <= start < end <= 60");
  if (!Number.isInteger(c.messageId) || c.messageId < 0 || c.messageId > 255) throw new PlacecodeError("message id out of range");
  const head = concat(u8(c.level), u8(c.startMinute), u8(c.endMinute), u8(c.messageId));
  if (c.level === VENUE_CONFIRMED) {
    if (c.venueSignature === null || c.proofs.length !== 0) throw new PlacecodeError("a venue-confirmed entry carries a signature only");
    requireLength(c.venueSignature, SIGNATURE_BYTES, "venue signature");
    return concat(head, c.venueSignature);
  }
  if (c.level === PRESENCE_PROVEN) {
    if (c.venueSignature !== null || c.proofs.length < 1 || c.proofs.length > MAX_PROOFS) {
      throw new PlacecodeError(`a presence-proven entry carries 1 to ${MAX_PROOFS} proofs only`);
    }
    const parts = [head, u8(c.proofs.length)];
    for (const p of c.proofs) {
      checkProof(p);
      parts.push(u32(p.epoch), p.signature);
    }
    return concat(...parts);
  }
  if (c.level === SELF_REPORTED) {
    if (c.venueSignature !== null || c.proofs.length !== 0) throw new PlacecodeError("a self-reported entry carries no evidence");
    return head;
  }
  throw new PlacecodeError(`unknown evidence level ${String(c.level)}`);
}

/** Parses a plaintext (after decryption); any fault throws VerificationError. */
export function entryContentFromBytes(data: Uint8Array): EntryContent {
  return opaque(() => {
    const r = new Reader(data, "short");
    const level = r.u8();
    const startMinute = r.u8();
    const endMinute = r.u8();
    const messageId = r.u8();
    let venueSignature: Uint8Array | null = null;
    const proofs: PresenceProof[] = [];
    if (level === VENUE_CONFIRMED) {
      venueSignature = r.take(SIGNATURE_BYTES).slice();
    } else if (level === PRESENCE_PROVEN) {
      const count = r.u8();
      if (count < 1 || count > MAX_PROOFS) throw new VerificationError();
      for (let i = 0; i < count; i++) proofs.push({ epoch: r.u32(), signature: r.take(SIGNATURE_BYTES).slice() });
    } else if (level !== SELF_REPORTED) {
      throw new VerificationError();
    }
    if (r.left !== 0 || !validWindow(startMinute, endMinute)) throw new VerificationError();
    return { level: level as EvidenceLevel, startMinute, endMinute, messageId, venueSignature, proofs };
  });
}

/** `confirm_message(tag, start, end) = CONFIRM_LABEL || tag || u8 start || u8 end`. */
export function confirmMessage(tag: Uint8Array, startMinute: number, endMinute: number): Uint8Array {
  return concat(CONFIRM_LABEL, tag, u8(startMinute), u8(endMinute));
}

/** `seal_entry(tag, key, content, nonce) = tag || nonce || AES-GCM-Seal(key, nonce, plaintext, aad = tag)`. */
export function sealEntry(tag: Uint8Array, key: Uint8Array, content: EntryContent, nonce: Uint8Array): Uint8Array {
  requireLength(tag, TAG_BYTES, "tag");
  requireLength(key, 32, "entry key");
  requireLength(nonce, NONCE_BYTES, "nonce");
  return concat(tag, nonce, aesGcmSeal(key, nonce, entryContentToBytes(content), tag));
}

/** `open_entry(entry, key)`: every failure throws VerificationError. */
export function openEntry(entry: Uint8Array, key: Uint8Array): EntryContent {
  if (entry.length < MIN_ENTRY_BYTES || entry.length > MAX_ENTRY_BYTES || key.length !== 32) {
    throw new VerificationError();
  }
  const tag = entry.subarray(0, TAG_BYTES);
  const nonce = entry.subarray(TAG_BYTES, TAG_BYTES + NONCE_BYTES);
  const plaintext = opaque(() => aesGcmOpen(key, nonce, entry.subarray(TAG_BYTES + NONCE_BYTES), tag));
  return entryContentFromBytes(plaintext);
}

/** `proof_coverage(proofs)`: the Unix minutes `[lo, hi)` that the proofs cover. */
export function proofCoverage(proofs: readonly PresenceProof[]): [number, number] {
  if (proofs.length === 0) throw new PlacecodeError("no proofs to cover anything");
  const epochs = proofs.map((p) => p.epoch).sort((a, b) => a - b);
  const first = epochs[0] as number;
  const latest = epochs[epochs.length - 1] as number;
  const loS = first * EPOCH_SECONDS;
  const hiS = latest > first ? latest * EPOCH_SECONDS + MAX_CODE_AGE_SECONDS : loS + SINGLE_PROOF_SPAN_SECONDS;
  return [Math.floor(loS / 60), Math.ceil(hiS / 60)];
}

/**
 * What matching learns once per visit: whether its venue key is a
 * `valid_public_key` (§2), and the presence proofs already verified. Several
 * entries (one per hour, up to three per hour) carry the same proofs, and Ed25519
 * is the costly part of matching. One context per visit.
 */
export interface EvidenceContext {
  /** Whether the venue key is valid, once asked (checked lazily: most visits never need it). */
  keyValid: boolean | undefined;
  readonly proofs: Map<string, boolean>;
}

export function evidenceContext(_visit: Visit): EvidenceContext {
  return { keyValid: undefined, proofs: new Map() };
}

function keyValid(visit: Visit, ctx: EvidenceContext): boolean {
  if (ctx.keyValid === undefined) ctx.keyValid = validPublicKey(visit.venuePublicKey);
  return ctx.keyValid;
}

function proofValid(p: PresenceProof, visit: Visit, ctx: EvidenceContext): boolean {
  const key = `${p.epoch}:${toHex(p.signature)}`;
  let ok = ctx.proofs.get(key);
  if (ok === undefined) {
    ok = ed25519Verify(visit.venuePublicKey, presenceMessage(visit.codeId, p.epoch), p.signature);
    ctx.proofs.set(key, ok);
  }
  return ok;
}

/**
 * `evidence_holds(content, slot, visit)`: the entry's evidence checked against the
 * device's own visit, under its venue key only if that key is a `valid_public_key`.
 * `ctx`, if given, must come from {@link evidenceContext} of this visit.
 */
export function evidenceHolds(content: EntryContent, slot: Slot, visit: Visit, ctx: EvidenceContext = evidenceContext(visit)): boolean {
  if (content.level === VENUE_CONFIRMED) {
    return (
      content.venueSignature !== null &&
      keyValid(visit, ctx) &&
      ed25519Verify(visit.venuePublicKey, confirmMessage(slot.tag, content.startMinute, content.endMinute), content.venueSignature)
    );
  }
  if (content.level === PRESENCE_PROVEN) {
    if (content.proofs.length === 0 || !keyValid(visit, ctx)) return false;
    for (const p of content.proofs) if (!proofValid(p, visit, ctx)) return false;
    const [lo, hi] = proofCoverage(content.proofs);
    return lo <= 60 * slot.hour + content.startMinute && 60 * slot.hour + content.endMinute <= hi;
  }
  return content.level === SELF_REPORTED;
}

/** One piece of a slot that `reportEntries` seals: its level and window. */
interface Piece {
  readonly level: EvidenceLevel;
  readonly start: number;
  readonly end: number;
}

/**
 * `report_entries(visit, random, message_id=0)`: every minute of the stay claimed
 * once, the minutes the proofs cover as PRESENCE_PROVEN, the rest SELF_REPORTED.
 */
export function reportEntries(visit: Visit, random: RandomBytes, messageId = 0): Uint8Array[] {
  const [lo, hi] = visit.proofs.length > 0 ? proofCoverage(visit.proofs) : [0, 0];
  const out: Uint8Array[] = [];
  for (const slot of visit.slots) {
    const base = 60 * slot.hour;
    const inner0 = Math.max(slot.startMinute, lo - base);
    const inner1 = Math.min(slot.endMinute, hi - base);
    const pieces: Piece[] =
      inner0 < inner1
        ? [
            { level: SELF_REPORTED, start: slot.startMinute, end: inner0 },
            { level: PRESENCE_PROVEN, start: inner0, end: inner1 },
            { level: SELF_REPORTED, start: inner1, end: slot.endMinute },
          ]
        : [{ level: SELF_REPORTED, start: slot.startMinute, end: slot.endMinute }];
    for (const piece of pieces) {
      if (piece.start >= piece.end) continue;
      const content: EntryContent = {
        level: piece.level,
        startMinute: piece.start,
        endMinute: piece.end,
        messageId,
        venueSignature: null,
        proofs: piece.level === PRESENCE_PROVEN ? visit.proofs : [],
      };
      out.push(sealEntry(slot.tag, slot.key, content, random(NONCE_BYTES)));
    }
  }
  return out;
}
