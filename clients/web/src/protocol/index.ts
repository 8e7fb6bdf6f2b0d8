/**
 * placecode/1 in TypeScript, written from docs/protocol.md: one module per
 * section of the spec, no global state, time and randomness passed in.
 */
export * from "./errors.js";
export * from "./wire.js";
export * from "./versioning.js";
export * from "./primitives.js";
export * from "./venue-keys.js";
export * from "./qr-payload.js";
export * from "./presence-proofs.js";
export * from "./check-in.js";
export * from "./entries.js";
export * from "./bundles.js";
export * from "./authority-keys.js";
export * from "./consent.js";
export * from "./traces.js";
export * from "./matching.js";
export * from "./uploads.js";
export * from "./configuration.js";
