"""TLS for probes: handshakes that never verify, and what they recorded.

A probe's job is to see what a server presents, not to judge it: the chain is recorded as sent
and ``core.certs`` verifies it later against the trust store. So the client context verifies
nothing and accepts every protocol version and cipher the local OpenSSL can still speak — an
expired, self-signed or TLS 1.0-only server still completes a handshake, and the negotiated version
is recorded for the evaluator (RFC 8996 deprecates TLS 1.0/1.1; RFC 8461 §3.3 and RFC 7672 §8 ask
for TLS 1.2 or later).
"""

from __future__ import annotations

import functools
import ssl
import warnings
from collections.abc import Sequence
from typing import Any

from mailshield.core.observations import TlsSession

_DER = 2  # _ssl.ENCODING_DER, for Python < 3.13 where the chain holds Certificate objects


@functools.lru_cache(maxsize=8)
def unverified_context(
    *, alpn: tuple[str, ...] = (), max_version: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    """A client context that completes a handshake with any certificate and any TLS version.

    ``max_version`` caps the offered version (to learn whether a server still accepts TLS 1.0/1.1).
    One context per set of arguments is made and shared (every check used to build three, at a
    few hundred µs each); it is never changed after it is made, so sharing it is safe.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # Python deprecates naming TLS 1.0/1.1; speaking them is the point of recording them.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        if max_version is not None:
            context.maximum_version = max_version
    try:
        context.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.0/1.1 above level 0
    except ssl.SSLError:  # pragma: no cover - an OpenSSL without security levels
        context.set_ciphers("ALL")
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def peer_chain(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> tuple[bytes, ...]:
    """The certificates the server sent, leaf first, as DER, whether or not they verify."""
    getter = getattr(ssl_object, "get_unverified_chain", None)  # public from Python 3.13
    if getter is None:
        getter = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    certificates: Sequence[Any] = (getter() if getter is not None else None) or ()
    chain = tuple(_der(certificate) for certificate in certificates)
    if chain:
        return chain
    leaf = ssl_object.getpeercert(binary_form=True)
    return (leaf,) if leaf else ()


def _der(certificate: Any) -> bytes:
    if isinstance(certificate, bytes):
        return certificate
    encoded = certificate.public_bytes(_DER)
    return encoded if isinstance(encoded, bytes) else ssl.PEM_cert_to_DER_cert(encoded)


def session_of(ssl_object: ssl.SSLObject | ssl.SSLSocket, server_name: str) -> TlsSession:
    """What a completed handshake negotiated and what the server presented."""
    cipher = ssl_object.cipher()
    return TlsSession(
        version=ssl_object.version() or "",
        cipher=cipher[0] if cipher else "",
        chain_der=peer_chain(ssl_object),
        server_name=server_name,
    )
