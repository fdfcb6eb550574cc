"""The hosting settings the service uses, taken once from :class:`Settings` and checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mailshield.core.hosting.model import Setup
from mailshield.core.hosting.rollout import BODY_FIRST_DELAY
from mailshield.core.names import InvalidName, to_alabel
from mailshield.services.settings import Settings

OPERATOR_EMAIL = "operator@localhost"
DELEGATED_TXT_TTL = 300  # short, so a new id reaches resolvers soon after it is written


@dataclass(frozen=True, slots=True)
class HostingConfig:
    """Where customers point their names, and the lifecycle options."""

    policy_host: str = ""
    policy_addresses: tuple[str, ...] = ()
    default_max_age: int = 604_800
    mx_follow: bool = True
    delegation_zone: str = ""
    tlsrpt_rua: str = ""
    body_first_delay: timedelta = BODY_FIRST_DELAY
    txt_ttl: int = DELEGATED_TXT_TTL
    operator_email: str = OPERATOR_EMAIL

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> HostingConfig:
        """The hosting part of ``settings`` (names normalised), with ``overrides`` applied."""
        values: dict[str, object] = {
            "policy_host": _name(settings.policy_host),
            "policy_addresses": tuple(settings.policy_addresses),
            "default_max_age": settings.default_max_age,
            "mx_follow": settings.mx_follow,
            "delegation_zone": _name(settings.delegation_zone),
            "tlsrpt_rua": settings.tlsrpt_rua,
        }
        return cls(**{**values, **overrides})  # type: ignore[arg-type]

    def problem(self, setup: Setup) -> str | None:
        """Why domains cannot be hosted in ``setup`` with this configuration, or ``None``."""
        if not self.policy_host and not self.policy_addresses:
            return (
                "set policy_host (the name customers CNAME mta-sts.<domain> to) or "
                "policy_addresses first"
            )
        if setup is Setup.DELEGATED and not self.delegation_zone:
            return "the delegated setup needs delegation_zone (and dns_update_server, tsig_*)"
        return None


def _name(text: str) -> str:
    if not text:
        return ""
    try:
        return to_alabel(text)
    except InvalidName as exc:
        raise ValueError(f"{text!r} is not a valid host name: {exc}") from exc
