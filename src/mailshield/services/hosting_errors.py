"""Errors of the hosting service; each message is written for the operator.

::

    HostingError
    ├── NotHosted         the account hosts no such domain
    ├── AlreadyHosted     the domain is hosted already (by this account or another)
    ├── Refused           the request is invalid or unsafe now; ``problems`` lists why
    │   └── EnforceBlocked  the enforce gate found blockers; ``verdict`` and ``risk`` say more
    └── NotConfigured     the settings lack what the request needs
"""

from __future__ import annotations

from collections.abc import Sequence

from mailshield.core.hosting.gate import EnforceVerdict


class HostingError(Exception):
    """A hosting request that cannot be carried out."""


class NotHosted(HostingError):
    """The acting account hosts no such domain."""


class AlreadyHosted(HostingError):
    """The domain is hosted already."""


class NotConfigured(HostingError):
    """A setting the request needs is missing."""


class Refused(HostingError):
    """The request is invalid, or unsafe at this time."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class EnforceBlocked(Refused):
    """``enforce`` was refused by the gate; ``--force`` would override it at ``risk``."""

    def __init__(self, domain: str, verdict: EnforceVerdict, risk: str) -> None:
        problems = [b.message for b in verdict.blockers]
        super().__init__(f"{domain} cannot move to enforce yet", problems)
        self.verdict = verdict
        self.risk = risk
