/**
 * What the app does with the service, as the CLI client does it: the signed
 * configuration (the authority pinned at the first sync), the bundles (each
 * verified, sequence strictly increasing, before any is kept), matching on the
 * device, and now and then a dummy upload of the same size as a real report.
 * A report is a sync whose upload is real: the same requests in the same order.
 */
import {
  UPLOAD_BYTES,
  VerificationError,
  authorityPublicKeys,
  chance,
  dummyUpload,
  entriesProblem,
  fromHex,
  match,
  normalizeTan,
  openEntry,
  reportEntries,
  sealConsent,
  sha256,
  systemRandom,
  toHex,
  uploadToBytes,
  verifyBundle,
  verifyConfig,
  readConfig,
  type AuthorityPublicKeys,
  type Bundle,
  type Configuration,
  type RandomBytes,
  type UploadRequest,
  type Visit,
} from "../protocol/index.js";
import {
  DiaryError,
  checkInOf,
  nextWarningId,
  purge,
  visitOf,
  type DiaryState,
  type WarningJson,
} from "./diary.js";
import { checkOut as protocolCheckOut } from "../protocol/index.js";
import type { Store } from "./store.js";

/** how likely each sync is to send a dummy upload (the CLI's default) */
export const DUMMY_PROBABILITY = 0.3;
/** the largest bundle the app downloads (the CLI's cap, clients/http.py MAX_BUNDLE_BYTES) */
export const MAX_BUNDLE_BYTES = 32 * 1024 * 1024;
/** how long one sync may spend on its bundles, all of them together (the CLI's SYNC_SECONDS) */
export const SYNC_SECONDS = 600;

/** The service could not be reached: the device is offline or the service is down. */
export class OfflineError extends DiaryError {}
/** The service answered with a refusal; `message` is the service's own. */
export class RefusedError extends DiaryError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
/** Something from the service failed verification: nothing was kept. */
export class RejectedError extends DiaryError {}

export const random: RandomBytes = systemRandom;

function endpoint(path: string): string {
  return new URL(path, location.href).href;
}

async function request(path: string, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(endpoint(path), { cache: "no-store", credentials: "omit", ...init });
  } catch {
    if (init?.signal?.aborted === true) throw new RejectedError("too-slow");
    throw new OfflineError("offline");
  }
  if (!response.ok) {
    let code = "";
    let message = `HTTP ${response.status}`;
    try {
      const doc = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
      code = String(doc.error?.code ?? "");
      message = String(doc.error?.message ?? message);
    } catch {
      // not the service's JSON error: keep the status
    }
    throw new RefusedError(message, code);
  }
  return response;
}

function base64ToBytes(text: unknown): Uint8Array {
  if (typeof text !== "string") throw new VerificationError();
  const raw = atob(text);
  return Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
}

function bytesToBase64(data: Uint8Array): string {
  let raw = "";
  for (const b of data) raw += String.fromCharCode(b);
  return btoa(raw);
}

/** The authority keys a configuration names (not yet trusted). */
function namedAuthority(payload: Uint8Array): AuthorityPublicKeys {
  try {
    const doc = JSON.parse(new TextDecoder().decode(payload)) as { authority: { sign_key: string; seal_key: string } };
    return authorityPublicKeys(base64ToBytes(doc.authority.sign_key), base64ToBytes(doc.authority.seal_key));
  } catch {
    throw new RejectedError("config-malformed");
  }
}

export function pinnedAuthority(state: DiaryState): AuthorityPublicKeys | null {
  const a = state.authority;
  return a === null ? null : authorityPublicKeys(base64ToBytes(a.signKey), base64ToBytes(a.sealKey));
}

/** The configuration, verified against the pinned key (pinned now on the first sync). */
async function fetchConfig(state: DiaryState): Promise<Configuration> {
  const doc = (await (await request("v1/config")).json()) as { payload?: unknown; signature?: unknown };
  let payload: Uint8Array;
  let signature: Uint8Array;
  try {
    payload = base64ToBytes(doc.payload);
    signature = base64ToBytes(doc.signature);
  } catch {
    throw new RejectedError("config-malformed");
  }
  const named = namedAuthority(payload);
  const pinned = pinnedAuthority(state);
  if (pinned !== null && toHex(pinned.signKey) !== toHex(named.signKey)) throw new RejectedError("authority-changed");
  // Freshness (protocol §14): never a configuration older than the one held.
  const held = pinned !== null && state.config !== null ? storedConfig(state)?.issuedAt ?? null : null;
  let config: Configuration;
  try {
    config = readConfig(payload, signature, named, held);
  } catch {
    throw new RejectedError("config-unsigned");
  }
  state.authority = { signKey: bytesToBase64(named.signKey), sealKey: bytesToBase64(named.sealKey) };
  state.config = { payload: bytesToBase64(payload), signature: bytesToBase64(signature) };
  state.retentionDays = config.retentionDays;
  return config;
}

/** The stored configuration, verified again. */
export function storedConfig(state: DiaryState): Configuration | null {
  const authority = pinnedAuthority(state);
  if (authority === null || state.config === null) return null;
  return verifyConfig(base64ToBytes(state.config.payload), base64ToBytes(state.config.signature), authority);
}

/** A row of the bundle index. The index is not signed: it only says where to look. */
interface IndexEntry {
  readonly sequence: number;
  readonly url: string;
  readonly size: number;
  readonly sha256: string;
}

async function bundleIndex(after: number): Promise<IndexEntry[]> {
  const doc = (await (await request(after < 0 ? "v1/bundles" : `v1/bundles?after=${after}`)).json()) as {
    bundles?: unknown;
  };
  if (!Array.isArray(doc.bundles)) throw new RejectedError("index-malformed");
  return doc.bundles.map((b: Record<string, unknown>) => {
    const sequence = Number(b.sequence);
    if (!Number.isSafeInteger(sequence) || typeof b.sha256 !== "string") throw new RejectedError("index-malformed");
    return {
      sequence,
      url: typeof b.url === "string" ? b.url.replace(/^\//, "") : `v1/bundles/${sequence}`,
      size: Number(b.size),
      sha256: b.sha256.toLowerCase(),
    };
  });
}

/**
 * The sequences to download: every one after the last bundle this device holds
 * (or, holding none, from the first listed: the service purges its oldest
 * bundles first). An index that skips one of them is refused.
 */
function wanted(state: DiaryState, index: readonly IndexEntry[]): IndexEntry[] {
  if (index.length === 0) return [];
  const bySequence = new Map(index.map((b) => [b.sequence, b]));
  const holdsLast = state.bundles.some((b) => b.sequence === state.lastSequence);
  const first = holdsLast ? state.lastSequence + 1 : Math.min(...bySequence.keys());
  const out: IndexEntry[] = [];
  for (let sequence = first; sequence <= Math.max(...bySequence.keys()); sequence++) {
    const info = bySequence.get(sequence);
    if (info === undefined) throw new RejectedError("index-gap");
    out.push(info);
  }
  return out;
}

/**
 * A bundle's bytes, read as they arrive: refused when its declared size is above
 * MAX_BUNDLE_BYTES (before any byte is read) or when the server sends more than it
 * declared; `signal` ends a download that drags on past the sync's deadline.
 */
async function download(info: IndexEntry, signal: AbortSignal): Promise<Uint8Array> {
  if (!Number.isSafeInteger(info.size) || info.size < 0 || info.size > MAX_BUNDLE_BYTES) {
    throw new RejectedError("bundle-too-large");
  }
  const response = await request(info.url, { signal });
  const data = new Uint8Array(info.size);
  let length = 0;
  if (response.body === null) return data.subarray(0, 0);
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.length > info.size) {
        await reader.cancel();
        throw new RejectedError("bundle-too-large");
      }
      data.set(value, length);
      length += value.length;
    }
  } catch (error) {
    if (error instanceof RejectedError) throw error;
    if (signal.aborted) throw new RejectedError("too-slow");
    throw new OfflineError("offline");
  }
  return data.subarray(0, length);
}

/** The held bundles, each checked against its recorded hash and signature again. */
async function heldBundles(state: DiaryState, store: Store, authority: AuthorityPublicKeys): Promise<Bundle[]> {
  const out: Bundle[] = [];
  for (const record of state.bundles) {
    const data = await store.getBundle(record.sequence);
    try {
      if (data === null || toHex(sha256(data)) !== record.sha256) throw new VerificationError();
      out.push(verifyBundle(data, authority));
    } catch {
      throw new RejectedError("stored-bundle");
    }
  }
  return out;
}

export interface SyncResult {
  readonly newBundles: number;
  readonly downloadedBytes: number;
  readonly newWarnings: readonly WarningJson[];
  readonly dummySent: boolean;
}

/**
 * Downloads and verifies new bundles, matches on the device, and sends a dummy
 * upload by chance, or `report` in its place. A bundle that fails verification
 * (altered, replayed, another key) leaves the diary as it was: nothing is kept.
 */
export async function sync(
  state: DiaryState,
  store: Store,
  now: number,
  options: { report?: UploadRequest; dummyProbability?: number } = {},
): Promise<SyncResult> {
  const config = await fetchConfig(state);
  const authority = config.authority;
  const index = wanted(
    state,
    (await bundleIndex(state.lastSequence)).filter((b) => b.sequence > state.lastSequence),
  );
  // one deadline for every download of this sync: a drip-fed bundle cannot hold it forever
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), SYNC_SECONDS * 1000);
  // the signed header, not the index, says which hours a bundle covers (and so when it expires)
  const fetched: [Bundle, Uint8Array][] = [];
  let last = BigInt(state.lastSequence);
  try {
    for (const info of index) {
      const data = await download(info, deadline.signal);
      let bundle: Bundle;
      try {
        if (toHex(sha256(data)) !== info.sha256) throw new VerificationError();
        bundle = verifyBundle(data, authority, last);
        if (bundle.header.sequence !== BigInt(info.sequence)) throw new VerificationError();
      } catch {
        throw new RejectedError("bundle-rejected");
      }
      last = bundle.header.sequence;
      fetched.push([bundle, data]);
    }
  } finally {
    clearTimeout(timer);
  }
  await store.putBundles(fetched.map(([bundle, data]) => [Number(bundle.header.sequence), data] as const));
  for (const [bundle, data] of fetched) {
    state.bundles.push({
      sequence: Number(bundle.header.sequence),
      sha256: toHex(sha256(data)),
      lastHour: bundle.header.lastHour,
    });
  }
  state.lastSequence = Number(last);
  await store.deleteBundles(purge(state, now));
  const newWarnings = rematch(state, config, await heldBundles(state, store, authority), now);
  let dummySent = false;
  if (options.report !== undefined) {
    await upload(options.report);
  } else if (chance(random, options.dummyProbability ?? DUMMY_PROBABILITY)) {
    try {
      await upload(dummyUpload(random));
      dummySent = true;
    } catch {
      // a dummy's failure changes nothing and is not shown
    }
  }
  state.lastSyncAt = now;
  return { newBundles: fetched.length, downloadedBytes: fetched.reduce((n, [, d]) => n + d.length, 0), newWarnings, dummySent };
}

async function upload(req: UploadRequest): Promise<void> {
  const body = uploadToBytes(req);
  if (body.length !== UPLOAD_BYTES) throw new DiaryError("upload-size");
  await request("v1/uploads", {
    method: "POST",
    headers: { "Content-Type": "application/octet-stream" },
    body: new Uint8Array(body),
  });
}

function rematch(state: DiaryState, config: Configuration, bundles: Bundle[], now: number): WarningJson[] {
  const reported = new Set(state.reported);
  const candidates = state.visits.filter((v) => !reported.has(v.id));
  const visits = candidates.map(visitOf);
  const byVisit = new Map<Visit, (typeof candidates)[number]>(visits.map((v, i) => [v, candidates[i]!]));
  const old = new Map(state.warnings.map((w) => [w.visitId, w]));
  const warnings: WarningJson[] = [];
  const fresh: WarningJson[] = [];
  for (const exposure of match(visits, bundles, config.policy)) {
    const stored = byVisit.get(exposure.visit)!;
    const previous = old.get(stored.id);
    const warning: WarningJson = {
      id: previous?.id ?? nextWarningId(state),
      visitId: stored.id,
      venue: stored.name,
      enteredAt: stored.enteredAt,
      leftAt: stored.leftAt,
      hour: exposure.firstSlot.hour,
      startMinute: exposure.firstSlot.startMinute,
      endMinute: exposure.firstSlot.endMinute,
      tag: toHex(exposure.firstSlot.tag),
      overlapMinutes: exposure.overlapMinutes,
      level: exposure.level,
      message: exposure.message,
      foundAt: previous?.foundAt ?? now,
      contactedAt: previous?.contactedAt ?? null,
    };
    warnings.push(warning);
    if (previous === undefined) fresh.push(warning);
  }
  state.warnings = warnings;
  return fresh;
}

export interface ReportItem {
  readonly visit: Visit;
  readonly visitId: number | null;
  readonly entries: readonly Uint8Array[];
  readonly levels: readonly number[];
}

/** The visits of the retention period (a stay in progress until now), sealed for a report. */
export function prepareReport(state: DiaryState, now: number): ReportItem[] {
  const cutoff = now - state.retentionDays * 86400;
  const visits: [Visit, number | null][] = state.visits.filter((v) => v.leftAt > cutoff).map((v) => [visitOf(v), v.id]);
  const current = checkInOf(state);
  if (current !== null && now > current.enteredAt) visits.push([protocolCheckOut(current, now), null]);
  return visits.map(([visit, visitId]) => {
    const entries = reportEntries(visit, random);
    const keys = new Map(visit.slots.map((s) => [toHex(s.tag), s.key]));
    const levels = entries.map((e) => openEntry(e, keys.get(toHex(e.subarray(0, 16)))!).level);
    return { visit, visitId, entries, levels };
  });
}

/** Sends the report (as a sync whose upload is real); marks the visits reported. */
export async function report(state: DiaryState, store: Store, now: number, tan: string, items: readonly ReportItem[]): Promise<SyncResult> {
  let normal: string;
  try {
    normal = normalizeTan(tan);
  } catch {
    throw new DiaryError("bad-tan");
  }
  if (items.length === 0) throw new DiaryError("nothing-to-report");
  const entries = items.flatMap((i) => i.entries);
  if (entriesProblem(entries) !== null) throw new DiaryError("too-many-entries");
  const result = await sync(state, store, now, { report: { tan: normal, entries, dummy: false } });
  for (const item of items) {
    if (item.visitId !== null) state.reported.push(item.visitId);
    else if (state.checkIn !== null) state.checkIn = { ...state.checkIn, reported: true };
  }
  state.warnings = state.warnings.filter((w) => !state.reported.includes(w.visitId));
  return result;
}

/** Seals contact details for one warning to the authority and sends them. */
export async function contact(state: DiaryState, warningId: number, details: string, now: number): Promise<void> {
  const warning = state.warnings.find((w) => w.id === warningId);
  const authority = pinnedAuthority(state);
  if (warning === undefined || authority === null) throw new DiaryError("no-warning");
  const text = details.trim();
  if (text === "") throw new DiaryError("no-details");
  let sealed: Uint8Array;
  try {
    sealed = sealConsent(
      {
        tag: fromHex(warning.tag),
        hour: warning.hour,
        startMinute: warning.startMinute,
        endMinute: warning.endMinute,
        contact: text,
      },
      authority,
      random(32),
    );
  } catch {
    throw new DiaryError("details-too-long");
  }
  await request("v1/consent", { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: new Uint8Array(sealed) });
  state.warnings = state.warnings.map((w) => (w.id === warningId ? { ...w, contactedAt: now } : w));
}
