"""Judging the policy fetch the way a sending MTA does (RFC 8461 §3.3, §7.1).

A sender accepts a policy only over HTTPS with a certificate valid for
``mta-sts.<domain>``, with status 200 (redirects are never followed), as ``text/plain``
within 64 KiB. Outcomes that say more about the checker's own network than about the domain
are ``error`` (could not test), never ``fail``: each mapping below says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mailshield.core.catalogue import mta_sts as codes
from mailshield.core.certs import CertVerdict
from mailshield.core.documents.mta_sts_policy import MAX_BODY
from mailshield.core.findings import finding
from mailshield.core.model import Finding, JSONValue, Status
from mailshield.core.observations import ConnectOutcome, HttpsFetch

SLOW_SECONDS = 10.0  # reference STS-17: warn above 10 s (senders give up around 60 s)
CERT_WARN_DAYS = 14  # reference STS-13
_TEXT_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii"})

# How a fetch that got no HTTP answer is judged, and why:
_UNANSWERED: dict[ConnectOutcome, tuple[Status, str]] = {
    # The name resolves to a private/loopback address: senders on the Internet cannot reach it.
    ConnectOutcome.BLOCKED: (Status.FAIL, "the host resolves to a non-public address"),
    # Authoritative "no address": every sender sees the same.
    ConnectOutcome.NO_ADDRESS: (Status.FAIL, "the host has no address record (A/AAAA)"),
    # Our own resolver failed: nothing is known about the domain yet.
    ConnectOutcome.DNS_FAILED: (Status.ERROR, "the address lookup did not complete"),
    # A refusal (RST) comes from the host or its firewall, not from our network.
    ConnectOutcome.REFUSED: (Status.FAIL, "the connection to port 443 was refused"),
    # A silent timeout may be our egress as well as theirs: could not test.
    ConnectOutcome.TIMEOUT: (Status.ERROR, "the connection timed out"),
    ConnectOutcome.PROTOCOL_ERROR: (Status.FAIL, "the server did not send a valid HTTP answer"),
}


@dataclass(frozen=True, slots=True)
class FetchJudgement:
    """The findings of one fetch and the body a sender would parse (``None``: no policy)."""

    findings: tuple[Finding, ...]
    body: bytes | None
    looks_like_html: bool = False


def judge_fetch(fetch: HttpsFetch, cert: CertVerdict | None) -> FetchJudgement:
    """Every problem a sender would have with this fetch, and the body it would accept."""
    if fetch.outcome is ConnectOutcome.TLS_FAILED:
        problem = f"TLS handshake failed{_detail(fetch.error)}"
        return FetchJudgement((_tls_invalid(fetch, problem),), None)
    if fetch.outcome is ConnectOutcome.PROTOCOL_ERROR and fetch.truncated:
        return FetchJudgement((_too_large(fetch),), None)
    if fetch.outcome is ConnectOutcome.TIMEOUT and fetch.tls is not None:
        # The handshake completed, then no answer: the policy host itself is slow.
        slow = finding(codes.POLICY_SLOW, fetch.url, elapsed=fetch.elapsed)
        return FetchJudgement((*_cert_findings(fetch, cert), slow), None)
    if fetch.outcome is not ConnectOutcome.OK:
        status, reason = _UNANSWERED[fetch.outcome]
        failed = finding(
            codes.POLICY_FETCH_FAILED,
            fetch.url,
            status=status,
            reason=reason + _detail(fetch.error),
            outcome=fetch.outcome.value,
        )
        return FetchJudgement((failed,), None)
    return _judge_answer(fetch, cert)


def _judge_answer(fetch: HttpsFetch, cert: CertVerdict | None) -> FetchJudgement:
    found = [*_cert_findings(fetch, cert), *_status_findings(fetch)]
    if fetch.status != 200:
        return FetchJudgement(tuple(found), None)
    found.extend(_content_type_findings(fetch))
    if fetch.elapsed > SLOW_SECONDS:
        found.append(finding(codes.POLICY_SLOW, fetch.url, elapsed=fetch.elapsed))
    if fetch.truncated or len(fetch.body) > MAX_BODY:
        found.append(_too_large(fetch))
        return FetchJudgement(tuple(found), None)
    if looks_like_html(fetch.body):
        found.append(finding(codes.POLICY_HTML, fetch.url))
        return FetchJudgement(tuple(found), fetch.body, looks_like_html=True)
    return FetchJudgement(tuple(found), fetch.body)


def _cert_findings(fetch: HttpsFetch, cert: CertVerdict | None) -> Iterator[Finding]:
    if cert is None:
        return
    if cert.problems:
        problems = ", ".join(p.value.replace("_", " ") for p in cert.problems)
        yield _tls_invalid(fetch, problems, [p.value for p in cert.problems])
    elif cert.days_left is not None and cert.days_left <= CERT_WARN_DAYS:
        yield finding(codes.POLICY_CERT_EXPIRING, fetch.host, days_left=cert.days_left)


def _status_findings(fetch: HttpsFetch) -> Iterator[Finding]:
    status = fetch.status
    if status is None or status == 200:
        return
    if 300 <= status < 400:
        location = fetch.header("location") or "(no Location header)"
        yield finding(codes.POLICY_REDIRECT, fetch.url, http_status=status, location=location)
    else:
        yield finding(codes.POLICY_HTTP_STATUS, fetch.url, http_status=status)


def _content_type_findings(fetch: HttpsFetch) -> Iterator[Finding]:
    raw = fetch.header("content-type") or ""
    media_type, params = parse_content_type(raw)
    if media_type != "text/plain":
        yield finding(codes.POLICY_CONTENT_TYPE, fetch.url, content_type=raw or "(none)")
    charset = params.get("charset")
    if charset is not None and charset.lower() not in _TEXT_CHARSETS:
        yield finding(codes.POLICY_CHARSET, fetch.url, charset=charset)


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """The lower-cased media type and the parameters of a Content-Type value (RFC 9110 §8.3)."""
    media_type, *rest = value.split(";")
    params: dict[str, str] = {}
    for part in rest:
        name, eq, val = part.partition("=")
        if eq:
            params.setdefault(name.strip().lower(), val.strip().strip('"'))
    return media_type.strip().lower(), params


def looks_like_html(body: bytes) -> bool:
    """Whether a body is a web page (default site, error or challenge page), not a policy."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<!--"))


def _tls_invalid(
    fetch: HttpsFetch, problems: str, problem_codes: list[str] | None = None
) -> Finding:
    return finding(
        codes.POLICY_TLS_INVALID,
        fetch.host,
        host=fetch.host,
        problems=problems,
        certificate_problems=problem_codes or [],
    )


def _too_large(fetch: HttpsFetch) -> Finding:
    return finding(codes.POLICY_TOO_LARGE, fetch.url, limit=MAX_BODY)


def _detail(error: str) -> str:
    return f" ({error})" if error else ""


def fetch_evidence(fetch: HttpsFetch, cert: CertVerdict | None) -> dict[str, JSONValue]:
    """What was fetched, for the report (the body as text, invalid bytes replaced)."""
    return {
        "url": fetch.url,
        "outcome": fetch.outcome.value,
        "address": fetch.address,
        "status": fetch.status,
        "content_type": fetch.header("content-type"),
        "location": fetch.header("location"),
        "elapsed": round(fetch.elapsed, 3),
        "truncated": fetch.truncated,
        "error": fetch.error,
        "tls": ({"version": fetch.tls.version, "cipher": fetch.tls.cipher} if fetch.tls else None),
        "certificate": (
            {"problems": [p.value for p in cert.problems], "days_left": cert.days_left}
            if cert
            else None
        ),
        "body": fetch.body[:MAX_BODY].decode("utf-8", errors="replace"),
    }
