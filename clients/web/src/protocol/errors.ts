/**
 * §2 Errors. Every error derives from {@link PlacecodeError}, whose message is meant
 * for a person. Receivers raise exactly three kinds: {@link DecodeError},
 * {@link CodeError} and the opaque {@link VerificationError}.
 */

/** The base class (`Error` in the spec): also raised for a sender's out-of-range values. */
export class PlacecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bytes or text that are not a well-formed placecode encoding; the message says what is wrong. */
export class DecodeError extends PlacecodeError {}

/** A well-formed venue QR code that cannot be used for a check-in now. */
export class CodeError extends PlacecodeError {}

/** A cryptographic check failed. Opaque: the message never says which check. */
export class VerificationError extends PlacecodeError {
  constructor() {
    super("verification failed");
  }
}

/** Runs `f`, turning any DecodeError (or other failure) behind a MAC or signature into the opaque error. */
export function opaque<T>(f: () => T): T {
  try {
    return f();
  } catch {
    throw new VerificationError();
  }
}
