"""The one error type family of Workdesk. The API renders them as
``{"error": {"code", "message", "fields"}}``; pages and the CLI show the message."""
from __future__ import annotations

from typing import Any


class WorkdeskError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields, **self.extra}}


class BadRequest(WorkdeskError):
    status, code = 400, "bad_request"


class Unauthorized(WorkdeskError):
    status, code = 401, "unauthorized"


class Forbidden(WorkdeskError):
    status, code = 403, "forbidden"


class NotFound(WorkdeskError):
    status, code = 404, "not_found"


class Conflict(WorkdeskError):
    status, code = 409, "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TransitionBlocked(Conflict):
    code = "transition_blocked"


class ChangeBlocked(Conflict):
    """A plugin's ``veto_task_change`` (or its failure, when it fails closed) refused the change."""
    code = "change_blocked"


class ValidationFailed(WorkdeskError):
    status, code = 422, "validation_error"


class PayloadTooLarge(WorkdeskError):
    """A file (or request) beyond a size limit."""
    status, code = 413, "payload_too_large"


class QuotaExceeded(PayloadTooLarge):
    """The instance's attachment quota would be exceeded."""
    code = "quota_exceeded"


class TooManyRequests(WorkdeskError):
    """Answered with a ``Retry-After`` header when ``retry_after`` (seconds) is given."""
    status, code = 429, "rate_limited"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None, *, retry_after: int | None = None,
                 **extra: Any):
        super().__init__(message, fields, **extra)
        self.retry_after = retry_after
