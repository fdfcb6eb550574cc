"""TLS contexts per policy host name: a cheap index of who has a certificate, contexts on demand.

100,000 hosted names must not cost 100,000 ``SSLContext`` objects at start. So the server keeps
only ``{name: certificate version}`` in memory (refreshed from storage periodically), and builds
a context the first time a client asks for a name, keeping at most ``capacity`` of them in a
least-recently-used cache. A renewed certificate has a new version, so the next handshake after
the index refresh builds a fresh context.

A name without a certificate gets no context, and the server ends the handshake with an
``unrecognized_name`` alert: reference §2.7 item 2 (RFC 8461 §7.1) prefers aborting to
presenting another name's certificate. Nothing here ever orders a certificate.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
import tempfile
from typing import Protocol

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 512


class StoredPem(Protocol):
    """A certificate as storage returns it."""

    @property
    def version(self) -> int: ...
    @property
    def key_pem(self) -> bytes: ...
    @property
    def fullchain_pem(self) -> bytes: ...


class CertificateSource(Protocol):
    """Where certificates come from (:class:`mailshield.storage.certificates.CertificateStore`)."""

    async def versions(self) -> dict[str, int]: ...
    async def certificate(self, name: str) -> StoredPem | None: ...


def build_context(key_pem: bytes, fullchain_pem: bytes) -> ssl.SSLContext:
    """A TLS 1.2+ server context presenting the chain, offering ALPN ``http/1.1``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    # Senders fetch a policy about once a day (RFC 8461 §3.3, §5.1): a resumption ticket would never
    # be used, and issuing one costs an encryption and a write on every connection.
    context.num_tickets = 0
    # ``ssl`` loads keys from files only: one private (0600) temporary file, removed at once.
    with tempfile.NamedTemporaryFile(prefix="mailshield-cert-", suffix=".pem") as pem:
        pem.write(key_pem + fullchain_pem)
        pem.flush()
        context.load_cert_chain(pem.name)
    return context


class CertificateContexts:
    """The name index and the bounded cache of contexts built from it."""

    def __init__(self, source: CertificateSource, *, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("the context cache needs room for at least one context")
        self._source = source
        self._capacity = capacity
        self._index: dict[str, int] = {}
        self._cache: collections.OrderedDict[str, tuple[int, ssl.SSLContext]] = (
            collections.OrderedDict()
        )
        self._loading: dict[str, asyncio.Future[ssl.SSLContext | None]] = {}
        self.built = 0
        """How many contexts were built since start (tests and metrics)."""

    def __len__(self) -> int:
        """How many names have a certificate, as of the last refresh."""
        return len(self._index)

    @property
    def cached(self) -> int:
        """How many contexts are held right now."""
        return len(self._cache)

    def has(self, name: str) -> bool:
        """Whether ``name`` had a certificate at the last refresh (no I/O)."""
        return name in self._index

    async def refresh(self) -> None:
        """Reload the index from storage; contexts of replaced or removed certificates go."""
        index = await self._source.versions()
        self._index = index
        for name in [n for n, (version, _) in self._cache.items() if index.get(n) != version]:
            del self._cache[name]

    async def context_for(self, name: str) -> ssl.SSLContext | None:
        """The context presenting ``name``'s certificate, built on first use; ``None`` if none."""
        version = self._index.get(name)
        if version is None:
            return None
        cached = self._cache.get(name)
        if cached is not None and cached[0] == version:
            self._cache.move_to_end(name)
            return cached[1]
        pending = self._loading.get(name)
        if pending is None:  # one load per name at a time, however many handshakes wait on it
            pending = asyncio.ensure_future(self._load(name))
            self._loading[name] = pending
            pending.add_done_callback(self._loaded)
        return await asyncio.shield(pending)

    def _loaded(self, future: asyncio.Future[ssl.SSLContext | None]) -> None:
        """Forget a finished load; its error is for the waiters (if all left, it is dropped)."""
        self._loading = {n: f for n, f in self._loading.items() if f is not future}
        if not future.cancelled():
            future.exception()  # marks it retrieved, so asyncio does not log it a second time

    async def _load(self, name: str) -> ssl.SSLContext | None:
        stored = await self._source.certificate(name)
        if stored is None:
            return None
        try:
            context = await asyncio.to_thread(build_context, stored.key_pem, stored.fullchain_pem)
        except (ssl.SSLError, ValueError, OSError) as exc:
            log.error("certificate of %s cannot be loaded: %s", name, exc)
            return None
        self.built += 1
        self._cache[name] = (stored.version, context)
        self._cache.move_to_end(name)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return context
