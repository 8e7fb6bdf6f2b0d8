/**
 * §12 Matching: on the device, each of its own slots is looked up in every held
 * bundle; entries that open with the slot's key, whose level warns and whose
 * evidence holds, add their window (united per slot) to the visit's overlap.
 */
import { VerificationError } from "./errors.js";
import { toHex } from "./wire.js";
import type { Slot, Visit } from "./check-in.js";
import { evidenceHolds, openEntry, SELF_REPORTED, type EvidenceLevel, type ProofCache } from "./entries.js";
import { lookup, type Bundle } from "./bundles.js";

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

/** `match(visits, bundles, policy)`, with bundles already verified (§8). */
export function match(visits: readonly Visit[], bundles: readonly Bundle[], policy: Policy = DEFAULT_POLICY): Exposure[] {
  const revoked = revokedBy(bundles);
  const exposures: Exposure[] = [];
  for (const visit of visits) {
    let overlap = 0;
    let firstSlot: Slot | null = null;
    let level: EvidenceLevel = SELF_REPORTED;
    let message = "";
    const proofCache: ProofCache = new Map();
    for (const slot of visit.slots) {
      const minutes = new Uint8Array(60);
      const revokedAt = revoked.get(toHex(slot.tag));
      for (const bundle of bundles) {
        if (revokedAt !== undefined && revokedAt > bundle.header.sequence) continue;
        for (const entry of lookup(bundle, slot.tag)) {
          let content;
          try {
            content = openEntry(entry, slot.key);
          } catch (e) {
            if (e instanceof VerificationError) continue;
            throw e;
          }
          if (!policy.warnLevels.has(content.level)) continue;
          if (!evidenceHolds(content, slot, visit, proofCache)) continue;
          const lo = Math.max(content.startMinute, slot.startMinute);
          const hi = Math.min(content.endMinute, slot.endMinute);
          if (lo >= hi) continue;
          minutes.fill(1, lo, hi);
          if (firstSlot === null || content.level < level) {
            level = content.level;
            message = bundle.header.messages[content.messageId] ?? "";
          }
          if (firstSlot === null) firstSlot = slot;
        }
      }
      overlap += minutes.reduce((n, m) => n + m, 0);
    }
    if (firstSlot !== null && overlap >= policy.minOverlapMinutes) {
      exposures.push({ visit, firstSlot, overlapMinutes: overlap, level, message });
    }
  }
  return exposures;
}
