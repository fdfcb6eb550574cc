"""External report destinations and their authorisation (RFC 7489 §7.1, RFC 9990 §3).

A ``rua``/``ruf`` destination whose host lies outside the Organizational Domain must consent:
``<policy-domain>._report._dmarc.<destination host>`` must hold a TXT record beginning with
``v=DMARC1``; otherwise receivers drop the reports silently. If that record carries its own
``rua``/``ruf``, it replaces the original URI but must stay on the same host, else reports go
to neither. A name longer than DNS allows cannot be authorised (RFC 9990 §3).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailshield.core.catalogue import dmarc as codes
from mailshield.core.evaluate.answers import AnswerMap, Query, query
from mailshield.core.findings import FindingSpec, finding
from mailshield.core.model import Finding, JSONValue
from mailshield.core.observations import DnsAnswer
from mailshield.core.records.dmarc import DmarcRecord, parse_dmarc, select_dmarc
from mailshield.core.records.dmarc_uri import ReportUri

MAX_NAME = 253  # RFC 1035 §2.3.4


@dataclass(frozen=True, slots=True)
class Destination:
    """One report URI of the applying record; ``auth_name`` is set for external hosts."""

    tag: str  # "rua" or "ruf"
    uri: ReportUri
    auth_name: str | None

    def to_evidence(self, answers: AnswerMap) -> dict[str, JSONValue]:
        """The destination as JSON, with whether its authorisation record was found."""
        answer = answers.get(query(self.auth_name, "TXT")) if self.auth_name else None
        return {
            "tag": self.tag,
            "uri": self.uri.text,
            "host": self.uri.host,
            "external": self.auth_name is not None,
            "auth_name": self.auth_name,
            "authorized": _authorised(answer) if answer is not None else None,
        }


def is_external(host: str, org_domain: str) -> bool:
    """Whether ``host`` lies outside ``org_domain`` (neither it nor one of its subdomains)."""
    return host != org_domain and not host.endswith("." + org_domain)


def destinations(record: DmarcRecord, policy_domain: str, org_domain: str) -> list[Destination]:
    """Every report URI with the authorisation name to query when it is external."""
    out = []
    for tag, uris in (("rua", record.rua), ("ruf", record.ruf)):
        for uri in uris:
            name = None
            if is_external(uri.host, org_domain):
                name = f"{policy_domain}._report._dmarc.{uri.host}"
            out.append(Destination(tag, uri, name))
    return out


def authorisation_queries(dests: list[Destination]) -> frozenset[Query]:
    """The TXT lookups the external destinations need (names within DNS limits only)."""
    return frozenset(
        query(d.auth_name, "TXT") for d in dests if d.auth_name and len(d.auth_name) <= MAX_NAME
    )


def authorisation_findings(
    dests: list[Destination], answers: AnswerMap, subject: str
) -> list[Finding]:
    """Findings for destinations that are not (or cannot be shown to be) authorised."""
    out: list[Finding] = []
    for dest in dests:
        if dest.auth_name is None:
            continue
        spec = codes.RUA_UNAUTHORIZED if dest.tag == "rua" else codes.RUF_UNAUTHORIZED
        if len(dest.auth_name) > MAX_NAME:
            out.append(_unauthorised(spec, dest, subject))
            continue
        answer = answers.get(query(dest.auth_name, "TXT"))
        if answer is None:
            continue
        if answer.outcome.is_failure:
            out.append(_lookup_failed(dest, answer, subject))
        elif not _authorised(answer):
            out.append(_unauthorised(spec, dest, subject))
        else:
            out.extend(_override_findings(dest, answer, subject))
    return out


def _authorised(answer: DnsAnswer) -> bool:
    return answer.ok and bool(select_dmarc(answer.txt()).records)


def _unauthorised(spec: FindingSpec, dest: Destination, subject: str) -> Finding:
    name = dest.auth_name or ""
    fix = f'{name} TXT "v=DMARC1;"' if len(name) <= MAX_NAME else None
    return finding(spec, subject, uri=dest.uri.text, host=dest.uri.host, auth_name=name, fix=fix)


def _lookup_failed(dest: Destination, answer: DnsAnswer, subject: str) -> Finding:
    spec = codes.AUTH_LOOKUP_FAILED
    return finding(spec, subject, auth_name=dest.auth_name, outcome=answer.outcome.value)


def _override_findings(dest: Destination, answer: DnsAnswer, subject: str) -> list[Finding]:
    """An authorising record's own rua/ruf must stay on the destination's host."""
    out: list[Finding] = []
    for text in select_dmarc(answer.txt()).records:
        record = parse_dmarc(text).record
        overrides = (record.rua if dest.tag == "rua" else record.ruf) if record else ()
        for other in overrides:
            if other.host != dest.uri.host:
                out.append(
                    finding(
                        codes.AUTH_OVERRIDE_MISMATCH,
                        subject,
                        auth_name=dest.auth_name,
                        uri=dest.uri.text,
                        override=other.text,
                    )
                )
    return out
