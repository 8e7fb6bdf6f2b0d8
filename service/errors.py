"""The service's errors, derived from the project's base ``crypto.Error``."""

from __future__ import annotations

from placecode.crypto import Error


class ServiceError(Error):
    """A failure of the service that a person running it can act on."""


class ApiError(ServiceError):
    """A request the service refuses: becomes the one JSON error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
