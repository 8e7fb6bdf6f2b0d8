/**
 * The visitor's diary: the stay in progress, past visits, warnings, the pinned
 * authority and the bundles held. Plain data (it is stored as JSON, encrypted);
 * every function takes the time `now` in Unix seconds, as the protocol does.
 */
import {
  CodeError,
  KIND_SCREEN,
  PlacecodeError,
  autoCheckoutAt,
  checkIn as protocolCheckIn,
  checkOut as protocolCheckOut,
  fromHex,
  rescan,
  scanMeaning,
  toHex,
  venueCodeFromUrl,
  codeBoundKey,
  venueCodeToUrl,
  type CheckIn,
  type PresenceProof,
  type VenueCode,
  type Visit,
} from "../protocol/index.js";

export const RETENTION_DAYS_DEFAULT = 14;
/** A warning that the stay has gone on long: most visits are far shorter. */
export const LONG_STAY_SECONDS = 8 * 3600;
export const MAX_PEOPLE = 10;
/** Reminder choices, in minutes after check-in (0: none). */
export const REMINDER_CHOICES = [0, 30, 60, 90, 120, 180, 240] as const;

interface ProofJson {
  readonly epoch: number;
  readonly signature: string;
}

export interface VisitJson {
  readonly id: number;
  readonly name: string;
  readonly category: number;
  readonly kind: number;
  readonly venuePublicKey: string;
  readonly codeId: string;
  readonly enteredAt: number;
  readonly leftAt: number;
  readonly slots: readonly (readonly [number, number, number, string, string])[];
  readonly proofs: readonly ProofJson[];
  readonly people: number;
}

export interface CheckInJson {
  readonly code: string;
  readonly enteredAt: number;
  readonly proofs: readonly ProofJson[];
  readonly people: number;
  /** minutes after check-in at which to remind, 0 for none */
  readonly reminderMinutes: number;
  readonly reminded: boolean;
  readonly longStayWarned: boolean;
  /** reported as a case while in progress: the visit it becomes is marked reported */
  readonly reported: boolean;
}

export interface WarningJson {
  readonly id: number;
  readonly visitId: number;
  readonly venue: string;
  readonly enteredAt: number;
  readonly leftAt: number;
  readonly hour: number;
  readonly startMinute: number;
  readonly endMinute: number;
  readonly tag: string;
  readonly overlapMinutes: number;
  readonly level: number;
  readonly message: string;
  readonly foundAt: number;
  readonly contactedAt: number | null;
}

export interface BundleRecord {
  readonly sequence: number;
  readonly sha256: string;
  readonly lastHour: number;
}

export interface DiaryState {
  version: 1;
  nextId: number;
  checkIn: CheckInJson | null;
  visits: VisitJson[];
  warnings: WarningJson[];
  reported: number[];
  /** base64 Ed25519 and X25519 keys of the authority pinned at the first sync */
  authority: { readonly signKey: string; readonly sealKey: string } | null;
  /** the last verified configuration, as signed */
  config: { readonly payload: string; readonly signature: string } | null;
  retentionDays: number;
  lastSequence: number;
  bundles: BundleRecord[];
  language: "en" | "zh" | null;
  /** the reminder the visitor chose last, offered again at the next check-in */
  reminderMinutes: number;
  lastSyncAt: number | null;
}

export function emptyDiary(): DiaryState {
  return {
    version: 1,
    nextId: 1,
    checkIn: null,
    visits: [],
    warnings: [],
    reported: [],
    authority: null,
    config: null,
    retentionDays: RETENTION_DAYS_DEFAULT,
    lastSequence: -1,
    bundles: [],
    language: null,
    reminderMinutes: 0,
    lastSyncAt: null,
  };
}

/** A diary read back from storage: anything else is refused rather than half-used. */
export function diaryFromJson(doc: unknown): DiaryState {
  if (typeof doc !== "object" || doc === null || (doc as { version?: unknown }).version !== 1) {
    throw new DiaryError("the diary on this device was written by another version of the app");
  }
  return { ...emptyDiary(), ...(doc as Partial<DiaryState>) } as DiaryState;
}

/** Something the diary refuses; the message is for a person (key into the texts). */
export class DiaryError extends PlacecodeError {}

const proofToJson = (p: PresenceProof): ProofJson => ({ epoch: p.epoch, signature: toHex(p.signature) });
const proofFromJson = (p: ProofJson): PresenceProof => ({ epoch: p.epoch, signature: fromHex(p.signature) });

export function checkInOf(state: DiaryState): CheckIn | null {
  const doc = state.checkIn;
  if (doc === null) return null;
  const code = venueCodeFromUrl(doc.code);
  return { code, boundKey: codeBoundKey(code), enteredAt: doc.enteredAt, proofs: doc.proofs.map(proofFromJson) };
}

export function visitOf(doc: VisitJson): Visit {
  return {
    name: doc.name,
    category: doc.category,
    kind: doc.kind === KIND_SCREEN ? KIND_SCREEN : 1,
    venuePublicKey: fromHex(doc.venuePublicKey),
    codeId: fromHex(doc.codeId),
    enteredAt: doc.enteredAt,
    leftAt: doc.leftAt,
    slots: doc.slots.map(([hour, startMinute, endMinute, tag, key]) => ({
      hour,
      startMinute,
      endMinute,
      tag: fromHex(tag),
      key: fromHex(key),
    })),
    proofs: doc.proofs.map(proofFromJson),
  };
}

function visitToJson(id: number, visit: Visit, people: number): VisitJson {
  return {
    id,
    name: visit.name,
    category: visit.category,
    kind: visit.kind,
    venuePublicKey: toHex(visit.venuePublicKey),
    codeId: toHex(visit.codeId),
    enteredAt: visit.enteredAt,
    leftAt: visit.leftAt,
    slots: visit.slots.map((s) => [s.hour, s.startMinute, s.endMinute, toHex(s.tag), toHex(s.key)] as const),
    proofs: visit.proofs.map(proofToJson),
    people,
  };
}

function nextId(state: DiaryState): number {
  return state.nextId++;
}

/** Ends the stay in progress at `leftAt` (clamped to the automatic check-out): a visit. */
function close(state: DiaryState, stay: CheckIn, leftAt: number): VisitJson {
  const current = state.checkIn as CheckInJson;
  const visit = visitToJson(nextId(state), protocolCheckOut(stay, leftAt), current.people);
  state.visits.push(visit);
  if (current.reported) state.reported.push(visit.id);
  state.checkIn = null;
  return visit;
}

/** The automatic check-out, once the venue's stay has passed. */
export function expire(state: DiaryState, now: number): VisitJson | null {
  const stay = checkInOf(state);
  if (stay === null || now < autoCheckoutAt(stay)) return null;
  return close(state, stay, autoCheckoutAt(stay));
}

export interface ScanResult {
  readonly checkedIn: CheckIn | null;
  /** the stay this scan ended: by rescanning, by checking in elsewhere, or automatically */
  readonly checkedOut: VisitJson | null;
}

/**
 * What opening a code does: the code of the stay in progress checks out (a
 * screen's new proof bounds the exit); any other code checks in, ending a stay
 * elsewhere, since nobody is in two places at once.
 */
export function scan(state: DiaryState, code: VenueCode, now: number, people: number): ScanResult {
  const auto = expire(state, now);
  const current = checkInOf(state);
  const meaning = scanMeaning(current, code);
  if (meaning === "check-out") return { checkedIn: null, checkedOut: checkOut(state, now, code) };
  if (meaning === "next-day-check-out") {
    // the screen rotated to its next day's code, which cannot be linked to the one
    // checked in with: leave without an exit proof, but only on a live, signed code
    protocolCheckIn(code, now);
    return { checkedIn: null, checkedOut: checkOut(state, now) };
  }
  for (const visit of state.visits) {
    if (visit.enteredAt <= now && now < visit.leftAt) throw new DiaryError("overlap");
  }
  const stay = protocolCheckIn(code, now);
  let closed = auto;
  if (current !== null) {
    if (now <= current.enteredAt) throw new DiaryError("overlap");
    closed = close(state, current, now);
  }
  state.checkIn = {
    code: venueCodeToUrl(code),
    enteredAt: now,
    proofs: stay.proofs.map(proofToJson),
    people: Math.min(Math.max(1, Math.trunc(people)), MAX_PEOPLE),
    reminderMinutes: state.reminderMinutes,
    reminded: false,
    longStayWarned: false,
    reported: false,
  };
  return { checkedIn: stay, checkedOut: closed };
}

/** Checks out now; given the rescanned code, a screen's fresh proof bounds the exit. */
export function checkOut(state: DiaryState, now: number, code?: VenueCode): VisitJson {
  let stay = checkInOf(state);
  if (stay === null) throw new DiaryError("not-checked-in");
  if (code !== undefined) stay = rescan(stay, code, now);
  if (now <= stay.enteredAt) throw new DiaryError("too-soon");
  const current = state.checkIn as CheckInJson;
  state.checkIn = { ...current, proofs: stay.proofs.map(proofToJson) };
  return close(state, stay, now);
}

export function setPeople(state: DiaryState, people: number): void {
  if (state.checkIn === null) return;
  state.checkIn = { ...state.checkIn, people: Math.min(Math.max(1, Math.trunc(people)), MAX_PEOPLE) };
}

export function setReminder(state: DiaryState, minutes: number): void {
  if (!(REMINDER_CHOICES as readonly number[]).includes(minutes)) throw new DiaryError("reminder");
  state.reminderMinutes = minutes;
  if (state.checkIn !== null) state.checkIn = { ...state.checkIn, reminderMinutes: minutes, reminded: false };
}

export function deleteVisit(state: DiaryState, id: number): void {
  state.visits = state.visits.filter((v) => v.id !== id);
  state.warnings = state.warnings.filter((w) => w.visitId !== id);
  state.reported = state.reported.filter((r) => r !== id);
}

/** Deletes visits and bundles past retention; returns the bundle sequences to delete. */
export function purge(state: DiaryState, now: number): number[] {
  const cutoff = now - state.retentionDays * 86400;
  for (const visit of state.visits.filter((v) => v.leftAt <= cutoff)) deleteVisit(state, visit.id);
  const old = state.bundles.filter((b) => (b.lastHour + 1) * 3600 <= cutoff);
  state.bundles = state.bundles.filter((b) => (b.lastHour + 1) * 3600 > cutoff);
  return old.map((b) => b.sequence);
}

/** What is due for the stay in progress at `now`: a reminder, the long-stay warning. */
export function due(state: DiaryState, now: number): { reminder: boolean; longStay: boolean } {
  const stay = state.checkIn;
  if (stay === null) return { reminder: false, longStay: false };
  const reminder = stay.reminderMinutes > 0 && !stay.reminded && now >= stay.enteredAt + stay.reminderMinutes * 60;
  const longStay = !stay.longStayWarned && now >= stay.enteredAt + LONG_STAY_SECONDS;
  if (reminder) state.checkIn = { ...stay, reminded: true };
  if (longStay) state.checkIn = { ...(state.checkIn as CheckInJson), longStayWarned: true };
  return { reminder, longStay };
}

export function nextWarningId(state: DiaryState): number {
  return nextId(state);
}

export { CodeError };
