/**
 * §4 QR payload: a venue code is `prefix || base32(payload)`, the payload a
 * versioned binary record. Parsing is total: any input either gives a
 * {@link VenueCode} or throws a {@link DecodeError} whose message is for a person.
 */
import { DecodeError, PlacecodeError } from "./errors.js";
import { MAX_KNOWN_FUTURE_VERSION, PROTOCOL_VERSION } from "./versioning.js";
import { KIND_POSTER, KIND_SCREEN, SECRET_BYTES, type CodeKind } from "./venue-keys.js";
import { checkProof, type PresenceProof } from "./presence-proofs.js";
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, validPublicKey } from "./primitives.js";
import { Reader, bytes, concat, decodeUtf8, requireLength, u16, u32, u8 } from "./wire.js";

/** The check-in URL of codes made without a deployment's: no deployment serves it (the vectors use it). */
export const DEFAULT_CHECKIN_URL = "HTTPS://PLACECODE.APP/V";
export const QR_URL_PREFIX = DEFAULT_CHECKIN_URL + "#";
/** Where a deployment serves its web client, under its public URL. */
export const CHECKIN_PATH = "/C";
export const MAX_NAME_BYTES = 40;
export const MIN_PAYLOAD_BYTES = 70; // 1 + 1 + 32 + 32 + 1 + 2 + 1
export const MAX_STAY_MINUTES = 720;
export const DEFAULT_STAY_MINUTES = 120;

/** `Category`: receivers accept any byte and show an unknown value as OTHER. */
export const CATEGORIES = [
  "OTHER",
  "RESTAURANT",
  "BAR",
  "CAFE",
  "SHOP",
  "OFFICE",
  "SCHOOL",
  "HEALTHCARE",
  "EVENT",
  "TRANSPORT",
  "GYM",
  "WORSHIP",
  "HOTEL",
  "CULTURE",
  "PUBLIC_SERVICE",
] as const;
export type CategoryName = (typeof CATEGORIES)[number];

/** The name of a category byte; unknown values are OTHER. */
export function categoryName(category: number): CategoryName {
  return CATEGORIES[category] ?? "OTHER";
}

/** A parsed venue QR code (`VenueCode`). */
export interface VenueCode {
  readonly kind: CodeKind;
  readonly codeKey: Uint8Array;
  readonly venuePublicKey: Uint8Array;
  /** 0-255; see {@link categoryName}. */
  readonly category: number;
  /** 1..720. */
  readonly stayMinutes: number;
  /** The venue's short name: untrusted text from a QR code, to be shown as text only. */
  readonly name: string;
  /** The presence proof of a screen code; null for a poster. */
  readonly proof: PresenceProof | null;
}

const NOT_OURS = "this is not a placecode QR code";
const TRUNCATED = "this placecode QR code is truncated";
const INVALID_KEY = "this placecode QR code carries an invalid venue key: do not use it";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32, upper case, `=` padding removed. */
export function base32Encode(data: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of data) {
    buffer = ((buffer << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes unpadded upper-case base32. A length that no byte string encodes to
 * (1, 3 or 6 characters past a multiple of 8) or a character outside `A-Z2-7`
 * is refused; the unused low bits of the last character are ignored (§16).
 */
export function base32Decode(text: string): Uint8Array {
  const rem = text.length % 8;
  if (rem === 1 || rem === 3 || rem === 6) throw new DecodeError(NOT_OURS);
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0 || ch.length !== 1) throw new DecodeError(NOT_OURS);
    buffer = ((buffer << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out[at++] = (buffer >> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

function checkCode(code: VenueCode): Uint8Array {
  if (code.kind !== KIND_POSTER && code.kind !== KIND_SCREEN) throw new PlacecodeError("unknown code kind");
  requireLength(code.codeKey, SECRET_BYTES, "code key");
  requireLength(code.venuePublicKey, PUBLIC_KEY_BYTES, "venue public key");
  if (!Number.isInteger(code.category) || code.category < 0 || code.category > 255) {
    throw new PlacecodeError("category out of range");
  }
  if (!Number.isInteger(code.stayMinutes) || code.stayMinutes < 1 || code.stayMinutes > MAX_STAY_MINUTES) {
    throw new PlacecodeError(`stay must be 1 to ${MAX_STAY_MINUTES} minutes`);
  }
  const name = bytes(code.name);
  if (name.length > MAX_NAME_BYTES) throw new PlacecodeError(`venue name longer than ${MAX_NAME_BYTES} bytes`);
  if ((code.kind === KIND_SCREEN) !== (code.proof !== null)) {
    throw new PlacecodeError("a screen code carries a presence proof, a poster none");
  }
  if (code.proof !== null) checkProof(code.proof);
  return name;
}

/** `VenueCode.to_bytes()`: the payload. */
export function venueCodeToBytes(code: VenueCode): Uint8Array {
  const name = checkCode(code);
  const parts = [
    u8(PROTOCOL_VERSION),
    u8(code.kind),
    code.codeKey,
    code.venuePublicKey,
    u8(code.category),
    u16(code.stayMinutes),
    u8(name.length),
    name,
  ];
  if (code.proof !== null) parts.push(u32(code.proof.epoch), code.proof.signature);
  return concat(...parts);
}

/**
 * `VenueCode.to_url(checkin_url)`: `checkin_url || "#" || base32(payload)`. Refuses
 * (base Error) a check-in URL that does not start with `http://` or `https://`
 * (ASCII-case-insensitively) or that holds a space, `#`, `?` or a non-ASCII character.
 */
export function venueCodeToUrl(code: VenueCode, checkinUrl: string = DEFAULT_CHECKIN_URL): string {
  if (!/^https?:\/\//i.test(checkinUrl) || /[ #?]|[^\x00-\x7f]/.test(checkinUrl)) {
    throw new PlacecodeError(`not a check-in URL: ${checkinUrl}`);
  }
  return checkinUrl + "#" + base32Encode(venueCodeToBytes(code));
}

/**
 * `checkin_url(public_url)`: where a deployment's codes point, its scheme and host
 * (with any port) in upper case (what QR alphanumeric mode holds), the path as it
 * is without a trailing `/`, then `/C`. Refuses (base Error) anything but
 * `http(s)://host[:port][/path]`: user info, a query, a fragment, a space, a
 * control or a non-ASCII character.
 */
export function checkinUrl(publicUrl: string): string {
  const m = /^(https?):\/\/([^/?#@:\s]+(?::[0-9]{1,5})?)(\/[^?#\s]*)?$/i.exec(publicUrl);
  if (m === null || /[^\x21-\x7e]/.test(publicUrl)) throw new PlacecodeError(`not a public URL of the form http(s)://host[:port][/path]: ${publicUrl}`);
  const [, scheme, host, path] = m as unknown as [string, string, string, string | undefined];
  return `${scheme.toUpperCase()}://${host.toUpperCase()}${(path ?? "").replace(/\/+$/, "")}${CHECKIN_PATH}`;
}

/** `VenueCode.from_bytes`: parses a payload, in the spec's order of checks. */
export function venueCodeFromBytes(payload: Uint8Array): VenueCode {
  if (payload.length < MIN_PAYLOAD_BYTES) throw new DecodeError(NOT_OURS);
  const version = payload[0] as number;
  if (version === 0 || version > MAX_KNOWN_FUTURE_VERSION) throw new DecodeError(NOT_OURS);
  if (version !== PROTOCOL_VERSION) {
    throw new DecodeError(
      `this QR code uses placecode version ${version}, which this app does not know: update the app`,
    );
  }
  const kind = payload[1] as number;
  if (kind !== KIND_POSTER && kind !== KIND_SCREEN) throw new DecodeError(NOT_OURS);
  const r = new Reader(payload, TRUNCATED);
  r.take(2);
  const codeKey = r.take(SECRET_BYTES).slice();
  const venuePublicKey = r.take(PUBLIC_KEY_BYTES).slice();
  if (!validPublicKey(venuePublicKey)) throw new DecodeError(INVALID_KEY);
  const category = r.u8();
  const stayMinutes = r.u16();
  const nameLength = r.u8();
  if (nameLength > MAX_NAME_BYTES) throw new DecodeError(NOT_OURS);
  const nameBytes = r.take(nameLength);
  let name: string;
  try {
    name = decodeUtf8(nameBytes);
  } catch {
    throw new DecodeError("this placecode QR code has a damaged venue name");
  }
  let proof: PresenceProof | null = null;
  if (kind === KIND_SCREEN) {
    const epoch = r.u32();
    proof = { epoch, signature: r.take(SIGNATURE_BYTES).slice() };
  }
  if (r.left > 0) throw new DecodeError(`this placecode QR code has ${r.left} unexpected bytes`);
  if (stayMinutes < 1 || stayMinutes > MAX_STAY_MINUTES) throw new DecodeError(NOT_OURS);
  return { kind, codeKey, venuePublicKey, category, stayMinutes, name, proof };
}

/** ASCII white space stripped around a scanned text (step 1): space, tab, LF, VT, FF, CR. */
const EDGE_WHITESPACE = /^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g;

/**
 * `VenueCode.from_url`: parses the text (or the bytes) a scanner returned.
 * Throws only DecodeError.
 */
export function venueCodeFromUrl(scanned: string | Uint8Array): VenueCode {
  let text: string;
  if (typeof scanned === "string") {
    text = scanned;
  } else {
    try {
      text = decodeUtf8(scanned);
    } catch {
      throw new DecodeError(NOT_OURS);
    }
  }
  text = text.replace(EDGE_WHITESPACE, "");
  const hash = text.indexOf("#");
  if (hash < 0) throw new DecodeError(NOT_OURS);
  if (!/^https?:\/\//i.test(text.slice(0, hash))) throw new DecodeError(NOT_OURS);
  const fragment = text.slice(hash + 1);
  if (!/^[A-Za-z0-9]+$/.test(fragment)) throw new DecodeError(NOT_OURS);
  return venueCodeFromBytes(base32Decode(fragment.toUpperCase()));
}
