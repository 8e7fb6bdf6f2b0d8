"""The errors of placecode. Every error the project raises derives from :class:`Error`."""


class Error(Exception):
    """Base of every placecode error; its message is meant for a person."""


class DecodeError(Error):
    """Bytes or text that are not a well-formed placecode encoding."""


class CodeError(Error):
    """A venue QR code that cannot be used for a check-in now."""


class VerificationError(Error):
    """A cryptographic check failed.

    It never says which check: a tampered ciphertext, a wrong key, a bad
    signature and a malformed plaintext all raise the same error.
    """

    def __init__(self) -> None:
        super().__init__("verification failed")
