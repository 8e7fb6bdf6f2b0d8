"""The service's errors, derived from the project's base ``crypto.Error``."""

from __future__ import annotations

from placecode.crypto import Error


class AdminError(Error):
    """A failure that the person running the service can act on."""


class ApiError(Error):
    """A request the service refuses: becomes the one JSON error shape."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
