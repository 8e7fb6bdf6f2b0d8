/** §5 Presence proofs: a screen code's signature over its code id and a 30-second epoch. */
import { ed25519Verify, validPublicKey } from "./primitives.js";
import { bytes, concat, u32 } from "./wire.js";
import { signWithCode, type CodeKeys } from "./venue-keys.js";
import { PlacecodeError } from "./errors.js";

export const EPOCH_SECONDS = 30;
export const PRESENCE_LABEL = bytes("placecode/1 presence");
export const MAX_CODE_AGE_SECONDS = 90;
export const MAX_CLOCK_SKEW_SECONDS = 30;
export const SINGLE_PROOF_SPAN_SECONDS = 3600;
export const MAX_PROOFS = 2;
/** `u32 epoch || signature`. */
export const PROOF_BYTES = 4 + 64;

export interface PresenceProof {
  readonly epoch: number;
  readonly signature: Uint8Array;
}

/** `PRESENCE_LABEL || code_id || u32 epoch` (56 bytes). */
export function presenceMessage(codeId: Uint8Array, epoch: number): Uint8Array {
  return concat(PRESENCE_LABEL, codeId, u32(epoch));
}

/** The epoch of a Unix time: `floor(t / 30)`. */
export function epochOf(t: number): number {
  return Math.floor(t / EPOCH_SECONDS);
}

/** The proof a screen shows at `epoch` (the owner's side, §4 `Venue.screen`). */
export function presenceProof(keys: CodeKeys, epoch: number): PresenceProof {
  return { epoch, signature: signWithCode(keys, presenceMessage(keys.codeId, epoch)) };
}

/**
 * `PresenceProof.verify(venue_public_key, code_id)`: Ed25519 as §2 pins it; false
 * at once under a venue key that is not `valid_public_key`.
 */
export function verifyPresenceProof(proof: PresenceProof, venuePublicKey: Uint8Array, codeId: Uint8Array): boolean {
  if (!Number.isInteger(proof.epoch) || proof.epoch < 0 || proof.epoch > 0xffffffff) return false;
  return verifyVenueSignature(venuePublicKey, presenceMessage(codeId, proof.epoch), proof.signature);
}

/** A venue key comes from an unauthenticated QR code: verify only under a `valid_public_key` (§2 rule 1). */
export function verifyVenueSignature(venuePublicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return validPublicKey(venuePublicKey) && ed25519Verify(venuePublicKey, message, signature);
}

/** Throws the base error unless the proof fits the wire (a sender's programming error). */
export function checkProof(proof: PresenceProof): void {
  if (!Number.isInteger(proof.epoch) || proof.epoch < 0 || proof.epoch > 0xffffffff) {
    throw new PlacecodeError("presence proof epoch out of range");
  }
  if (proof.signature.length !== 64) throw new PlacecodeError("presence proof signature must be 64 bytes");
}
