"""Readiness probes for lab daemons: one short attempt each, ``True`` when the daemon serves.

A probe never raises: any error means "not ready yet". :mod:`mailshield.lab.process` calls a probe
repeatedly until it succeeds, the daemon exits or a deadline passes, so nothing waits a fixed time.
Every probe connects to an IP address; no name is ever resolved through the host.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from mailshield.lab.endpoint import Endpoint

__all__ = ["Probe", "all_of", "dns_answers", "https_answers", "tcp_accepts"]

Probe = Callable[[], bool]

_ATTEMPT_SECONDS = 0.5


def dns_answers(
    server: Endpoint,
    qname: str,
    rdtype: str = "SOA",
    *,
    rdclass: str = "IN",
    signed: bool = False,
) -> Probe:
    """Ready when a UDP query for ``qname``/``rdtype`` gets NOERROR with an answer.

    With ``signed``, the answer must also carry an RRSIG (RFC 4035 §3.1.1), i.e. the zone has
    been signed, not merely loaded.
    """
    query = dns.message.make_query(
        qname,
        dns.rdatatype.from_text(rdtype),
        dns.rdataclass.from_text(rdclass),
        want_dnssec=signed,
    )

    def probe() -> bool:
        try:
            response = dns.query.udp(query, server.host, port=server.port, timeout=_ATTEMPT_SECONDS)
        except (OSError, dns.exception.DNSException):
            return False
        if response.rcode() != dns.rcode.NOERROR or not response.answer:
            return False
        return not signed or any(r.rdtype == dns.rdatatype.RRSIG for r in response.answer)

    return probe


def all_of(*probes: Probe) -> Probe:
    """Ready when every probe is ready (checked in order, stopping at the first that is not)."""
    return lambda: all(probe() for probe in probes)


def tcp_accepts(server: Endpoint) -> Probe:
    """Ready when a TCP connection to ``server`` is accepted."""

    def probe() -> bool:
        try:
            with socket.create_connection(server, timeout=_ATTEMPT_SECONDS):
                return True
        except OSError:
            return False

    return probe


def https_answers(server: Endpoint, path: str, cafile: Path) -> Probe:
    """Ready when ``GET path`` over HTTPS, verified against ``cafile``, answers 200."""
    context = ssl.create_default_context(cafile=str(cafile))

    def probe() -> bool:
        connection = http.client.HTTPSConnection(
            server.host, server.port, timeout=_ATTEMPT_SECONDS, context=context
        )
        try:
            connection.request("GET", path)
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    return probe
