/**
 * §2 Notation: fixed-width big-endian integers, byte strings, hex, and the
 * unsigned byte order that bundles sort by. Pure helpers, no state.
 */
import { DecodeError, PlacecodeError } from "./errors.js";

export const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** ASCII/UTF-8 bytes of a label or string (no terminator, no length prefix). */
export function bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** Decodes strict UTF-8 (no replacement characters, a BOM kept as U+FEFF); throws DecodeError. */
export function decodeUtf8(data: Uint8Array, what = "text"): string {
  try {
    return strictUtf8.decode(data);
  } catch {
    throw new DecodeError(`${what} is not valid UTF-8`);
  }
}

/** `a || b || ...` */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function checkUint(x: number, max: number, what: string): void {
  if (!Number.isSafeInteger(x) || x < 0 || x > max) throw new PlacecodeError(`${what} out of range: ${x}`);
}

export function u8(x: number): Uint8Array {
  checkUint(x, 0xff, "u8");
  return Uint8Array.of(x);
}

export function u16(x: number): Uint8Array {
  checkUint(x, 0xffff, "u16");
  return Uint8Array.of(x >>> 8, x & 0xff);
}

export function u32(x: number): Uint8Array {
  checkUint(x, 0xffffffff, "u32");
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, x, false);
  return out;
}

/** A u64 from a bigint or a safe integer. */
export function u64(x: bigint | number): Uint8Array {
  const v = BigInt(x);
  if (v < 0n || v > 0xffffffffffffffffn) throw new PlacecodeError(`u64 out of range: ${v}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, false);
  return out;
}

export function readU16(data: Uint8Array, at: number): number {
  return ((data[at] ?? 0) << 8) | (data[at + 1] ?? 0);
}

export function readU32(data: Uint8Array, at: number): number {
  return new DataView(data.buffer, data.byteOffset + at, 4).getUint32(0, false);
}

export function readU64(data: Uint8Array, at: number): bigint {
  return new DataView(data.buffer, data.byteOffset + at, 8).getBigUint64(0, false);
}

/**
 * A cursor over bytes that throws `DecodeError(shortMessage)` on any shortfall.
 * Parsers use it so that truncation always gets the same, chosen message.
 */
export class Reader {
  at = 0;
  constructor(
    readonly data: Uint8Array,
    private readonly shortMessage: string,
  ) {}

  get left(): number {
    return this.data.length - this.at;
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.data.length) throw new DecodeError(this.shortMessage);
    const out = this.data.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0] as number;
  }

  u16(): number {
    return readU16(this.take(2), 0);
  }

  u32(): number {
    return readU32(this.take(4), 0);
  }

  u64(): bigint {
    return readU64(this.take(8), 0);
  }
}

const HEX = "0123456789abcdef";

export function toHex(data: Uint8Array): string {
  let s = "";
  for (const b of data) s += (HEX[b >> 4] as string) + (HEX[b & 15] as string);
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new DecodeError("not hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Constant-time equality of two byte strings (the length is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Unsigned byte order (shorter first on a common prefix): negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Throws the base error unless `data` has exactly `n` bytes (a sender's programming error). */
export function requireLength(data: Uint8Array, n: number, what: string): void {
  if (!(data instanceof Uint8Array) || data.length !== n) {
    throw new PlacecodeError(`${what} must be ${n} bytes`);
  }
}

/** `0 <= start < end <= 60`: a window within an hour (§2). */
export function validWindow(start: number, end: number): boolean {
  return Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end && end <= 60;
}
