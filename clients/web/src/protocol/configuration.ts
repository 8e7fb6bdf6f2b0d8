/**
 * §14 Configuration: a UTF-8 JSON document signed with the authority's key over
 * `CONFIG_LABEL || payload`. The signature is checked before the JSON is parsed;
 * anything wrong behind it is the same opaque VerificationError.
 */
import { DecodeError, VerificationError, opaque } from "./errors.js";
import { ed25519Verify } from "./primitives.js";
import { bytes, concat, decodeUtf8, equalBytes, toHex } from "./wire.js";
import { PROTOCOL_VERSION } from "./versioning.js";
import { keyId, type AuthorityPublicKeys } from "./authority-keys.js";
import type { Policy } from "./matching.js";
import { MAX_MESSAGE_BYTES } from "./bundles.js";
import { UPLOAD_BYTES } from "./uploads.js";
import { CONSENT_BYTES } from "./consent.js";

/** `policy.min_overlap_minutes` is 0 to 43,200 (30 days). */
export const MAX_MIN_OVERLAP_MINUTES = 43200;
/** `retention_days` is 1 to 366. */
export const MAX_RETENTION_DAYS = 366;

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
  /** The service's public URL (docs/api.md), whose check-in path its codes open; null when unset. */
  readonly publicUrl: string | null;
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

/** Marks a JSON number written with a fraction or an exponent, which is not an integer (§14). */
const NOT_AN_INTEGER = "\u0000not an integer:";

/**
 * JSON.parse, except that number literals with a fraction or an exponent (`1.0`,
 * `1e9`) come out as marked strings: JSON has one number type, and `1.0` is not
 * an integer field's value even though JavaScript parses it as 1.
 */
function parseJson(text: string): unknown {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      let j = i + 1;
      while (j < text.length && /[0-9eE.+-]/.test(text[j] as string)) j++;
      const literal = text.slice(i, j);
      out += /[.eE]/.test(literal) ? JSON.stringify(NOT_AN_INTEGER + literal) : literal;
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return JSON.parse(out);
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
 * `read_config(payload, signature, authority, held_issued_at)`: verifies the
 * signature, then parses the JSON. Another protocol raises DecodeError (the
 * person can act on it: update the app); a missing field, a value of another
 * type or out of range, an authority object that does not name the configured
 * keys, and (freshness) an `issued_at` below the one held raise VerificationError.
 */
export function readConfig(
  payload: Uint8Array,
  signature: Uint8Array,
  authority: AuthorityPublicKeys,
  heldIssuedAt: number | null = null,
): Configuration {
  verifyConfigSignature(payload, signature, authority);
  const doc = opaque(() => object(parseJson(decodeUtf8(payload))));
  const protocol = opaque(() => integer(doc.protocol, 0, Number.MAX_SAFE_INTEGER));
  if (protocol !== PROTOCOL_VERSION) {
    throw new DecodeError(`the service speaks placecode/${protocol}, which this app does not know: update the app`);
  }
  return opaque(() => {
    const auth = object(doc.authority);
    const signKey = base64(auth.sign_key);
    const sealKey = base64(auth.seal_key);
    if (!equalBytes(signKey, authority.signKey) || !equalBytes(sealKey, authority.sealKey)) throw new VerificationError();
    if (auth.key_id !== toHex(keyId(authority.signKey))) throw new VerificationError();
    const pol = object(doc.policy);
    if (!Array.isArray(pol.warn_levels)) throw new VerificationError();
    const warnLevels = new Set(pol.warn_levels.map((l: unknown) => integer(l, 1, 3)));
    const minOverlapMinutes = integer(pol.min_overlap_minutes, 0, MAX_MIN_OVERLAP_MINUTES);
    const retentionDays = integer(doc.retention_days, 1, MAX_RETENTION_DAYS);
    const uploadBytes = integer(doc.upload_bytes, UPLOAD_BYTES, UPLOAD_BYTES);
    const consentBytes = integer(doc.consent_bytes, CONSENT_BYTES, CONSENT_BYTES);
    if (!Array.isArray(doc.messages)) throw new VerificationError();
    const messages = doc.messages.map((m: unknown) => {
      if (typeof m !== "string" || bytes(m).length > MAX_MESSAGE_BYTES || m.startsWith(NOT_AN_INTEGER)) throw new VerificationError();
      return m;
    });
    const issuedAt = integer(doc.issued_at, 0, Number.MAX_SAFE_INTEGER);
    // The one field that may be missing (read as null); when present, a string or null.
    const publicUrl = doc.public_url ?? null;
    if (publicUrl !== null && (typeof publicUrl !== "string" || publicUrl.startsWith(NOT_AN_INTEGER))) throw new VerificationError();
    if (heldIssuedAt !== null && issuedAt < heldIssuedAt) throw new VerificationError();
    return {
      protocol,
      authority,
      policy: { warnLevels, minOverlapMinutes },
      retentionDays,
      uploadBytes,
      consentBytes,
      messages,
      issuedAt,
      publicUrl,
    };
  });
}

/** `verify_config` then parse, with no configuration held: {@link readConfig} with `heldIssuedAt` null. */
export function verifyConfig(payload: Uint8Array, signature: Uint8Array, authority: AuthorityPublicKeys): Configuration {
  return readConfig(payload, signature, authority, null);
}
