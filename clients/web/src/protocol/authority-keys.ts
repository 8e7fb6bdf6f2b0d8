/**
 * §9 Authority keys: an Ed25519 signing seed (bundles, configuration) and an
 * independent X25519 sealing secret (consent messages, venue traces).
 */
import { ed25519Public, sha256, x25519Public, type RandomBytes } from "./primitives.js";
import { bytes, requireLength } from "./wire.js";

export const KEY_ID_LABEL = bytes("placecode/1 key-id");
export const KEY_ID_BYTES = 8;

/** `key_id(sign_key) = SHA-256(KEY_ID_LABEL || sign_key)[:8]`. */
export function keyId(signKey: Uint8Array): Uint8Array {
  requireLength(signKey, 32, "authority signing key");
  return sha256(KEY_ID_LABEL, signKey).slice(0, KEY_ID_BYTES);
}

/** `AuthorityPublicKeys(sign_key, seal_key)`: what every device and venue tool is configured with. */
export interface AuthorityPublicKeys {
  readonly signKey: Uint8Array;
  readonly sealKey: Uint8Array;
}

/** `AuthorityKeys`: the two secrets. */
export interface AuthorityKeys {
  readonly signSeed: Uint8Array;
  readonly sealSecret: Uint8Array;
}

/** Checks the lengths of configured public keys (a programming error otherwise). */
export function authorityPublicKeys(signKey: Uint8Array, sealKey: Uint8Array): AuthorityPublicKeys {
  requireLength(signKey, 32, "authority signing key");
  requireLength(sealKey, 32, "authority sealing key");
  return { signKey, sealKey };
}

/** `AuthorityKeys.generate(random)`: `sign_seed = random(32)`, then `seal_secret = random(32)`. */
export function generateAuthorityKeys(random: RandomBytes): AuthorityKeys {
  const signSeed = random(32);
  const sealSecret = random(32);
  requireLength(signSeed, 32, "sign seed");
  requireLength(sealSecret, 32, "seal secret");
  return { signSeed, sealSecret };
}

/** The public halves: `Ed25519-Public(sign_seed)` and `X25519(seal_secret, 9)`. */
export function publicKeysOf(keys: AuthorityKeys): AuthorityPublicKeys {
  return { signKey: ed25519Public(keys.signSeed), sealKey: x25519Public(keys.sealSecret) };
}
