/**
 * §10 Consent: a warned person's contact details, padded to 464 bytes and sealed
 * to the authority's X25519 key (512 bytes on the wire).
 */
import { PlacecodeError, VerificationError, opaque } from "./errors.js";
import { SEALED_BOX_OVERHEAD, sealedBox, sealedBoxOpen } from "./primitives.js";
import { Reader, bytes, concat, decodeUtf8, requireLength, u16, u32, u8, validWindow } from "./wire.js";
import { PROTOCOL_VERSION } from "./versioning.js";
import { TAG_BYTES } from "./check-in.js";
import type { AuthorityPublicKeys } from "./authority-keys.js";

export const CONSENT_PLAINTEXT_BYTES = 464;
export const CONSENT_BYTES = 512;
export const CONSENT_HEAD_BYTES = 25;
export const MAX_CONTACT_BYTES = 439;
export { SEALED_BOX_OVERHEAD };

/** `ConsentMessage(tag, hour, start_minute, end_minute, contact)`. */
export interface ConsentMessage {
  readonly tag: Uint8Array;
  readonly hour: number;
  readonly startMinute: number;
  readonly endMinute: number;
  /** Free text: name, phone, e-mail; at most 439 bytes of UTF-8. */
  readonly contact: string;
}

/** The UTF-8 length of a contact text, for a form that must keep it within {@link MAX_CONTACT_BYTES}. */
export function contactBytes(contact: string): number {
  return bytes(contact).length;
}

/** `ConsentMessage.to_bytes()`: always 464 bytes; refuses (base Error) values out of range. */
export function consentToBytes(m: ConsentMessage): Uint8Array {
  requireLength(m.tag, TAG_BYTES, "tag");
  if (!validWindow(m.startMinute, m.endMinute)) throw new PlacecodeError("window must satisfy 0 <= start < end <= 60");
  const contact = bytes(m.contact);
  if (contact.length > MAX_CONTACT_BYTES) {
    throw new PlacecodeError(`contact details are at most ${MAX_CONTACT_BYTES} bytes (${contact.length} given)`);
  }
  const out = new Uint8Array(CONSENT_PLAINTEXT_BYTES);
  out.set(concat(u8(PROTOCOL_VERSION), m.tag, u32(m.hour), u8(m.startMinute), u8(m.endMinute), u16(contact.length), contact));
  return out;
}

/** Parses a 464-byte plaintext; any fault throws VerificationError (it sat behind a MAC). */
export function consentFromBytes(plaintext: Uint8Array): ConsentMessage {
  return opaque(() => {
    if (plaintext.length !== CONSENT_PLAINTEXT_BYTES) throw new VerificationError();
    const r = new Reader(plaintext, "short");
    if (r.u8() !== PROTOCOL_VERSION) throw new VerificationError();
    const tag = r.take(TAG_BYTES).slice();
    const hour = r.u32();
    const startMinute = r.u8();
    const endMinute = r.u8();
    const n = r.u16();
    const contactBytes = r.take(n);
    for (const b of r.take(r.left)) if (b !== 0) throw new VerificationError();
    const contact = decodeUtf8(contactBytes);
    if (!validWindow(startMinute, endMinute)) throw new VerificationError();
    return { tag, hour, startMinute, endMinute, contact };
  });
}

/**
 * `seal_consent(message, authority)`: exactly 512 bytes. `ephemeralSecret` is the
 * sealed box's fresh X25519 secret: 32 random bytes the caller draws for each message.
 */
export function sealConsent(m: ConsentMessage, authority: AuthorityPublicKeys, ephemeralSecret: Uint8Array): Uint8Array {
  requireLength(ephemeralSecret, 32, "ephemeral secret");
  return sealedBox(authority.sealKey, consentToBytes(m), ephemeralSecret);
}

/** `open_consent(sealed, keys)` with the sealing secret; every failure throws VerificationError. */
export function openConsent(sealed: Uint8Array, sealSecret: Uint8Array): ConsentMessage {
  if (sealed.length !== CONSENT_BYTES) throw new VerificationError();
  const plaintext = opaque(() => sealedBoxOpen(sealSecret, sealed));
  return consentFromBytes(plaintext);
}
