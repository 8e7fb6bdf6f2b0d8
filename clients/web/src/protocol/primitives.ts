/**
 * §2 Primitives, each from an audited library (@noble/hashes, @noble/curves,
 * @noble/ciphers); nothing here implements a primitive itself. All functions are
 * synchronous and pure: randomness is passed in by the caller.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { hsalsa, xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { blake2b } from "@noble/hashes/blake2.js";
import { hkdf as nobleHkdf } from "@noble/hashes/hkdf.js";
import { hmac as nobleHmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256, sha512 } from "@noble/hashes/sha2.js";
import { concat } from "./wire.js";

/** `random(n) -> bytes`: the injected source of randomness (`RandomBytes`). */
export type RandomBytes = (n: number) => Uint8Array;

/** The platform's CSPRNG (WebCrypto `getRandomValues`) as a {@link RandomBytes}. */
export function systemRandom(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

export const SEALED_BOX_OVERHEAD = 48;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** SHA-256 (FIPS 180-4), 32 bytes. */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  return nobleSha256(parts.length === 1 ? (parts[0] as Uint8Array) : concat(...parts));
}

/** HMAC-SHA256 (RFC 2104), 32 bytes. */
export function hmac(key: Uint8Array, ...message: readonly Uint8Array[]): Uint8Array {
  return nobleHmac(nobleSha256, key, concat(...message));
}

/** HKDF-SHA256 (RFC 5869) with no salt. */
export function hkdf(ikm: Uint8Array, info: Uint8Array, length = 32): Uint8Array {
  return nobleHkdf(nobleSha256, ikm, undefined, info, length);
}

/** Ed25519-Public(seed). */
export function ed25519Public(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/** Ed25519-Sign(seed, message): 64 bytes, RFC 8032 pure Ed25519. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}

const Point = ed25519.Point;
const Fn = ed25519.Point.Fn;

/** A little-endian byte string as an unsigned integer. */
function littleEndian(data: Uint8Array): bigint {
  let x = 0n;
  for (let i = data.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(data[i] as number);
  return x;
}

/**
 * `valid_public_key(A)` (§2, rule 1): the canonical encoding of a point of prime
 * order L (libsodium's crypto_core_ed25519_is_valid_point): y < p, on the curve,
 * not one of the eight small-order points, inside the prime-order subgroup.
 * Checked with @noble/curves' own point methods.
 */
export function validPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    const A = Point.fromBytes(publicKey, false);
    return !A.isSmallOrder() && A.isTorsionFree();
  } catch {
    return false;
  }
}

/**
 * Ed25519 verification as §2 pins it (rule 2): `S < L` and
 * `encode([S]B - [k]A) == R` byte for byte, `k = SHA-512(R || A || M) mod L`
 * (the cofactorless equation: a non-canonical R never verifies). `A` must decode
 * canonically; venue keys are also refused unless {@link validPublicKey} (the
 * callers check that where the spec asks). Never throws: anything malformed is
 * simply not valid. Composed of @noble/curves point operations and @noble/hashes'
 * SHA-512; no curve arithmetic of our own.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    const R = signature.subarray(0, 32);
    const S = littleEndian(signature.subarray(32));
    if (S >= Fn.ORDER) return false;
    const A = Point.fromBytes(publicKey, false);
    const k = Fn.create(littleEndian(sha512(concat(R, publicKey, message))));
    const check = Point.BASE.multiplyUnsafe(S).subtract(A.multiplyUnsafe(k));
    return equalBytesPublic(check.toBytes(), R);
  } catch {
    return false;
  }
}

/** Byte equality of public values (signature checks compare public data). */
function equalBytesPublic(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** AES-256-GCM seal: `ciphertext || gcm_tag`. */
export function aesGcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return gcm(key, nonce, aad).encrypt(plaintext);
}

/** AES-256-GCM open; throws on any failure (callers turn it into VerificationError). */
export function aesGcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  return gcm(key, nonce, aad).decrypt(sealed);
}

/** X25519(secret, 9): the public key of a 32-byte secret. */
export function x25519Public(secret: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secret);
}

function le32words(data: Uint8Array): Uint32Array {
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const words = new Uint32Array(data.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(4 * i, true);
  return words;
}

const SIGMA = le32words(new TextEncoder().encode("expand 32-byte k"));

/**
 * crypto_box_beforenm: HSalsa20(X25519(sk, pk), 0^16), with the library's hsalsa
 * (words read little-endian, as Salsa20 defines them). Throws on a low-order pk.
 */
function boxBeforenm(secret: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const shared = x25519.getSharedSecret(secret, publicKey);
  const out = new Uint32Array(8);
  hsalsa(SIGMA, le32words(shared), new Uint32Array(4), out);
  const key = new Uint8Array(32);
  const view = new DataView(key.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(4 * i, out[i] as number, true);
  return key;
}

function sealNonce(epk: Uint8Array, pk: Uint8Array): Uint8Array {
  return blake2b(concat(epk, pk), { dkLen: 24 });
}

/**
 * SealedBox(pk, m) = epk || crypto_box_easy(m, BLAKE2b(epk || pk, 24), pk, esk),
 * libsodium's crypto_box_seal. `ephemeralSecret` is the 32-byte `esk`, which the
 * caller draws (the vectors fix it).
 */
export function sealedBox(publicKey: Uint8Array, message: Uint8Array, ephemeralSecret: Uint8Array): Uint8Array {
  const epk = x25519Public(ephemeralSecret);
  const key = boxBeforenm(ephemeralSecret, publicKey);
  return concat(epk, xsalsa20poly1305(key, sealNonce(epk, publicKey)).encrypt(message));
}

/** crypto_box_seal_open; throws on any failure (callers turn it into VerificationError). */
export function sealedBoxOpen(secret: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < SEALED_BOX_OVERHEAD) throw new Error("sealed box too short");
  const epk = sealed.subarray(0, 32);
  const pk = x25519Public(secret);
  const key = boxBeforenm(secret, epk);
  return xsalsa20poly1305(key, sealNonce(epk, pk)).decrypt(sealed.subarray(32));
}
