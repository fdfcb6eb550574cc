"""What the account services refuse, as exceptions the interfaces map to pages and problems.

Each carries a ``message`` written for the person at the keyboard (it is shown as is)::

    AccountError
    ├── SignupClosed          sign-up is switched off on this instance
    ├── InvalidInput          an e-mail address, password, name or domain is not acceptable
    ├── Conflict              the thing exists already (address taken, domain added twice)
    ├── BadCredentials        wrong e-mail or password (never says which)
    ├── Throttled             too many attempts; ``retry_after`` seconds
    ├── InvalidResetLink      a password-reset link that is unknown, used or expired
    ├── PlanLimitReached      the plan holds no more domains
    ├── OwnershipRequired     the domain's ownership is not proven yet (hosting, reports)
    ├── Blocked               a safe-change rule refuses it now; ``reasons`` say why
    ├── Unavailable           this instance is not set up for it
    └── NotFound              no such thing *for this user* (another tenant's looks the same)
"""

from __future__ import annotations


class AccountError(Exception):
    """Base class; ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignupClosed(AccountError):
    """Sign-up is switched off (``signup_enabled = false``)."""


class InvalidInput(AccountError):
    """A value the user typed is not acceptable; ``field`` names it."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Conflict(AccountError):
    """The thing exists already."""


class BadCredentials(AccountError):
    """Wrong e-mail address or password."""


class Throttled(AccountError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidResetLink(AccountError):
    """The reset link is unknown, used or expired."""


class PlanLimitReached(AccountError):
    """The user's plan holds no more domains."""

    def __init__(self, message: str, plan: str, limit: int) -> None:
        super().__init__(message)
        self.plan = plan
        self.limit = limit


class OwnershipRequired(AccountError):
    """The action needs proof that the user controls the domain's DNS."""


class Blocked(AccountError):
    """Refused now by a safety rule; ``reasons`` are the blockers, ``risk`` what forcing risks."""

    def __init__(self, message: str, reasons: tuple[str, ...] = (), risk: str = "") -> None:
        super().__init__(message)
        self.reasons = reasons
        self.risk = risk


class Unavailable(AccountError):
    """The instance lacks the settings the action needs."""


class NotFound(AccountError):
    """Nothing by that id belongs to the acting user."""
