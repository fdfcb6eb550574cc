"""What the policy server and the certificate manager ask of hosting, answered from storage.

:class:`HostedPolicies` implements the ports in :mod:`mailshield.services.ports`:

- ``policy_for(host)``: the body to serve for ``mta-sts.<domain>`` (RFC 8461 §3.3), or ``None``.
  Served: active and removing domains (removal serves ``mode: none``, §8.3), and a domain that
  was active before and is now misconfigured (senders holding its cached policy must still be
  able to refresh it). Never a domain that has not shown control (reference §2.7 item 22).
- ``refusal(name)``: ``None`` only when ``<domain>`` is onboarded and the verifier last saw
  ``mta-sts.<domain>`` point here (CNAME to the policy host, or only our addresses): the Caddy
  "ask" rule. No DNS is done here; the verifier keeps the fact in storage.
- ``policy_hosts()``: every ``mta-sts.<domain>`` hosted or being onboarded.
"""

from __future__ import annotations

from mailshield.core.hosting.state import serves_policy
from mailshield.core.names import InvalidName, to_alabel
from mailshield.storage.hosting import HostingStore

POLICY_HOST_PREFIX = "mta-sts."  # RFC 8461 §3.3: the policy host is mta-sts.<policy domain>


class HostedPolicies:
    """The hosting side of the policy server's ports (PolicySource, IssuanceGate, HostedNames)."""

    def __init__(self, store: HostingStore) -> None:
        self._store = store

    async def policy_for(self, host: str) -> bytes | None:
        """The policy body for ``host`` (as sent in SNI or Host, any case, port allowed)."""
        domain = hosted_domain_of(host)
        if domain is None:
            return None
        served = await self._store.served(domain)
        if served is None or not serves_policy(served.state, ever_active=served.ever_active):
            return None
        return served.body.encode("utf-8")

    async def refusal(self, name: str) -> str | None:
        """Why no certificate may be ordered for ``name``; ``None`` when it may."""
        domain = hosted_domain_of(name)
        if domain is None:
            return f"{name!r} is not a policy host name (mta-sts.<domain>)"
        gate = await self._store.gate(domain)
        if gate is None:
            return f"{domain} is not onboarded"
        _state, points_here = gate
        if not points_here:
            return f"mta-sts.{domain} does not point at this service (as last verified)"
        return None

    async def policy_hosts(self) -> list[str]:
        """``mta-sts.<domain>`` for every hosted domain, whatever its state."""
        return [POLICY_HOST_PREFIX + name for name in await self._store.names()]


def hosted_domain_of(host: str) -> str | None:
    """The policy domain named by a policy host ``host``, normalised; ``None`` if it is not one.

    ``host`` may carry a port (``Host: mta-sts.example.com:443``), a trailing dot and any case.
    """
    text = host.strip()
    if text.startswith("[") or text.count(":") > 1:
        return None  # an IP literal is never a policy host
    text = text.rsplit(":", 1)[0] if ":" in text else text
    try:
        name = to_alabel(text)
    except InvalidName:
        return None
    if not name.startswith(POLICY_HOST_PREFIX) or name == POLICY_HOST_PREFIX.rstrip("."):
        return None
    domain = name[len(POLICY_HOST_PREFIX) :]
    return domain or None
