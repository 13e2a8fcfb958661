"""Who is calling: bearer-token authentication and the role check every endpoint declares.

Each route depends on ``Require(...)`` naming the roles that may call it; a test
walks the router and fails if any route lacks one. Admins pass every check.
"""

from __future__ import annotations

from fastapi import Request

from crm.errors import AuthenticationError, ForbiddenError
from crm.lifecycle import Role
from crm.models import User
from crm.repository import CrmRepository

ALL_ROLES = tuple(Role)
CALL_ROLES = (Role.AGENT, Role.SUPERVISOR)  # the people on the phones
PEOPLE_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.DISPATCHER)  # may read residents
REPORT_ROLES = (Role.SUPERVISOR,)


def repository(request: Request) -> CrmRepository:
    repo: CrmRepository = request.app.state.crm
    return repo


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("missing 'Authorization: Bearer <token>' header; log in first")
    return token.strip()


class Require:
    """A dependency: the caller is logged in and has one of ``roles`` (or is an admin)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles) | {Role.ADMIN}

    async def __call__(self, request: Request) -> User:
        user = await repository(request).users.authenticate(bearer_token(request))
        if user.role not in self.roles:
            allowed = ", ".join(sorted(r.value for r in self.roles))
            raise ForbiddenError(
                f"role {user.role.value!r} may not {request.method} {request.url.path}"
                f" (allowed: {allowed})"
            )
        return user


def department_scope(user: User) -> str | None:
    """The department a user is confined to (department users), or None for everyone else."""
    return user.department if user.role is Role.DEPARTMENT else None
