"""DNS helpers for daemon tests: a trivial authoritative UDP responder for one zone, and `ask`.

It stands in for the lab's in-process DNS server (unsigned zones behind Unbound, the name Pebble
resolves) so these tests depend only on the daemon modules.
"""

from __future__ import annotations

import socketserver
import threading
from types import TracebackType
from typing import Self

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone

from mailshield.lab.endpoint import Endpoint


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        data, sock = self.request
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return
        sock.sendto(self.server.answer(query).to_wire(), self.client_address)


class _Server(socketserver.ThreadingUDPServer):
    daemon_threads = True

    def __init__(self, listen: Endpoint, zone: dns.zone.Zone) -> None:
        super().__init__(listen, _Handler)
        self.zone = zone
        assert zone.origin is not None
        self.origin: dns.name.Name = zone.origin
        self.queries: list[tuple[str, str]] = []

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        self.queries.append((question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
        if not question.name.is_subdomain(self.origin):
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        node = self.zone.get_node(question.name)
        rrset = self.zone.get_rrset(question.name, question.rdtype)
        if rrset is not None:
            response.answer.append(rrset)
            return response
        if node is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        soa = self.zone.get_rrset(self.origin, dns.rdatatype.SOA)
        assert soa is not None
        response.authority.append(soa)
        return response


class StubDns:
    """Serve one zone (given as zone text) on ``listen`` over UDP, in a background thread."""

    def __init__(self, listen: Endpoint, origin: str, text: str) -> None:
        zone = dns.zone.from_text(text, origin=dns.name.from_text(origin), relativize=False)
        self._server = _Server(listen, zone)
        host, port = self._server.server_address[:2]
        self.listen = Endpoint(str(host), int(port))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def queries(self) -> list[tuple[str, str]]:
        """(name, type) of every query received, in order."""
        return self._server.queries

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def ask(
    server: Endpoint,
    name: str,
    rdtype: str,
    *,
    rdclass: str = "IN",
    dnssec: bool = False,
    tcp: bool = False,
) -> dns.message.Message:
    """One query to ``server`` (recursion desired, DO bit when ``dnssec``), over UDP or TCP."""
    query = dns.message.make_query(name, rdtype, rdclass, want_dnssec=dnssec)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, server.host, port=server.port, timeout=5)
