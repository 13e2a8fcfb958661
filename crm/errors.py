"""Domain errors of the CRM. The HTTP layer maps them to status codes in one place
(:mod:`crm.api_errors`); every message names what was wrong."""

from __future__ import annotations


class CrmError(Exception):
    """Base of the CRM's domain errors."""


class NotFoundError(CrmError):
    def __init__(self, what: str, key: object) -> None:
        self.what = what
        self.key = key
        super().__init__(f"{what} {key!r} does not exist")


class VersionConflictError(CrmError):
    """Someone else changed the record since the caller read it."""

    def __init__(self, what: str, key: object, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{what} {key!r} was changed by someone else: you had version {expected},"
            f" it is now at version {actual}; reload it and try again"
        )


class InvalidFieldError(CrmError):
    def __init__(self, field: str, why: str) -> None:
        self.field = field
        super().__init__(f"{field}: {why}")


class DuplicateError(CrmError):
    def __init__(self, field: str, why: str) -> None:
        self.field = field
        super().__init__(f"{field}: {why}")


class AuthenticationError(CrmError):
    pass


class ForbiddenError(CrmError):
    pass
