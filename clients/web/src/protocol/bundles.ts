/**
 * §8 Bundles: a signed header, a sorted tag column, an end-offset column and the
 * payloads. A verified bundle is never parsed further: {@link lookup} binary-searches
 * the tag column in place, over the bundle's own bytes.
 */
import { DecodeError, PlacecodeError, VerificationError, opaque } from "./errors.js";
import { ed25519Sign, ed25519Verify, sha256, SIGNATURE_BYTES } from "./primitives.js";
import { Reader, bytes, compareBytes, concat, decodeUtf8, equalBytes, readU32, u16, u32, u64, u8 } from "./wire.js";
import { KEY_ID_BYTES, keyId, type AuthorityPublicKeys } from "./authority-keys.js";
import { TAG_BYTES } from "./check-in.js";
import { MAX_ENTRY_BYTES, MIN_ENTRY_BYTES } from "./entries.js";

export const BUNDLE_MAGIC = Uint8Array.of(0x50, 0x43, 0x42, 0x01); // "PCB" 0x01
export const BUNDLE_LABEL = bytes("placecode/1 bundle");
export const MAX_MESSAGES = 255;
export const MAX_MESSAGE_BYTES = 1024;
export const MAX_REVOKED = 65535;

/** `BundleHeader`. */
export interface BundleHeader {
  readonly keyId: Uint8Array;
  readonly sequence: bigint;
  readonly createdAt: number;
  readonly firstHour: number;
  readonly lastHour: number;
  readonly messages: readonly string[];
  readonly revoked: readonly Uint8Array[];
}

/** `BundleHeader.to_bytes()`; refuses (base Error) values outside the table. */
export function bundleHeaderToBytes(h: BundleHeader): Uint8Array {
  if (h.keyId.length !== KEY_ID_BYTES) throw new PlacecodeError("key id must be 8 bytes");
  if (!(h.firstHour <= h.lastHour)) throw new PlacecodeError("first_hour must not exceed last_hour");
  if (h.messages.length > MAX_MESSAGES) throw new PlacecodeError(`at most ${MAX_MESSAGES} messages`);
  if (h.revoked.length > MAX_REVOKED) throw new PlacecodeError(`at most ${MAX_REVOKED} revoked tags`);
  const parts = [BUNDLE_MAGIC, h.keyId, u64(h.sequence), u64(h.createdAt), u32(h.firstHour), u32(h.lastHour), u8(h.messages.length)];
  for (const m of h.messages) {
    const b = bytes(m);
    if (b.length > MAX_MESSAGE_BYTES) throw new PlacecodeError(`a message is at most ${MAX_MESSAGE_BYTES} bytes`);
    parts.push(u16(b.length), b);
  }
  parts.push(u16(h.revoked.length));
  for (const t of h.revoked) {
    if (t.length !== TAG_BYTES) throw new PlacecodeError("a revoked tag is 16 bytes");
    parts.push(t);
  }
  return concat(...parts);
}

/** Parses a header from the start of `data`: the header and its length. Throws DecodeError. */
export function parseBundleHeader(data: Uint8Array): { header: BundleHeader; length: number } {
  const r = new Reader(data, "this placecode/1 bundle is truncated");
  const magic = r.take(4);
  if (!equalBytes(magic, BUNDLE_MAGIC)) throw new DecodeError("this is not a placecode/1 bundle");
  const id = r.take(KEY_ID_BYTES).slice();
  const sequence = r.u64();
  const createdAt = Number(r.u64());
  const firstHour = r.u32();
  const lastHour = r.u32();
  if (firstHour > lastHour) throw new DecodeError("bundle hours out of order");
  const messageCount = r.u8();
  const messages: string[] = [];
  for (let i = 0; i < messageCount; i++) {
    const n = r.u16();
    if (n > MAX_MESSAGE_BYTES) throw new DecodeError("bundle message too long");
    messages.push(decodeUtf8(r.take(n), "a bundle message"));
  }
  const revokedCount = r.u16();
  const revoked: Uint8Array[] = [];
  for (let i = 0; i < revokedCount; i++) revoked.push(r.take(TAG_BYTES).slice());
  return { header: { keyId: id, sequence, createdAt, firstHour, lastHour, messages, revoked }, length: r.at };
}

/** A verified bundle: its header, and its bytes searched in place. */
export interface Bundle {
  readonly header: BundleHeader;
  /** The whole bundle as received (the caller may store it as is). */
  readonly data: Uint8Array;
  readonly count: number;
  /** Offsets into `data`. */
  readonly tagsAt: number;
  readonly endsAt: number;
  readonly payloadsAt: number;
  readonly payloadsLength: number;
}

/**
 * `Bundle.verify(data, authority, after_sequence)`, in the spec's order; every
 * failure throws the opaque VerificationError. `afterSequence` is the highest
 * sequence the device already holds (-1 for none).
 */
export function verifyBundle(data: Uint8Array, authority: AuthorityPublicKeys, afterSequence: bigint = -1n): Bundle {
  const { header, length: headerLength } = opaque(() => parseBundleHeader(data));
  if (!equalBytes(header.keyId, keyId(authority.signKey))) throw new VerificationError();
  if (data.length < SIGNATURE_BYTES) throw new VerificationError();
  const bodyLength = data.length - SIGNATURE_BYTES;
  const body = data.subarray(0, bodyLength);
  const signature = data.subarray(bodyLength);
  if (!ed25519Verify(authority.signKey, concat(BUNDLE_LABEL, sha256(body)), signature)) throw new VerificationError();
  if (!(header.sequence > afterSequence)) throw new VerificationError();
  if (headerLength + 4 > bodyLength) throw new VerificationError();
  const count = readU32(data, headerLength);
  const tagsAt = headerLength + 4;
  const endsAt = tagsAt + TAG_BYTES * count;
  const payloadsAt = endsAt + 4 * count;
  if (payloadsAt > bodyLength) throw new VerificationError();
  const payloadsLength = bodyLength - payloadsAt;
  const lastEnd = count === 0 ? 0 : readU32(data, endsAt + 4 * (count - 1));
  if (lastEnd !== payloadsLength) throw new VerificationError();
  return { header, data, count, tagsAt, endsAt, payloadsAt, payloadsLength };
}

/** Unsigned comparison of the tag at position `i` with `tag`, over the bundle's bytes. */
function compareTagAt(b: Bundle, i: number, tag: Uint8Array): number {
  const data = b.data;
  const at = b.tagsAt + TAG_BYTES * i;
  for (let k = 0; k < TAG_BYTES; k++) {
    const d = (data[at + k] as number) - (tag[k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** The first position whose tag is `>= tag` (`count` if none): binary search, O(log n). */
export function lowerBound(b: Bundle, tag: Uint8Array): number {
  let lo = 0;
  let hi = b.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareTagAt(b, mid, tag) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `Bundle.lookup(tag)`: `tag || payload_i` for the found position and every
 * following one with an equal tag; a position whose end offsets do not satisfy
 * `end_{i-1} < end_i <= len(payloads)` is skipped. Copies only what it returns.
 */
export function lookup(b: Bundle, tag: Uint8Array): Uint8Array[] {
  if (tag.length !== TAG_BYTES) return [];
  const out: Uint8Array[] = [];
  for (let i = lowerBound(b, tag); i < b.count && compareTagAt(b, i, tag) === 0; i++) {
    const start = i === 0 ? 0 : readU32(b.data, b.endsAt + 4 * (i - 1));
    const end = readU32(b.data, b.endsAt + 4 * i);
    if (!(start < end && end <= b.payloadsLength)) continue;
    out.push(concat(tag, b.data.subarray(b.payloadsAt + start, b.payloadsAt + end)));
  }
  return out;
}

/**
 * `sign_bundle(header, entries, signing_key)`: the authority's side, for tests and
 * tools. Entries are sorted by their full bytes.
 */
export function signBundle(header: BundleHeader, entries: readonly Uint8Array[], signSeed: Uint8Array, signKey: Uint8Array): Uint8Array {
  if (!equalBytes(header.keyId, keyId(signKey))) throw new PlacecodeError("the header's key id does not name the signing key");
  for (const e of entries) {
    if (e.length < MIN_ENTRY_BYTES || e.length > MAX_ENTRY_BYTES) throw new PlacecodeError("entry length out of range");
  }
  const sorted = [...entries].sort(compareBytes);
  const head = bundleHeaderToBytes(header);
  const payloadTotal = sorted.reduce((n, e) => n + e.length - TAG_BYTES, 0);
  const body = new Uint8Array(head.length + 4 + 20 * sorted.length + payloadTotal);
  const view = new DataView(body.buffer);
  body.set(head, 0);
  view.setUint32(head.length, sorted.length, false);
  const tagsAt = head.length + 4;
  const endsAt = tagsAt + TAG_BYTES * sorted.length;
  let payloadAt = endsAt + 4 * sorted.length;
  let end = 0;
  sorted.forEach((e, i) => {
    body.set(e.subarray(0, TAG_BYTES), tagsAt + TAG_BYTES * i);
    body.set(e.subarray(TAG_BYTES), payloadAt);
    payloadAt += e.length - TAG_BYTES;
    end += e.length - TAG_BYTES;
    view.setUint32(endsAt + 4 * i, end, false);
  });
  return concat(body, ed25519Sign(signSeed, concat(BUNDLE_LABEL, sha256(body))));
}
