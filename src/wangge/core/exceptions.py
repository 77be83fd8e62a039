"""Domain errors. Mapped once to HTTP in the API root and to messages in pages."""

from __future__ import annotations

from typing import Any


class WanggeError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: Any = "", *, errors: dict[str, list[str]] | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.errors = errors or {}


class NotFound(WanggeError):
    """Missing or out of the user's area: both answer 404 so existence does not leak."""

    status = 404
    code = "not_found"


class PermissionDenied(WanggeError):
    status = 403
    code = "permission_denied"


class ValidationError(WanggeError):
    status = 422
    code = "validation_error"


class InvalidTransition(WanggeError):
    status = 409
    code = "invalid_transition"


class Conflict(WanggeError):
    """A stale write (optimistic locking) or a uniqueness clash."""

    status = 409
    code = "conflict"


class TooManyRequests(ValidationError):
    """A rate limit was hit (per client address, per phone number …): 429, a form error on pages."""

    status = 429
    code = "rate_limited"
