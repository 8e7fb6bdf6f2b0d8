/** §1 Versioning. */

/** The protocol version carried by every encoding. */
export const PROTOCOL_VERSION = 1;
/** A QR payload whose version byte lies above this is someone else's base32 fragment. */
export const MAX_KNOWN_FUTURE_VERSION = 15;
