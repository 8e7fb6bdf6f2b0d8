/**
 * §6 Check-in: hour tags, entry keys and the live verification code derived from
 * a code key; checking in, rescanning and checking out; a stay cut into hour slots.
 */
import { CodeError, PlacecodeError } from "./errors.js";
import { hkdf, hmac } from "./primitives.js";
import { bytes, concat, equalBytes, readU64, requireLength, u32 } from "./wire.js";
import { KIND_SCREEN, SECRET_BYTES, boundKey, codeId, type CodeKind } from "./venue-keys.js";
import {
  EPOCH_SECONDS,
  MAX_CLOCK_SKEW_SECONDS,
  MAX_CODE_AGE_SECONDS,
  checkProof,
  verifyPresenceProof,
  type PresenceProof,
} from "./presence-proofs.js";
import type { VenueCode } from "./qr-payload.js";

export { BIND_LABEL } from "./venue-keys.js";
export const TAG_LABEL = bytes("placecode/1 tag");
export const ENTRY_KEY_LABEL = bytes("placecode/1 entry");
export const VERIFY_LABEL = bytes("placecode/1 verify");
export const TAG_BYTES = 16;
export const VERIFY_DIGITS = 6;
export const HOUR_SECONDS = 3600;

/** `hour_tag(K, h) = HMAC(K, TAG_LABEL || u32 h)[:16]`, K the bound key. */
export function hourTag(bound: Uint8Array, hour: number): Uint8Array {
  requireLength(bound, SECRET_BYTES, "bound key");
  return hmac(bound, TAG_LABEL, u32(hour)).slice(0, TAG_BYTES);
}

/** `entry_key(K, h) = HKDF(K, ENTRY_KEY_LABEL || u32 h, 32)`. */
export function entryKey(bound: Uint8Array, hour: number): Uint8Array {
  requireLength(bound, SECRET_BYTES, "bound key");
  return hkdf(bound, concat(ENTRY_KEY_LABEL, u32(hour)), 32);
}

/**
 * `verification_code(K, proof)`: `HMAC(K, VERIFY_LABEL || u32 e || sig)[:8]` as a
 * big-endian integer mod 10^6, six decimal digits. A screen shows it under its
 * QR code; it depends on the venue's signature of the epoch, which only the live
 * screen gives out.
 */
export function verificationCode(bound: Uint8Array, proof: PresenceProof): string {
  requireLength(bound, SECRET_BYTES, "bound key");
  checkProof(proof);
  const mac = hmac(bound, VERIFY_LABEL, u32(proof.epoch), proof.signature);
  return (readU64(mac, 0) % 1_000_000n).toString().padStart(VERIFY_DIGITS, "0");
}

/** The bound key of a scanned code (§6). */
export function codeBoundKey(code: VenueCode): Uint8Array {
  return boundKey(code.codeKey, code.kind, code.venuePublicKey);
}

/** One hour of a stay: `(hour, start_minute, end_minute, tag, key)`. */
export interface Slot {
  readonly hour: number;
  readonly startMinute: number;
  readonly endMinute: number;
  readonly tag: Uint8Array;
  readonly key: Uint8Array;
}

/** An hour window `(hour, start_minute, end_minute)`. */
export interface HourWindow {
  readonly hour: number;
  readonly startMinute: number;
  readonly endMinute: number;
}

/** `stay_windows(start, end)`: `[start, end)` widened to whole minutes, cut into hours. */
export function stayWindows(start: number, end: number): HourWindow[] {
  const first = Math.floor(start / 60);
  const last = Math.ceil(end / 60);
  const out: HourWindow[] = [];
  for (let h = Math.floor(first / 60); h <= Math.ceil(last / 60) - 1; h++) {
    const lo = Math.max(first, 60 * h) - 60 * h;
    const hi = Math.min(last, 60 * h + 60) - 60 * h;
    if (lo < hi) out.push({ hour: h, startMinute: lo, endMinute: hi });
  }
  return out;
}

/** `slots_for(K, start, end)`: one slot per window, with its tag and key. */
export function slotsFor(bound: Uint8Array, start: number, end: number): Slot[] {
  return stayWindows(start, end).map((w) => ({ ...w, tag: hourTag(bound, w.hour), key: entryKey(bound, w.hour) }));
}

/** A stay in progress: the code (with its key), its bound key and the proofs kept so far. */
export interface CheckIn {
  readonly code: VenueCode;
  /** `bound_key(code)`, derived once at check-in. */
  readonly boundKey: Uint8Array;
  readonly enteredAt: number;
  /** () for a poster, (entry) or (entry, exit) for a screen. */
  readonly proofs: readonly PresenceProof[];
}

/** What a device keeps after check-out: no code key. */
export interface Visit {
  readonly name: string;
  readonly category: number;
  readonly kind: CodeKind;
  readonly venuePublicKey: Uint8Array;
  readonly codeId: Uint8Array;
  readonly enteredAt: number;
  readonly leftAt: number;
  readonly slots: readonly Slot[];
  readonly proofs: readonly PresenceProof[];
}

/** `_check_live`: a screen code must be recent, not from the future, and signed. */
function checkLive(code: VenueCode, bound: Uint8Array, now: number): PresenceProof {
  const proof = code.proof;
  if (proof === null) throw new CodeError("this code was not signed by the venue: do not use it");
  const started = proof.epoch * EPOCH_SECONDS;
  if (started > now + MAX_CLOCK_SKEW_SECONDS) {
    throw new CodeError("this code is dated in the future: check the time on this device");
  }
  if (now - started > MAX_CODE_AGE_SECONDS) {
    throw new CodeError("this code expired: scan the live code on the venue's screen");
  }
  if (!verifyPresenceProof(proof, code.venuePublicKey, codeId(bound))) {
    throw new CodeError("this code was not signed by the venue: do not use it");
  }
  return proof;
}

/** `check_in(code, now)`: a poster at once; a screen code only if live and signed (CodeError). */
export function checkIn(code: VenueCode, now: number): CheckIn {
  const bound = codeBoundKey(code);
  if (code.kind === KIND_SCREEN) return { code, boundKey: bound, enteredAt: now, proofs: [checkLive(code, bound, now)] };
  return { code, boundKey: bound, enteredAt: now, proofs: [] };
}

/**
 * `CheckIn.rescan(code, now)`: the same bound key (code key, kind and public key;
 * constant-time compare) or CodeError; a poster rescan changes nothing, a screen
 * rescan keeps (entry proof, new proof).
 */
export function rescan(stay: CheckIn, code: VenueCode, now: number): CheckIn {
  if (!isSameCode(stay, code)) throw new CodeError("this is not the code you checked in with");
  if (stay.code.kind !== KIND_SCREEN) return stay;
  const proof = checkLive(code, stay.boundKey, now);
  const entry = stay.proofs[0];
  return { ...stay, proofs: entry === undefined ? [proof] : [entry, proof] };
}

/** `auto_checkout_at = entered_at + stay_minutes * 60`. */
export function autoCheckoutAt(stay: CheckIn): number {
  return stay.enteredAt + stay.code.stayMinutes * 60;
}

/**
 * `CheckIn.verification_code(now)`: the number a checked-in device shows, that of
 * its latest scanned proof while that proof is at most 90 s old; null after that
 * and at a poster (nothing to show: the visitor rescans the screen).
 */
export function liveVerificationCode(stay: CheckIn, now: number): string | null {
  const latest = stay.proofs[stay.proofs.length - 1];
  if (latest === undefined || now - latest.epoch * EPOCH_SECONDS > MAX_CODE_AGE_SECONDS) return null;
  return verificationCode(stay.boundKey, latest);
}

/** `check_out(left_at)`: the Visit the device keeps; the code key is not in it. */
export function checkOut(stay: CheckIn, leftAt: number): Visit {
  const left = Math.min(leftAt, autoCheckoutAt(stay));
  if (left <= stay.enteredAt) throw new PlacecodeError("a stay must end after it began");
  const code = stay.code;
  return {
    name: code.name,
    category: code.category,
    kind: code.kind,
    venuePublicKey: code.venuePublicKey,
    codeId: codeId(stay.boundKey),
    enteredAt: stay.enteredAt,
    leftAt: left,
    slots: slotsFor(stay.boundKey, stay.enteredAt, left),
    proofs: stay.proofs,
  };
}

/** Whether `code` is the code checked in with: the same bound key (constant-time compare). */
export function isSameCode(stay: CheckIn, code: VenueCode): boolean {
  let bound: Uint8Array;
  try {
    bound = codeBoundKey(code);
  } catch {
    return false;
  }
  return equalBytes(stay.boundKey, bound);
}

/**
 * Whether `code` looks like the next UTC day's code of the screen checked in at
 * (§16): day codes share nothing a device can verify, so this goes by what the
 * screen says of itself, its name, category and stay, one day later.
 */
export function isNextDayScreen(stay: CheckIn, code: VenueCode): boolean {
  const before = stay.code.proof;
  const after = code.proof;
  if (before === null || after === null) return false;
  const day = Math.floor((EPOCH_SECONDS * before.epoch) / 86400);
  return (
    code.name === stay.code.name &&
    code.category === stay.code.category &&
    code.stayMinutes === stay.code.stayMinutes &&
    Math.floor((EPOCH_SECONDS * after.epoch) / 86400) === day + 1
  );
}

/**
 * What scanning `code` means while `stay` is open (null: not checked in): the same
 * code checks out with it (rescan), the screen's next-day code checks out without an
 * exit proof (after {@link checkIn} has checked that code is live), any other checks in.
 */
export function scanMeaning(stay: CheckIn | null, code: VenueCode): "check-out" | "next-day-check-out" | "check-in" {
  if (stay === null) return "check-in";
  if (isSameCode(stay, code)) return "check-out";
  if (isNextDayScreen(stay, code)) return "next-day-check-out";
  return "check-in";
}
