"""Who is calling: a :class:`Principal` with a role and a region scope.

The dashboard (a WSGI app mounted under the service) finds the authenticated principal in the WSGI environ::

    principal = flask.request.environ.get("dtscope.principal")   # a service.Principal, never None there
    principal.role                 # "leader" | "evaluator" | "owner" | "data_scientist" | "admin"
    principal.regions              # ("pudong",) or ("*",)
    principal.can_read_region("hongkou")
    principal.can_ingest_region("pudong")   # owners and admins of that region: show the upload control
    principal.can_promote          # data scientists: show promotion
    principal.csrf_token           # send as the X-CSRFToken header on state-changing requests

Every request that reaches the dashboard has passed the session check, so the key is always present there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["leader", "evaluator", "owner", "data_scientist", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
ALL_REGIONS = "*"
PRINCIPAL_ENVIRON_KEY = "dtscope.principal"

# Who may write what (DESIGN.md, "The service"). Reads are filtered by region for every role.
INGEST_ROLES: frozenset[Role] = frozenset({"owner", "admin"})
PROMOTE_ROLES: frozenset[Role] = frozenset({"data_scientist"})
ACCOUNT_ROLES: frozenset[Role] = frozenset({"admin"})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    Attributes:
        user_id: the account's id in the store.
        name: the account name.
        role: one of :data:`ROLES`.
        regions: region ids the account may see and act on, or ``("*",)`` for all.
        department: for owners, the department (the scenarios' ``owner`` value) whose scenarios they see.
        via: ``"token"`` or ``"session"``.
        csrf_token: the session's CSRF token (``None`` for token callers, who need none).
    """

    user_id: int
    name: str
    role: Role
    regions: tuple[str, ...]
    department: str | None = None
    via: Literal["token", "session"] = "token"
    csrf_token: str | None = None

    @property
    def all_regions(self) -> bool:
        return ALL_REGIONS in self.regions

    def can_read_region(self, region: str) -> bool:
        """True when ``region`` is in scope.

        >>> Principal(1, "a", "leader", ("pudong",)).can_read_region("hongkou")
        False
        """
        return self.all_regions or region in self.regions

    def can_ingest_region(self, region: str) -> bool:
        """Owners and admins may ingest data for the regions in their scope."""
        return self.role in INGEST_ROLES and self.can_read_region(region)

    @property
    def can_promote(self) -> bool:
        return self.role in PROMOTE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role in ACCOUNT_ROLES
