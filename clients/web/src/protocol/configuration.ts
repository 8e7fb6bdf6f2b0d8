/**
 * §14 Configuration: a UTF-8 JSON document signed with the authority's key over
 * `CONFIG_LABEL || payload`. The signature is checked before the JSON is parsed;
 * anything wrong behind it is the same opaque VerificationError.
 */
import { VerificationError, opaque } from "./errors.js";
import { ed25519Verify } from "./primitives.js";
import { bytes, concat, decodeUtf8, equalBytes, toHex } from "./wire.js";
import { PROTOCOL_VERSION } from "./versioning.js";
import { keyId, type AuthorityPublicKeys } from "./authority-keys.js";
import type { Policy } from "./matching.js";

export const CONFIG_LABEL = bytes("placecode/1 config");

/** The configuration's fields (docs/api.md), as the client uses them. */
export interface Configuration {
  readonly protocol: number;
  readonly authority: AuthorityPublicKeys;
  readonly policy: Policy;
  readonly retentionDays: number;
  readonly uploadBytes: number;
  readonly consentBytes: number;
  readonly messages: readonly string[];
  readonly issuedAt: number;
}

/** `verify_config(payload, signature, authority)`: throws VerificationError unless signed. */
export function verifyConfigSignature(payload: Uint8Array, signature: Uint8Array, authority: AuthorityPublicKeys): void {
  if (!ed25519Verify(authority.signKey, concat(CONFIG_LABEL, payload), signature)) throw new VerificationError();
}

function base64(text: unknown): Uint8Array {
  if (typeof text !== "string" || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw new VerificationError();
  }
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function integer(x: unknown, min: number, max: number): number {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < min || x > max) throw new VerificationError();
  return x;
}

function object(x: unknown): Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) throw new VerificationError();
  return x as Record<string, unknown>;
}

/**
 * Verifies, then parses, a signed configuration: the signature first, then the
 * JSON, whose protocol must be 1 and whose authority keys must be the configured
 * ones. Every failure throws VerificationError.
 */
export function verifyConfig(payload: Uint8Array, signature: Uint8Array, authority: AuthorityPublicKeys): Configuration {
  verifyConfigSignature(payload, signature, authority);
  return opaque(() => {
    const doc = object(JSON.parse(decodeUtf8(payload)));
    const protocol = integer(doc.protocol, 0, Number.MAX_SAFE_INTEGER);
    if (protocol !== PROTOCOL_VERSION) throw new VerificationError();
    const auth = object(doc.authority);
    const signKey = base64(auth.sign_key);
    const sealKey = base64(auth.seal_key);
    if (!equalBytes(signKey, authority.signKey) || !equalBytes(sealKey, authority.sealKey)) throw new VerificationError();
    if (auth.key_id !== toHex(keyId(authority.signKey))) throw new VerificationError();
    const pol = object(doc.policy);
    if (!Array.isArray(pol.warn_levels)) throw new VerificationError();
    const warnLevels = new Set(pol.warn_levels.map((l: unknown) => integer(l, 1, 3)));
    const minOverlapMinutes = integer(pol.min_overlap_minutes, 0, Number.MAX_SAFE_INTEGER);
    if (!Array.isArray(doc.messages) || !doc.messages.every((m: unknown) => typeof m === "string")) {
      throw new VerificationError();
    }
    return {
      protocol,
      authority,
      policy: { warnLevels, minOverlapMinutes },
      retentionDays: integer(doc.retention_days, 1, Number.MAX_SAFE_INTEGER),
      uploadBytes: integer(doc.upload_bytes, 0, Number.MAX_SAFE_INTEGER),
      consentBytes: integer(doc.consent_bytes, 0, Number.MAX_SAFE_INTEGER),
      messages: doc.messages as string[],
      issuedAt: integer(doc.issued_at, 0, Number.MAX_SAFE_INTEGER),
    };
  });
}
