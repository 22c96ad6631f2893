"""Errors of the LTI layer. Each one carries the HTTP status and a message a person can act on."""
from __future__ import annotations


class LtiError(Exception):
    """A request or a platform reply the tool refuses; ``status`` is always 4xx (or 502 for a platform fault)."""

    status = 400
    code = "lti_error"
    retry_after: int | None = None  # seconds, with status 429 (a rate limit)

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class LoginError(LtiError):
    code = "invalid_login"


class LaunchError(LtiError):
    code = "invalid_launch"


class UnknownPlatform(LtiError):
    code = "unknown_platform"
    status = 403


class ServiceError(LtiError):
    """An AGS/NRPS/token call failed (the platform said no, or replied nonsense)."""
    code = "service_error"
    status = 502


class ScopeNotGranted(ServiceError):
    """The platform did not grant the scope an operation needs."""
    code = "scope_not_granted"
    status = 403
