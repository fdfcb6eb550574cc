"""What the hosting service needs from outside: a domain checker, TLS-RPT readiness, DNS updates.

Concrete implementations are passed in when the app is assembled
(:mod:`mailshield.interfaces.hosting_assembly`); tests pass fakes.
"""

from __future__ import annotations

from typing import Protocol

from mailshield.core.hosting.gate import TlsRptVerdict
from mailshield.core.hosting.model import UpdateResult
from mailshield.core.model import Report


class DomainChecker(Protocol):
    """Checks one domain live (:class:`mailshield.services.checker.Checker` implements it)."""

    async def check(self, domain: str) -> Report: ...


class TlsRptReadiness(Protocol):
    """Whether a domain's TLS-RPT reports allow ``enforce``; ``None`` when there is no verdict.

    Implemented by the reports analysis; until then the enforce gate runs without it.
    """

    async def readiness(self, domain: str) -> TlsRptVerdict | None: ...


class TxtPublisher(Protocol):
    """Writes the delegated ``_mta-sts`` TXT records (RFC 2136 with TSIG in production)."""

    async def replace_txt(self, owner: str, text: str, ttl: int) -> UpdateResult:
        """Make ``text`` the only TXT record at ``owner`` (one atomic update)."""
        ...

    async def delete_txt(self, owner: str) -> UpdateResult:
        """Remove every TXT record at ``owner``."""
        ...
