/**
 * §12 Matching: on the device, each of its own slots is looked up in every held
 * bundle; entries that open with the slot's key, whose level warns and whose
 * evidence holds, add their window (united per slot) to the visit's overlap.
 */
import { VerificationError } from "./errors.js";
import { toHex } from "./wire.js";
import type { Slot, Visit } from "./check-in.js";
import { evidenceContext, evidenceHolds, openEntry, SELF_REPORTED, VENUE_CONFIRMED, type EvidenceLevel } from "./entries.js";
import { lookupAuthority, lookupPublic, type Bundle } from "./bundles.js";

export const DEFAULT_MIN_OVERLAP_MINUTES = 10;
export const RETENTION_DAYS = 14;

/** `Policy(warn_levels, min_overlap_minutes)`, from the signed configuration (§14). */
export interface Policy {
  readonly warnLevels: ReadonlySet<number>;
  readonly minOverlapMinutes: number;
}

export const DEFAULT_POLICY: Policy = {
  warnLevels: new Set([1, 2, 3]),
  minOverlapMinutes: DEFAULT_MIN_OVERLAP_MINUTES,
};

/** `Exposure(visit, first_slot, overlap_minutes, level, message)`. */
export interface Exposure {
  readonly visit: Visit;
  readonly firstSlot: Slot;
  readonly overlapMinutes: number;
  readonly level: EvidenceLevel;
  readonly message: string;
}

/** `revoked_by[tag]`: the highest sequence of a held bundle that revokes the tag (hex keys). */
export function revokedBy(bundles: readonly Bundle[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const b of bundles) {
    for (const tag of b.header.revoked) {
      const key = toHex(tag);
      const seen = out.get(key);
      if (seen === undefined || b.header.sequence > seen) out.set(key, b.header.sequence);
    }
  }
  return out;
}

/** A window recorded for a slot: `(lo, hi, level, message)`. */
interface Recorded {
  readonly lo: number;
  readonly hi: number;
  readonly level: EvidenceLevel;
  readonly message: string;
}

/** The length of the union of windows within one hour. */
function unionLength(windows: readonly Recorded[]): number {
  const minutes = new Uint8Array(60);
  for (const w of windows) minutes.fill(1, w.lo, w.hi);
  let n = 0;
  for (const m of minutes) n += m;
  return n;
}

/**
 * `match(visits, bundles, policy)`, with bundles already verified (§8): entries
 * count only in their own slot's window, before their bundle was signed, and a
 * venue-confirmed entry only from the authority section; the level shown is the
 * strongest whose minutes alone reach the threshold.
 */
export function match(visits: readonly Visit[], bundles: readonly Bundle[], policy: Policy = DEFAULT_POLICY): Exposure[] {
  const revoked = revokedBy(bundles);
  const exposures: Exposure[] = [];
  for (const visit of visits) {
    const ctx = evidenceContext(visit);
    let firstSlot: Slot | null = null;
    const perSlot: Recorded[][] = [];
    for (const slot of visit.slots) {
      const recorded: Recorded[] = [];
      const revokedAt = revoked.get(toHex(slot.tag));
      for (const bundle of bundles) {
        if (revokedAt !== undefined && revokedAt > bundle.header.sequence) continue;
        const signed = Math.floor(bundle.header.createdAt / 60) - 60 * slot.hour;
        const sections: [Uint8Array[], boolean][] = [
          [lookupAuthority(bundle, slot.tag), true],
          [lookupPublic(bundle, slot.tag), false],
        ];
        for (const [entries, fromAuthority] of sections) {
          for (const entry of entries) {
            let content;
            try {
              content = openEntry(entry, slot.key);
            } catch (e) {
              if (e instanceof VerificationError) continue;
              throw e;
            }
            if (content.level === VENUE_CONFIRMED && !fromAuthority) continue;
            if (!policy.warnLevels.has(content.level)) continue;
            if (!evidenceHolds(content, slot, visit, ctx)) continue;
            const lo = Math.max(content.startMinute, slot.startMinute);
            const hi = Math.min(content.endMinute, slot.endMinute, signed);
            if (lo >= hi) continue;
            recorded.push({ lo, hi, level: content.level, message: bundle.header.messages[content.messageId] ?? "" });
            if (firstSlot === null) firstSlot = slot;
          }
        }
      }
      perSlot.push(recorded);
    }
    if (firstSlot === null) continue;
    const overlap = (level: number) => perSlot.reduce((n, windows) => n + unionLength(windows.filter((w) => w.level <= level)), 0);
    const total = overlap(SELF_REPORTED);
    if (total < policy.minOverlapMinutes) continue;
    const levels = [...new Set(perSlot.flat().map((w) => w.level))].sort((a, b) => a - b);
    const level = levels.find((l) => overlap(l) >= policy.minOverlapMinutes) as EvidenceLevel;
    const message = perSlot.flat().find((w) => w.level === level)?.message ?? "";
    exposures.push({ visit, firstSlot, overlapMinutes: total, level, message });
  }
  return exposures;
}
