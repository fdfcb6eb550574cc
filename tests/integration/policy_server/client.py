"""A small HTTPS/HTTP client for policy-server tests: SNI and Host set independently, via h11."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from pathlib import Path

import h11
from cryptography import x509

POLICY_PATH = "/.well-known/mta-sts.txt"


@dataclass(frozen=True)
class Response:
    """What came back: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def client_context(cafile: Path) -> ssl.SSLContext:
    """A verifying TLS client context trusting ``cafile`` only."""
    return ssl.create_default_context(cafile=str(cafile))


async def open_tls(
    port: int, sni: str | None, cafile: Path, address: str = "127.0.0.1"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TLS connection to ``address:port`` sending ``sni`` (verified against that name)."""
    context = client_context(cafile)
    if sni is None:
        context.check_hostname = False
    return await asyncio.open_connection(address, port, ssl=context, server_hostname=sni or None)


def request_bytes(method: str, path: str, host: str | None, extra: list[tuple[str, str]]) -> bytes:
    """One HTTP/1.1 request as bytes (``host=None``: no Host header, so HTTP/1.0)."""
    version = "HTTP/1.1" if host is not None else "HTTP/1.0"
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{name}: {value}" for name, value in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_response(reader: asyncio.StreamReader, method: str = "GET") -> Response:
    """Parse one response from ``reader`` (EOF before the end raises)."""
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method=method, target="/", headers=[("host", "x")]))
    connection.send(h11.EndOfMessage())
    status, headers, body = 0, {}, b""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("connection closed before the response ended")
            connection.receive_data(data)
        elif isinstance(event, h11.Response):
            status = event.status_code
            headers = {k.decode(): v.decode() for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return Response(status, headers, body)


async def fetch(
    port: int,
    *,
    sni: str | None,
    cafile: Path,
    address: str = "127.0.0.1",
    host: str | None = "",
    method: str = "GET",
    path: str = POLICY_PATH,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    """One request on a new TLS connection; ``host=""`` means the same name as the SNI."""
    reader, writer = await open_tls(port, sni, cafile, address)
    try:
        writer.write(request_bytes(method, path, sni if host == "" else host, extra or []))
        return await read_response(reader, method)
    finally:
        writer.close()


async def fetch_plain(
    port: int, path: str, *, method: str = "GET", host: str = "mta-sts.a.example"
) -> Response:
    """One request over plain HTTP to ``127.0.0.1:port``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_bytes(method, path, host, []))
        return await read_response(reader, method)
    finally:
        writer.close()


async def peer_certificate_serial(
    port: int, sni: str, cafile: Path, address: str = "127.0.0.1"
) -> int:
    """The serial number of the certificate the server presents for ``sni``."""
    _, writer = await open_tls(port, sni, cafile, address)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        return x509.load_der_x509_certificate(der).serial_number
    finally:
        writer.close()


async def until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closing)."""
    data = b""
    try:
        while chunk := await reader.read(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data
