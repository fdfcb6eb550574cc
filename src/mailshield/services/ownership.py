"""Proof of domain ownership: a TXT token, or the MTA-STS CNAME pointing at our policy host.

A user proves control of a domain's DNS in one of two ways:

* ``_mailshield.<domain> TXT "mailshield-verify=<token>"`` with the token shown when the domain
  was added (the pattern of RFC 8555 §8.4 DNS-01 and of most domain-verification schemes);
* ``mta-sts.<domain> CNAME <policy_host>``, the record hosted MTA-STS needs anyway
  (RFC 8461 §3.3 serves the policy from ``mta-sts.<domain>``).

:func:`judge` looks at the two DNS answers and says which proof holds, or what it saw instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mailshield.core.observations import DnsAnswer

TXT_LABEL = "_mailshield"
TXT_PREFIX = "mailshield-verify="
TOKEN_BYTES = 18  # 144 bits, 24 base64url characters: unguessable, short enough to paste


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def txt_name(domain: str) -> str:
    return f"{TXT_LABEL}.{domain}"


def txt_value(token: str) -> str:
    return f"{TXT_PREFIX}{token}"


def cname_name(domain: str) -> str:
    return f"mta-sts.{domain}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """``method`` ("txt" or "cname") when a proof holds; else ``problem`` says what was seen."""

    method: str | None
    problem: str | None


def judge(domain: str, token: str, txt: DnsAnswer, cname: DnsAnswer, policy_host: str) -> Verdict:
    """Which proof the answers show; the TXT token is preferred when both hold."""
    wanted = txt_value(token)
    if any(record.decode(errors="replace").strip() == wanted for record in txt.txt()):
        return Verdict("txt", None)
    target = _cname_target(cname)
    host = policy_host.rstrip(".").lower()
    if host and target == host:
        return Verdict("cname", None)
    return Verdict(None, _problem(domain, txt, target, host))


def _cname_target(answer: DnsAnswer) -> str | None:
    names = answer.texts()
    return names[0].rstrip(".").lower() if answer.ok and names else None


def _problem(domain: str, txt: DnsAnswer, target: str | None, host: str) -> str:
    if txt.outcome.is_failure:
        return (
            f"The DNS lookup of {txt_name(domain)} did not complete ({txt.outcome.value}); "
            "try again in a minute."
        )
    seen = (
        f"it holds {len(txt.txt())} other TXT record{'s' if len(txt.txt()) != 1 else ''}"
        if txt.ok
        else "there is no TXT record yet"
    )
    text = f"No TXT record {TXT_PREFIX}… with this domain's token at {txt_name(domain)}: {seen}."
    if host and target is not None:
        text += f" {cname_name(domain)} is an alias of {target}, not of {host}."
    return text + " DNS changes can take a few minutes to appear."
