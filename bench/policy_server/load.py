"""The load generator: policy fetches, each on a new TLS connection, from several processes.

Every request is a full TLS handshake (no session resumption: each connection is new and the
client never offers a saved session), SNI ``mta-sts.<name>`` (the chain is verified against the
lab root only with ``verify``: path validation costs the client more than the server's whole
handshake, and the client shares the machine's two cores with the server), then
``GET /.well-known/mta-sts.txt`` with ``Connection: close``; a fetch counts only if the status is
200 and the body is the expected policy. The same client measures both servers.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import ssl
import time
from dataclasses import dataclass

PATH = "/.well-known/mta-sts.txt"


@dataclass(frozen=True)
class LoadResult:
    ok: int
    failed: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def _fetch(address: str, port: int, name: str, context: ssl.SSLContext, body: bytes) -> bool:
    reader, writer = await asyncio.open_connection(address, port, ssl=context, server_hostname=name)
    try:
        writer.write(f"GET {PATH} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        response = await reader.read()
    finally:
        writer.close()
    head, _, received = response.partition(b"\r\n\r\n")
    return head.startswith(b"HTTP/1.1 200") and received == body


async def _loop(
    address: str,
    port: int,
    name: str,
    cafile: str,
    body: bytes,
    seconds: float,
    concurrency: int,
    verify: bool,
) -> tuple[int, int]:
    context = ssl.create_default_context(cafile=cafile)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + seconds
    counts = [0, 0]

    async def worker() -> None:
        while time.monotonic() < deadline:
            try:
                good = await _fetch(address, port, name, context, body)
            except (OSError, ssl.SSLError):
                good = False
            counts[0 if good else 1] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts[0], counts[1]


def _process(args: tuple[str, int, str, str, bytes, float, int, bool]) -> tuple[int, int]:
    return asyncio.run(_loop(*args))


def run_load(
    address: str,
    port: int,
    name: str,
    cafile: str,
    body: bytes,
    *,
    seconds: float,
    processes: int,
    concurrency: int,
    verify: bool = False,
) -> LoadResult:
    """Fetch for ``seconds`` from ``processes`` processes × ``concurrency`` connections each."""
    job = (address, port, name, cafile, body, seconds, concurrency, verify)
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        results = pool.map(_process, [job] * processes)
    # Each process fetches for exactly ``seconds`` once started, all at about the same time.
    return LoadResult(sum(r[0] for r in results), sum(r[1] for r in results), seconds)
