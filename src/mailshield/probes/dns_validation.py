"""Does the configured resolver validate DNSSEC?

Only a validating resolver's missing AD bit means "insecure"; from any other resolver it means
nothing. The root zone is signed, so a validating resolver sets AD on the root's DNSKEY answer
(RFC 4035 §3.2.3). Asked once, synchronously, when the checker is assembled.
"""

from __future__ import annotations

from collections.abc import Sequence

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

from mailshield.probes.dns import Nameserver


def resolver_validates(nameservers: Sequence[str], *, timeout: float = 2.0) -> bool:
    """Whether the first answering resolver sets AD on the signed root DNSKEY RRset."""
    query = dns.message.make_query(".", "DNSKEY", use_edns=0, want_dnssec=True, payload=1232)
    query.flags |= dns.flags.AD
    for text in nameservers:
        server = Nameserver.parse(text)
        try:
            response = dns.query.udp(query, server.address, timeout=timeout, port=server.port)
        except (dns.exception.DNSException, OSError):
            continue
        if response.rcode() == dns.rcode.NOERROR:
            return bool(response.flags & dns.flags.AD)
    return False
