"""The names that pass the issuance gate, held in memory for ``/tls/ask``.

Caddy's on-demand TLS asks, during a handshake, whether it may obtain a certificate for a name.
That answer must be quick and must not depend on DNS or a database round trip, so the gate is
evaluated ahead of time: :meth:`AllowedNames.refresh` walks every hosted policy host name, asks
the gate about each, and swaps in the new set; :meth:`AllowedNames.allows` is a set lookup.
A refresh that fails keeps the previous set (a database outage does not empty it).
"""

from __future__ import annotations

from mailshield.services.ports import HostedNames, IssuanceGate


def normalise(name: str) -> str:
    """The comparable form of a host name: lower case, no trailing dot."""
    return name.strip().lower().rstrip(".")


class AllowedNames:
    """A periodically refreshed set of the names that may get a certificate."""

    def __init__(self, names: HostedNames, gate: IssuanceGate) -> None:
        self._names = names
        self._gate = gate
        self._allowed: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return len(self._allowed)

    def allows(self, name: str) -> bool:
        """Whether ``name`` passed the gate at the last refresh (a set lookup, no I/O)."""
        return normalise(name) in self._allowed

    async def refresh(self) -> frozenset[str]:
        """Ask the gate about every hosted name; keep and return those it lets through."""
        allowed = set()
        for name in await self._names.policy_hosts():
            if await self._gate.refusal(name) is None:
                allowed.add(normalise(name))
        self._allowed = frozenset(allowed)
        return self._allowed
