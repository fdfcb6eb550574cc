"""In-memory stand-ins for the hosting service's ports (PolicySource, IssuanceGate, HostedNames).

The policy server and the certificate manager are tested against these until (and besides) the
real hosting service: policies and refusals are plain dictionaries a test edits as it goes, and
every question asked is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NOT_ONBOARDED = "not onboarded"


def policy_body(mx: str = "mx.example.net", mode: str = "enforce", max_age: int = 86400) -> bytes:
    """A canonical policy body (RFC 8461 §3.2): CRLF lines, single trailing CRLF."""
    lines = ["version: STSv1", f"mode: {mode}", f"mx: {mx}", f"max_age: {max_age}"]
    return "".join(f"{line}\r\n" for line in lines).encode()


def _key(name: str) -> str:
    return name.strip().lower().rstrip(".")


@dataclass
class FakeHosting:
    """Hosted policy hosts with their policies; names in ``onboarding`` are known but not served.

    ``refusals`` holds a gate refusal per name; a name neither hosted nor onboarding is refused
    as not onboarded.
    """

    policies: dict[str, bytes] = field(default_factory=dict)
    onboarding: set[str] = field(default_factory=set)
    refusals: dict[str, str] = field(default_factory=dict)
    policy_requests: list[str] = field(default_factory=list)
    gate_questions: list[str] = field(default_factory=list)

    def host(self, name: str, body: bytes | None = None) -> None:
        """Serve ``body`` (default: a valid policy) for ``name``."""
        self.policies[_key(name)] = body if body is not None else policy_body()

    async def policy_for(self, host: str) -> bytes | None:
        self.policy_requests.append(host)
        return self.policies.get(_key(host))

    async def refusal(self, name: str) -> str | None:
        key = _key(name)
        self.gate_questions.append(key)
        if key not in self.policies and key not in self.onboarding:
            return NOT_ONBOARDED
        return self.refusals.get(key)

    async def policy_hosts(self) -> list[str]:
        return sorted(set(self.policies) | self.onboarding)
