"""The composition root: concrete probes and stores built from Settings and handed to services."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mailshield.probes.dns import DnsClient, system_nameservers
from mailshield.probes.dns_validation import resolver_validates
from mailshield.probes.https import HttpsClient
from mailshield.probes.net_policy import AddressPolicy
from mailshield.probes.smtp import SmtpClient
from mailshield.probes.trust import load_trust_roots
from mailshield.services.check_settings import CheckSettings
from mailshield.services.checker import Checker, CheckOptions, Probes

if TYPE_CHECKING:
    from mailshield.services.settings import Settings


def build_checker(
    settings: Settings | CheckSettings, *, dkim_selectors: Sequence[str] = ()
) -> Checker:
    """A checker wired to the real network as ``settings`` describe it."""
    if not isinstance(settings, CheckSettings):
        settings = CheckSettings.of(settings)
    nameservers = list(settings.resolvers) or system_nameservers()
    policy = AddressPolicy(allow_private=settings.allow_private)
    roots = load_trust_roots(settings.ca_bundle)
    validating = [settings.dnssec_validation == "yes"]

    async def detect() -> None:
        """Ask the resolvers once, when the first check runs (never at start-up)."""
        if settings.dnssec_validation == "auto":
            timeout = min(settings.dns_timeout, 2.0)
            validating[0] = await asyncio.to_thread(
                resolver_validates, nameservers, timeout=timeout
            )

    def probes() -> Probes:
        dns = DnsClient(nameservers, timeout=settings.dns_timeout, validating=validating[0])
        https = HttpsClient(dns, policy=policy, timeout=settings.check_timeout)
        smtp = SmtpClient(
            policy=policy,
            port=settings.smtp_port,
            timeout=settings.check_timeout,
            per_address=settings.smtp_per_address,
        )
        return Probes(dns, https, smtp if settings.smtp_probe else None)

    options = CheckOptions(
        smtp=settings.smtp_probe,
        dkim_selectors=tuple(dkim_selectors),
        private_ok=settings.allow_private,
    )
    return Checker(probes, roots, options, prepare=detect)
