"""The DNS records a hosted domain publishes, rendered in zone-file form.

Two setups (RFC 8461 §8.2, reference §2.7 items 12 and 22):

- **cname** (the default): ``mta-sts.<d> CNAME <policy host>`` makes MailShield serve the policy
  (§3.3); ``_mta-sts.<d> TXT "v=STSv1; id=<id>"`` (§3.1) is published by the customer, who
  updates the id after each policy change.
- **delegated**: ``_mta-sts.<d> CNAME <target>`` where ``<target>`` is a per-domain name in the
  operator's delegation zone; MailShield writes the TXT there itself (RFC 2136), so ids rotate
  without the customer. Senders follow the CNAME (§3.1). A per-domain target is needed because
  one shared name would force one id on every domain (reference §2.7 item 12).

Both add the recommended ``_smtp._tls.<d> TXT "v=TLSRPTv1; rua=…"`` (RFC 8460 §3) when a report
address is configured: testing mode is nearly useless without reports.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from mailshield.core.hosting.model import Setup
from mailshield.core.names import MAX_NAME_LENGTH

TXT_STRING_MAX = 255  # RFC 1035 §3.3.14: one <character-string> holds at most 255 octets


@dataclass(frozen=True, slots=True)
class ZoneRecord:
    """One record: absolute owner (no trailing dot), type, value in presentation form."""

    owner: str
    rdtype: str
    value: str
    purpose: str
    required: bool = True
    published_by_mailshield: bool = False

    def zone_line(self) -> str:
        """The record as a zone-file line with an absolute owner name."""
        return f"{self.owner}.\tIN\t{self.rdtype}\t{self.value}"


def sts_txt(policy_id: str) -> str:
    """The discovery record text for ``policy_id`` (RFC 8461 §3.1)."""
    return f"v=STSv1; id={policy_id}"


def tlsrpt_txt(rua: str) -> str:
    """The TLS-RPT record text sending reports to ``rua`` (RFC 8460 §3)."""
    return f"v=TLSRPTv1; rua={rua}"


def quote_txt(text: str) -> str:
    """``text`` as TXT presentation data: quoted strings of at most 255 octets each.

    Receivers join the strings of one record with no separator (RFC 8461 §3.1, RFC 7208 §3.3).
    """
    data = text.encode("utf-8")
    chunks = [data[i : i + TXT_STRING_MAX] for i in range(0, len(data), TXT_STRING_MAX)] or [b""]
    return " ".join('"' + _escape(chunk) + '"' for chunk in chunks)


def _escape(chunk: bytes) -> str:
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):  # '"' and '\' are escaped with a backslash (RFC 1035 §5.1)
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def delegation_target(domain: str, zone: str) -> str:
    """The per-domain name in ``zone`` that carries ``domain``'s TXT (RFC 8461 §8.2).

    ``<domain>.<zone>`` when it fits in a DNS name (readable, and distinct for distinct domains);
    otherwise a label made of a SHA-256 digest of the domain.
    """
    zone = zone.rstrip(".").lower()
    readable = f"{domain}.{zone}"
    if len(readable) <= MAX_NAME_LENGTH:
        return readable
    return "h" + hashlib.sha256(domain.encode("ascii")).hexdigest()[:40] + "." + zone


def policy_host_records(
    domain: str, policy_host: str, policy_addresses: Sequence[str]
) -> tuple[ZoneRecord, ...]:
    """``mta-sts.<domain>`` pointing here: a CNAME to ``policy_host``, else A/AAAA records."""
    owner = f"mta-sts.{domain}"
    purpose = "policy host: senders fetch the policy from https://" + owner  # RFC 8461 §3.3
    if policy_host:
        return (ZoneRecord(owner, "CNAME", policy_host.rstrip(".") + ".", purpose),)
    if not policy_addresses:
        raise ValueError("neither a policy host name nor policy addresses are configured")
    return tuple(
        ZoneRecord(owner, "AAAA" if ipaddress.ip_address(a).version == 6 else "A", a, purpose)
        for a in policy_addresses
    )


def records_to_publish(
    domain: str,
    setup: Setup,
    policy_id: str,
    *,
    policy_host: str,
    policy_addresses: Sequence[str] = (),
    target: str | None = None,
    tlsrpt_rua: str = "",
) -> tuple[ZoneRecord, ...]:
    """Every record for ``domain`` in ``setup``, the required ones first.

    In the delegated setup the TXT at ``target`` is listed too, marked as published by
    MailShield, so the operator sees the whole chain.
    """
    records = list(policy_host_records(domain, policy_host, policy_addresses))
    discovery = f"_mta-sts.{domain}"
    if setup is Setup.CNAME:
        purpose = "policy id: change it after every policy change (RFC 8461 §3.1)"
        records.append(ZoneRecord(discovery, "TXT", quote_txt(sts_txt(policy_id)), purpose))
    else:
        if not target:
            raise ValueError("the delegated setup needs a target name in the delegation zone")
        purpose = "delegates the policy id to MailShield, which rotates it (RFC 8461 §8.2)"
        records.append(ZoneRecord(discovery, "CNAME", target + ".", purpose))
        records.append(
            ZoneRecord(
                target,
                "TXT",
                quote_txt(sts_txt(policy_id)),
                "policy id, kept current by MailShield through RFC 2136 updates",
                published_by_mailshield=True,
            )
        )
    if tlsrpt_rua:
        purpose = "recommended: TLS failure reports (RFC 8460 §3)"
        records.append(
            ZoneRecord(
                f"_smtp._tls.{domain}", "TXT", quote_txt(tlsrpt_txt(tlsrpt_rua)), purpose, False
            )
        )
    return tuple(records)


def render_zone(records: Sequence[ZoneRecord]) -> str:
    """The records as zone-file text, each preceded by a comment saying what it is for."""
    lines: list[str] = []
    for record in records:
        lines.append(f"; {record.purpose}")
        lines.append(record.zone_line())
    return "\n".join(lines) + ("\n" if lines else "")
