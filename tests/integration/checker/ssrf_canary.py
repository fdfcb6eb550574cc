"""An SSRF canary: a domain whose MX and ``mta-sts`` host resolve to a loopback listener that
must receive nothing while the checker runs without ``allow_private``.

The canary sockets listen but never accept: the kernel completes any TCP handshake into the
accept queue, so once the check is over an empty queue proves no connection was ever made.
"""

from __future__ import annotations

import socket

from mailshield.lab.scenario import Scenario, scenario_from_dict

CANARY = "127.13.9.25"
DOMAIN = "canary.test"


def canary_world() -> Scenario:
    """One domain whose MX and policy host resolve to the canary; no lab server runs there."""
    records = [
        "@ MX 10 mx",
        f"mx A {CANARY}",
        f"mx AAAA ::ffff:{CANARY}",
        f"mta-sts A {CANARY}",
        '_mta-sts TXT "v=STSv1; id=1"',
        '@ TXT "v=spf1 mx -all"',
        '_dmarc TXT "v=DMARC1; p=reject"',
    ]
    data = {
        "name": "checker-ssrf",
        "lab": {"network": "127.13.9.0/24"},
        "domains": {DOMAIN: {"records": records}, "test": {}},
    }
    return scenario_from_dict(data)


class Canary:
    """Listening sockets that never accept; :meth:`connections` counts what reached them."""

    def __init__(self, ports: tuple[int, ...]) -> None:
        self.sockets: list[socket.socket] = []
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((CANARY, port))
            sock.listen(64)
            sock.setblocking(False)
            self.sockets.append(sock)

    def connections(self) -> int:
        """Connections waiting in the accept queues (each accepted and closed here)."""
        count = 0
        for sock in self.sockets:
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
        return count

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
