/**
 * §13 Uploads: every request, real or dummy, is exactly 65,536 bytes. Parsing is
 * total and its errors say what is wrong (an upload holds nothing secret).
 */
import { DecodeError, PlacecodeError } from "./errors.js";
import { type RandomBytes } from "./primitives.js";
import { equalBytes, readU16, toHex, u16 } from "./wire.js";
import { TAG_BYTES } from "./check-in.js";
import { MAX_ENTRY_BYTES, MIN_ENTRY_BYTES } from "./entries.js";

export const UPLOAD_MAGIC = Uint8Array.of(0x50, 0x43, 0x55, 0x01); // "PCU" 0x01
export const UPLOAD_BYTES = 65536;
export const UPLOAD_REAL = 0;
export const UPLOAD_DUMMY = 1;
export const MAX_TAN_CHARS = 32;
export const UPLOAD_HEAD_BYTES = 40; // magic, flag, TAN length, TAN, count
export const MAX_UPLOAD_ENTRIES = 1336; // (65536 - 40) // (1 + 48)
export const MAX_ENTRIES_PER_TAG = 3;

/** `UploadRequest(tan, entries, dummy)`. */
export interface UploadRequest {
  readonly tan: string;
  readonly entries: readonly Uint8Array[];
  readonly dummy: boolean;
}

/** Why `entries` cannot travel in one upload, or null if they can (the same rules the parser enforces). */
export function entriesProblem(entries: readonly Uint8Array[]): string | null {
  if (entries.length > MAX_UPLOAD_ENTRIES) return `an upload carries at most ${MAX_UPLOAD_ENTRIES} entries`;
  let total = UPLOAD_HEAD_BYTES;
  const perTag = new Map<string, number>();
  for (const e of entries) {
    if (e.length < MIN_ENTRY_BYTES || e.length > MAX_ENTRY_BYTES) {
      return `an entry of ${e.length} bytes: entries are ${MIN_ENTRY_BYTES} to ${MAX_ENTRY_BYTES} bytes`;
    }
    total += 1 + e.length;
    const tag = toHex(e.subarray(0, TAG_BYTES));
    const n = (perTag.get(tag) ?? 0) + 1;
    if (n > MAX_ENTRIES_PER_TAG) return `more than ${MAX_ENTRIES_PER_TAG} entries under one tag`;
    perTag.set(tag, n);
  }
  if (total > UPLOAD_BYTES) return `the entries do not fit the ${UPLOAD_BYTES}-byte upload`;
  return null;
}

function checkTan(tan: string): void {
  if (tan.length < 1 || tan.length > MAX_TAN_CHARS || !/^[\x00-\x7f]*$/.test(tan)) {
    throw new PlacecodeError(`a TAN is 1 to ${MAX_TAN_CHARS} ASCII characters`);
  }
}

/** `UploadRequest.to_bytes()`: 65,536 bytes; refuses (base Error) what the parser would refuse. */
export function uploadToBytes(req: UploadRequest): Uint8Array {
  checkTan(req.tan);
  const problem = entriesProblem(req.entries);
  if (problem !== null) throw new PlacecodeError(problem);
  const out = new Uint8Array(UPLOAD_BYTES);
  out.set(UPLOAD_MAGIC, 0);
  out[4] = req.dummy ? UPLOAD_DUMMY : UPLOAD_REAL;
  out[5] = req.tan.length;
  out.fill(0x20, 6, 38);
  for (let i = 0; i < req.tan.length; i++) out[6 + i] = req.tan.charCodeAt(i);
  out.set(u16(req.entries.length), 38);
  let at = UPLOAD_HEAD_BYTES;
  for (const e of req.entries) {
    out[at] = e.length;
    out.set(e, at + 1);
    at += 1 + e.length;
  }
  return out;
}

/** `UploadRequest.from_bytes`, in the spec's order; every failure throws DecodeError with its reason. */
export function uploadFromBytes(data: Uint8Array): UploadRequest {
  if (data.length !== UPLOAD_BYTES) throw new DecodeError(`an upload is exactly ${UPLOAD_BYTES} bytes, not ${data.length}`);
  if (!equalBytes(data.subarray(0, 4), UPLOAD_MAGIC)) throw new DecodeError("this is not a placecode/1 upload");
  const flag = data[4] as number;
  if (flag !== UPLOAD_REAL && flag !== UPLOAD_DUMMY) throw new DecodeError(`unknown upload flag ${flag}`);
  const tanLength = data[5] as number;
  if (tanLength < 1 || tanLength > MAX_TAN_CHARS) throw new DecodeError(`a TAN is 1 to ${MAX_TAN_CHARS} characters, not ${tanLength}`);
  const field = data.subarray(6, 38);
  for (const b of field) if (b >= 0x80) throw new DecodeError("the TAN is not ASCII");
  for (const b of field.subarray(tanLength)) if (b !== 0x20) throw new DecodeError("the TAN field is not padded with spaces");
  const tan = String.fromCharCode(...field.subarray(0, tanLength));
  const count = readU16(data, 38);
  if (count > MAX_UPLOAD_ENTRIES) throw new DecodeError(`an upload carries at most ${MAX_UPLOAD_ENTRIES} entries, not ${count}`);
  const entries: Uint8Array[] = [];
  let at = UPLOAD_HEAD_BYTES;
  for (let i = 0; i < count; i++) {
    if (at >= UPLOAD_BYTES) throw new DecodeError("the upload's entries are truncated");
    const n = data[at] as number;
    if (at + 1 + n > UPLOAD_BYTES) throw new DecodeError("the upload's entries are truncated");
    entries.push(data.slice(at + 1, at + 1 + n));
    at += 1 + n;
  }
  for (let i = at; i < UPLOAD_BYTES; i++) if (data[i] !== 0) throw new DecodeError("the upload's padding is not zero");
  for (const e of entries) {
    if (e.length < MIN_ENTRY_BYTES || e.length > MAX_ENTRY_BYTES) {
      throw new DecodeError(`an entry of ${e.length} bytes: entries are ${MIN_ENTRY_BYTES} to ${MAX_ENTRY_BYTES} bytes`);
    }
  }
  const perTag = new Map<string, number>();
  for (const e of entries) {
    const tag = toHex(e.subarray(0, TAG_BYTES));
    const n = (perTag.get(tag) ?? 0) + 1;
    if (n > MAX_ENTRIES_PER_TAG) throw new DecodeError(`more than ${MAX_ENTRIES_PER_TAG} entries under one tag`);
    perTag.set(tag, n);
  }
  return { tan, entries, dummy: flag === UPLOAD_DUMMY };
}

/** TANs as the service writes them (docs/api.md): 12 characters of Crockford base32, `XXXX-XXXX-XXXX`. */
export const TAN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const TAN_CHARS = 12;
/** A dummy upload carries as many fake entries as a real one might: 1 to this many (as the CLI). */
export const MAX_DUMMY_ENTRIES = 120;

export function formatTan(raw: string): string {
  return [raw.slice(0, 4), raw.slice(4, 8), raw.slice(8, 12)].join("-");
}

/**
 * A TAN as typed by a person in the service's form: case, spaces and hyphens do
 * not matter, and Crockford's look-alikes read as the digit they look like (O as
 * 0, I and L as 1), as the service reads them; DecodeError for anything else.
 */
export function normalizeTan(text: string): string {
  const raw = text
    .replace(/[\s-]/g, "")
    .toUpperCase()
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (raw.length !== TAN_CHARS || [...raw].some((ch) => !TAN_ALPHABET.includes(ch))) {
    throw new DecodeError("this is not a TAN: a TAN from your health authority looks like ABCD-EFGH-JKMN");
  }
  return formatTan(raw);
}

/**
 * A dummy upload that nothing but its flag (inside TLS) tells from a real one:
 * a TAN-shaped random TAN and 1 to 120 random entries of real entry lengths
 * (48, 117 or 185 bytes), drawn as the reference client draws them.
 */
export function dummyUpload(random: RandomBytes): UploadRequest {
  const tan = formatTan([...random(TAN_CHARS)].map((b) => TAN_ALPHABET[b % 32]).join(""));
  const r = random(2);
  const count = 1 + ((((r[0] as number) << 8) | (r[1] as number)) % MAX_DUMMY_ENTRIES);
  const entries: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const proofs = (random(1)[0] as number) % 3;
    entries.push(random(MIN_ENTRY_BYTES + (proofs > 0 ? 1 + proofs * 68 : 0)));
  }
  return { tan, entries, dummy: true };
}

/** True with probability `p`, from 8 random bytes (as the reference client decides to send a dummy). */
export function chance(random: RandomBytes, p: number): boolean {
  const b = random(8);
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  return x < BigInt(Math.ceil(Math.min(1, Math.max(0, p)) * 2 ** 64));
}
