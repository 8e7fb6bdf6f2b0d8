/**
 * §3 Venue keys: a venue secret S derives one code key and one Ed25519 signing
 * key per poster generation or screen UTC day.
 */
import { ed25519Public, ed25519Sign, hkdf, sha256 } from "./primitives.js";
import { bytes, concat, requireLength, u32, u8 } from "./wire.js";
import { PlacecodeError } from "./errors.js";

export const SECRET_BYTES = 32;
export const CODE_KEY_LABEL = bytes("placecode/1 code");
export const VENUE_SIGN_LABEL = bytes("placecode/1 venue-sign");
export const POSTER_CONTEXT = bytes("poster");
export const DAY_CONTEXT = bytes("day");
export const CODE_ID_LABEL = bytes("placecode/1 code-id");
/** §6: HKDF info, code key, kind and public key → bound key. */
export const BIND_LABEL = bytes("placecode/1 bind");

/** §4: the two kinds of code. */
export const KIND_POSTER = 1;
export const KIND_SCREEN = 2;
export type CodeKind = typeof KIND_POSTER | typeof KIND_SCREEN;

/**
 * `bound_key(C, kind, public_key) = HKDF(C, BIND_LABEL || u8 kind || public_key, 32)`:
 * the key everything a device derives comes from (§6), so a code re-encoded under
 * another kind or another public key yields tags that match nothing.
 */
export function boundKey(codeKey: Uint8Array, kind: CodeKind, publicKey: Uint8Array): Uint8Array {
  requireLength(codeKey, SECRET_BYTES, "code key");
  requireLength(publicKey, 32, "venue public key");
  if (kind !== KIND_POSTER && kind !== KIND_SCREEN) throw new PlacecodeError(`unknown code kind ${String(kind)}`);
  return hkdf(codeKey, concat(BIND_LABEL, u8(kind), publicKey), 32);
}

/** `code_id(K) = SHA-256(CODE_ID_LABEL || K)`: what a device keeps after check-out. */
export function codeId(bound: Uint8Array): Uint8Array {
  requireLength(bound, SECRET_BYTES, "bound key");
  return sha256(CODE_ID_LABEL, bound);
}

/** The keys of one code (a poster generation or a screen day). */
export interface CodeKeys {
  readonly kind: CodeKind;
  /** The poster generation or the UTC day. */
  readonly number: number;
  readonly codeKey: Uint8Array;
  readonly signingSeed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly boundKey: Uint8Array;
  readonly codeId: Uint8Array;
}

/** `"poster" || u32 g` or `"day" || u32 d`. */
export function codeContext(kind: CodeKind, number: number): Uint8Array {
  if (kind === KIND_POSTER) return concat(POSTER_CONTEXT, u32(number));
  if (kind === KIND_SCREEN) return concat(DAY_CONTEXT, u32(number));
  throw new PlacecodeError(`unknown code kind ${String(kind)}`);
}

/** `Venue.code_keys(kind, number)`: derives a code's keys from the venue secret. */
export function codeKeys(secret: Uint8Array, kind: CodeKind, number: number): CodeKeys {
  requireLength(secret, SECRET_BYTES, "venue secret");
  const context = codeContext(kind, number);
  const codeKey = hkdf(secret, concat(CODE_KEY_LABEL, context), 32);
  const signingSeed = hkdf(secret, concat(VENUE_SIGN_LABEL, context), 32);
  const publicKey = ed25519Public(signingSeed);
  const bound = boundKey(codeKey, kind, publicKey);
  return { kind, number, codeKey, signingSeed, publicKey, boundKey: bound, codeId: codeId(bound) };
}

/** Signs with a code's key (presence proofs §5 and venue confirmations §7 only). */
export function signWithCode(keys: CodeKeys, message: Uint8Array): Uint8Array {
  return ed25519Sign(keys.signingSeed, message);
}
