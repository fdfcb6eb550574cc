"""The policy server as the benchmark runs it: ``python -m bench.policy_server.server DB_URL``.

It is the product's :class:`~mailshield.interfaces.policy_server.PolicyServer` with certificates
from the SQLite store the driver filled, and policies from a source that holds nothing per domain
(in production policies also come from the database), so the process's memory is what the
server itself keeps per hosted name: the certificate index and the ``/tls/ask`` set.
Prints ``READY <https_port>`` once listening; stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from mailshield.interfaces.policy_server import PolicyServer, PolicyServerConfig
from mailshield.services.issuance_snapshot import AllowedNames
from mailshield.storage import Database
from mailshield.storage.certificates import CertificateStore

POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mx.bench.example\r\nmax_age: 86400\r\n"


class StaticPolicies:
    """The same policy for every ``mta-sts.`` name (nothing stored per domain)."""

    async def policy_for(self, host: str) -> bytes | None:
        return POLICY if host.startswith("mta-sts.") else None


class StoredNames:
    """Hosted names = names with a certificate; the gate lets every one through."""

    def __init__(self, store: CertificateStore) -> None:
        self._store = store

    async def policy_hosts(self) -> list[str]:
        return list(await self._store.versions())

    async def refusal(self, name: str) -> str | None:
        return None


async def serve(url: str, listen: str, port: int) -> None:
    async with Database(url) as db:
        store = CertificateStore(db)
        names = StoredNames(store)
        config = PolicyServerConfig(listen=listen, https_port=port, http_port=None)
        server = PolicyServer(
            config, policies=StaticPolicies(), certificates=store, ask=AllowedNames(names, names)
        )
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            print(f"READY {server.https_port}", flush=True)
            await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.url, args.listen, args.port))
    sys.exit(0)


if __name__ == "__main__":
    main()
