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

/** One section of a verified bundle, as offsets into the bundle's bytes. */
export interface BundleSection {
  readonly count: number;
  readonly tagsAt: number;
  readonly endsAt: number;
  readonly payloadsAt: number;
  readonly payloadsLength: number;
}

/** A verified bundle: its header, and its bytes searched in place. */
export interface Bundle {
  readonly header: BundleHeader;
  /** The whole bundle as received (the caller may store it as is). */
  readonly data: Uint8Array;
  /** The entries the authority published itself (venue-confirmed entries from traces). */
  readonly authority: BundleSection;
  /** The entries of public uploads and the service's decoys. */
  readonly public: BundleSection;
}

/** Checks one section starting at `at` (§8 steps 5 and 6); returns it and where it ends. */
function readSection(data: Uint8Array, at: number, bodyLength: number): { section: BundleSection; end: number } {
  if (at + 4 > bodyLength) throw new VerificationError();
  const count = readU32(data, at);
  const tagsAt = at + 4;
  const endsAt = tagsAt + TAG_BYTES * count;
  const payloadsAt = endsAt + 4 * count;
  if (payloadsAt > bodyLength) throw new VerificationError();
  const payloadsLength = count === 0 ? 0 : readU32(data, endsAt + 4 * (count - 1));
  const end = payloadsAt + payloadsLength;
  if (end > bodyLength) throw new VerificationError();
  return { section: { count, tagsAt, endsAt, payloadsAt, payloadsLength }, end };
}

/**
 * `Bundle.verify(data, authority, after_sequence)`, in the spec's order; every
 * failure throws the opaque VerificationError. `afterSequence` is the highest
 * sequence the device already holds (-1 for none).
 */
export function verifyBundle(data: Uint8Array, authority: AuthorityPublicKeys, afterSequence: bigint = -1n): Bundle {
  return verifyBundleWithDigest(data, authority, afterSequence, (body) => sha256(body));
}

/**
 * {@link verifyBundle} with the body's SHA-256 from WebCrypto (`crypto.subtle.digest`),
 * which hashes a multi-megabyte bundle natively; the same checks in the same order.
 */
export async function verifyBundleAsync(data: Uint8Array, authority: AuthorityPublicKeys, afterSequence: bigint = -1n): Promise<Bundle> {
  const body = data.subarray(0, Math.max(0, data.length - SIGNATURE_BYTES));
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>));
  return verifyBundleWithDigest(data, authority, afterSequence, () => digest);
}

/** The checks of §8 with the body's SHA-256 computed by `digest` (§8: it can be hashed as it streams in). */
function verifyBundleWithDigest(
  data: Uint8Array,
  authority: AuthorityPublicKeys,
  afterSequence: bigint,
  digest: (body: Uint8Array) => Uint8Array,
): Bundle {
  const { header, length: headerLength } = opaque(() => parseBundleHeader(data));
  if (!equalBytes(header.keyId, keyId(authority.signKey))) throw new VerificationError();
  if (data.length < SIGNATURE_BYTES) throw new VerificationError();
  const bodyLength = data.length - SIGNATURE_BYTES;
  const body = data.subarray(0, bodyLength);
  const signature = data.subarray(bodyLength);
  if (!ed25519Verify(authority.signKey, concat(BUNDLE_LABEL, digest(body)), signature)) throw new VerificationError();
  if (!(header.sequence > afterSequence)) throw new VerificationError();
  const first = readSection(data, headerLength, bodyLength);
  const second = readSection(data, first.end, bodyLength);
  if (second.end !== bodyLength) throw new VerificationError();
  return { header, data, authority: first.section, public: second.section };
}

/** Unsigned comparison of the tag at position `i` of a section with `tag`, over the bundle's bytes. */
function compareTagAt(data: Uint8Array, s: BundleSection, i: number, tag: Uint8Array): number {
  const at = s.tagsAt + TAG_BYTES * i;
  for (let k = 0; k < TAG_BYTES; k++) {
    const d = (data[at + k] as number) - (tag[k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** The first position of a section whose tag is `>= tag` (`count` if none): binary search, O(log n). */
export function lowerBound(data: Uint8Array, s: BundleSection, tag: Uint8Array): number {
  let lo = 0;
  let hi = s.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareTagAt(data, s, mid, tag) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Lookup in one section: `tag || payload_i` for the first position whose tag is
 * `>= tag`, if equal, and every following position while the tag is equal; a
 * position whose end offsets do not satisfy `end_{i-1} < end_i <= len(payloads)`
 * is skipped. Copies only what it returns.
 */
export function lookupSection(b: Bundle, s: BundleSection, tag: Uint8Array): Uint8Array[] {
  if (tag.length !== TAG_BYTES) return [];
  const out: Uint8Array[] = [];
  const data = b.data;
  for (let i = lowerBound(data, s, tag); i < s.count && compareTagAt(data, s, i, tag) === 0; i++) {
    const start = i === 0 ? 0 : readU32(data, s.endsAt + 4 * (i - 1));
    const end = readU32(data, s.endsAt + 4 * i);
    if (!(start < end && end <= s.payloadsLength)) continue;
    out.push(concat(tag, data.subarray(s.payloadsAt + start, s.payloadsAt + end)));
  }
  return out;
}

/** `Bundle.lookup_authority(tag)`. */
export function lookupAuthority(b: Bundle, tag: Uint8Array): Uint8Array[] {
  return lookupSection(b, b.authority, tag);
}

/** `Bundle.lookup_public(tag)`. */
export function lookupPublic(b: Bundle, tag: Uint8Array): Uint8Array[] {
  return lookupSection(b, b.public, tag);
}

/** `Bundle.lookup(tag)`: both sections, the authority's first. */
export function lookup(b: Bundle, tag: Uint8Array): Uint8Array[] {
  return [...lookupAuthority(b, tag), ...lookupPublic(b, tag)];
}

/** One section's bytes: `u32 count || tags || end_offsets || payloads`, entries sorted by their full bytes. */
function sectionBytes(entries: readonly Uint8Array[]): Uint8Array {
  for (const e of entries) {
    if (e.length < MIN_ENTRY_BYTES || e.length > MAX_ENTRY_BYTES) throw new PlacecodeError("entry length out of range");
  }
  const sorted = [...entries].sort(compareBytes);
  const payloadTotal = sorted.reduce((n, e) => n + e.length - TAG_BYTES, 0);
  const out = new Uint8Array(4 + 20 * sorted.length + payloadTotal);
  const view = new DataView(out.buffer);
  view.setUint32(0, sorted.length, false);
  const endsAt = 4 + TAG_BYTES * sorted.length;
  let payloadAt = endsAt + 4 * sorted.length;
  let end = 0;
  sorted.forEach((e, i) => {
    out.set(e.subarray(0, TAG_BYTES), 4 + TAG_BYTES * i);
    out.set(e.subarray(TAG_BYTES), payloadAt);
    payloadAt += e.length - TAG_BYTES;
    end += e.length - TAG_BYTES;
    view.setUint32(endsAt + 4 * i, end, false);
  });
  return out;
}

/**
 * `sign_bundle(header, entries, signing_key, authority_entries=())`: the
 * authority's side, for tests and tools. `entries` go to the public section,
 * `authorityEntries` to the authority section.
 */
export function signBundle(
  header: BundleHeader,
  entries: readonly Uint8Array[],
  signSeed: Uint8Array,
  signKey: Uint8Array,
  authorityEntries: readonly Uint8Array[] = [],
): Uint8Array {
  if (!equalBytes(header.keyId, keyId(signKey))) throw new PlacecodeError("the header's key id does not name the signing key");
  const body = concat(bundleHeaderToBytes(header), sectionBytes(authorityEntries), sectionBytes(entries));
  return concat(body, ed25519Sign(signSeed, concat(BUNDLE_LABEL, sha256(body))));
}

/**
 * Catch-up (§8): verifies listed bundles above `held` (the highest sequence the
 * device holds, -1 for none) in ascending sequence order, each with the highest
 * sequence so far as `after_sequence`. `fetched` maps a listed sequence to its
 * bytes, or null if it could not be fetched. Stops at the first bundle that is
 * missing or fails verification, so a listed bundle is never skipped; returns the
 * ones verified before it and whether the catch-up is complete.
 */
export function catchUp(
  fetched: ReadonlyMap<bigint, Uint8Array | null>,
  authority: AuthorityPublicKeys,
  held: bigint = -1n,
): { bundles: Bundle[]; complete: boolean } {
  const order = [...fetched.keys()].filter((s) => s > held).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bundles: Bundle[] = [];
  let highest = held;
  for (const sequence of order) {
    const data = fetched.get(sequence);
    if (data === null || data === undefined) return { bundles, complete: false };
    let bundle: Bundle;
    try {
      bundle = verifyBundle(data, authority, highest);
    } catch (e) {
      if (e instanceof VerificationError) return { bundles, complete: false };
      throw e;
    }
    if (bundle.header.sequence !== sequence) return { bundles, complete: false };
    bundles.push(bundle);
    highest = sequence;
  }
  return { bundles, complete: true };
}
