/**
 * §11 Venue traces: the owner confirms an outbreak window, signing each code's
 * hour tags; the slots travel sealed to the authority, which publishes them as
 * venue-confirmed entries.
 */
import { DecodeError, PlacecodeError, VerificationError, opaque } from "./errors.js";
import { ed25519Sign, sealedBox, sealedBoxOpen, SIGNATURE_BYTES } from "./primitives.js";
import { Reader, concat, requireLength, u32, u8, validWindow } from "./wire.js";
import { PROTOCOL_VERSION } from "./versioning.js";
import { KIND_POSTER, KIND_SCREEN, codeKeys } from "./venue-keys.js";
import { TAG_BYTES, entryKey, hourTag, stayWindows } from "./check-in.js";
import { VENUE_CONFIRMED, confirmMessage, sealEntry } from "./entries.js";
import { MAX_STAY_MINUTES } from "./qr-payload.js";
import { RETENTION_DAYS } from "./matching.js";
import type { AuthorityPublicKeys } from "./authority-keys.js";

export const CONFIRMED_SLOT_BYTES = 118; // tag, key, hour, start, end, signature

/** `ConfirmedSlot(tag, key, hour, start_minute, end_minute, signature)`. */
export interface ConfirmedSlot {
  readonly tag: Uint8Array;
  readonly key: Uint8Array;
  readonly hour: number;
  readonly startMinute: number;
  readonly endMinute: number;
  readonly signature: Uint8Array;
}

export function confirmedSlotToBytes(s: ConfirmedSlot): Uint8Array {
  requireLength(s.tag, TAG_BYTES, "tag");
  requireLength(s.key, 32, "entry key");
  requireLength(s.signature, SIGNATURE_BYTES, "signature");
  if (!validWindow(s.startMinute, s.endMinute)) throw new PlacecodeError("window must satisfy 0 <= start < end <= 60");
  return concat(s.tag, s.key, u32(s.hour), u8(s.startMinute), u8(s.endMinute), s.signature);
}

/** `ConfirmedSlot.from_bytes`: exactly 118 bytes and a valid window, else DecodeError. */
export function confirmedSlotFromBytes(data: Uint8Array): ConfirmedSlot {
  if (data.length !== CONFIRMED_SLOT_BYTES) throw new DecodeError(`a confirmed slot is ${CONFIRMED_SLOT_BYTES} bytes`);
  const r = new Reader(data, "a confirmed slot is truncated");
  const tag = r.take(TAG_BYTES).slice();
  const key = r.take(32).slice();
  const hour = r.u32();
  const startMinute = r.u8();
  const endMinute = r.u8();
  const signature = r.take(SIGNATURE_BYTES).slice();
  if (!validWindow(startMinute, endMinute)) throw new DecodeError("a confirmed slot's window is out of range");
  return { tag, key, hour, startMinute, endMinute, signature };
}

/**
 * `confirm_window(venue, start, end, posters=(0,), screen=True)`: for each hour
 * window of `[start, end)`, every code in use during that hour, in the spec's order.
 */
export function confirmWindow(
  venueSecret: Uint8Array,
  start: number,
  end: number,
  posters: readonly number[] = [0],
  screen = true,
): ConfirmedSlot[] {
  if (!(0 < end - start && end - start <= RETENTION_DAYS * 86400)) {
    throw new PlacecodeError(`a confirmed window lasts more than 0 and at most ${RETENTION_DAYS} days`);
  }
  const out: ConfirmedSlot[] = [];
  for (const w of stayWindows(start, end)) {
    const codes = posters.map((g) => codeKeys(venueSecret, KIND_POSTER, g));
    if (screen) {
      const d = Math.floor(w.hour / 24);
      codes.push(codeKeys(venueSecret, KIND_SCREEN, d));
      if (w.hour % 24 < MAX_STAY_MINUTES / 60 && d > 0) codes.push(codeKeys(venueSecret, KIND_SCREEN, d - 1));
    }
    for (const c of codes) {
      const tag = hourTag(c.boundKey, w.hour);
      out.push({
        tag,
        key: entryKey(c.boundKey, w.hour),
        hour: w.hour,
        startMinute: w.startMinute,
        endMinute: w.endMinute,
        signature: ed25519Sign(c.signingSeed, confirmMessage(tag, w.startMinute, w.endMinute)),
      });
    }
  }
  return out;
}

/** The trace plaintext: `u8 1 || slot_0 || slot_1 || ...`, at least one slot. */
export function tracePlaintext(slots: readonly ConfirmedSlot[]): Uint8Array {
  if (slots.length === 0) throw new PlacecodeError("a trace carries at least one slot");
  return concat(u8(PROTOCOL_VERSION), ...slots.map(confirmedSlotToBytes));
}

/** `seal_trace(slots, authority)`; `ephemeralSecret` is the sealed box's fresh secret. */
export function sealTrace(slots: readonly ConfirmedSlot[], authority: AuthorityPublicKeys, ephemeralSecret: Uint8Array): Uint8Array {
  requireLength(ephemeralSecret, 32, "ephemeral secret");
  return sealedBox(authority.sealKey, tracePlaintext(slots), ephemeralSecret);
}

/** `open_trace(sealed, keys)`: version 1 and at least one whole slot; every failure throws VerificationError. */
export function openTrace(sealed: Uint8Array, sealSecret: Uint8Array): ConfirmedSlot[] {
  const plaintext = opaque(() => sealedBoxOpen(sealSecret, sealed));
  return opaque(() => {
    if (plaintext.length === 0 || plaintext[0] !== PROTOCOL_VERSION) throw new VerificationError();
    if (plaintext.length === 1 || (plaintext.length - 1) % CONFIRMED_SLOT_BYTES !== 0) throw new VerificationError();
    const out: ConfirmedSlot[] = [];
    for (let at = 1; at < plaintext.length; at += CONFIRMED_SLOT_BYTES) {
      out.push(confirmedSlotFromBytes(plaintext.subarray(at, at + CONFIRMED_SLOT_BYTES)));
    }
    return out;
  });
}

/** `ConfirmedSlot.seal(message_id, nonce)`: the VENUE_CONFIRMED entry the authority publishes. */
export function sealConfirmedSlot(s: ConfirmedSlot, messageId: number, nonce: Uint8Array): Uint8Array {
  return sealEntry(
    s.tag,
    s.key,
    { level: VENUE_CONFIRMED, startMinute: s.startMinute, endMinute: s.endMinute, messageId, venueSignature: s.signature, proofs: [] },
    nonce,
  );
}
