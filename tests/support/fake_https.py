"""An in-memory :class:`~mailshield.services.ports.HttpsFetcher` and builders of fetch outcomes.

    https = FakeHttps({
        policy_url("example.com"): https_response(policy_url("example.com"), POLICY_BODY),
        policy_url("broken.example"): https_failure(policy_url("broken.example"), TIMEOUT),
    })
    fetch = await https.fetch(policy_url("example.com"))

A URL that is not in the mapping answers as a host without an address (``NO_ADDRESS``), which is
what a domain that never set up ``mta-sts.<domain>`` looks like. ``https.fetched`` lists every
URL asked for, in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mailshield.core.observations import ConnectOutcome, HttpsFetch, TlsSession

TLS = TlsSession(
    version="TLSv1.3", cipher="TLS_AES_128_GCM_SHA256", chain_der=(b"leaf",), server_name=""
)


def policy_url(domain: str) -> str:
    return f"https://mta-sts.{domain}/.well-known/mta-sts.txt"


def _host(url: str) -> str:
    return url.partition("://")[2].partition("/")[0]


def https_response(
    url: str,
    body: bytes | str = b"",
    *,
    status: int = 200,
    content_type: str | None = "text/plain; charset=utf-8",
    headers: Sequence[tuple[str, str]] = (),
    elapsed: float = 0.05,
    truncated: bool = False,
) -> HttpsFetch:
    """A completed exchange: TLS session, status, headers and body."""
    data = body.encode() if isinstance(body, str) else body
    all_headers = tuple(headers)
    if content_type is not None:
        all_headers = (("Content-Type", content_type), *all_headers)
    host = _host(url)
    return HttpsFetch(
        url=url,
        host=host,
        outcome=ConnectOutcome.OK,
        address="192.0.2.10",
        tls=TlsSession(TLS.version, TLS.cipher, TLS.chain_der, host),
        status=status,
        headers=all_headers,
        body=data,
        truncated=truncated,
        elapsed=elapsed,
    )


def https_failure(
    url: str,
    outcome: ConnectOutcome,
    *,
    after_handshake: bool = False,
    truncated: bool = False,
    error: str = "",
    elapsed: float = 0.05,
) -> HttpsFetch:
    """A fetch that got no complete HTTP answer (``after_handshake``: TLS had completed)."""
    host = _host(url)
    tls = TlsSession(TLS.version, TLS.cipher, TLS.chain_der, host) if after_handshake else None
    return HttpsFetch(
        url=url,
        host=host,
        outcome=outcome,
        tls=tls,
        truncated=truncated,
        error=error,
        elapsed=elapsed,
    )


class FakeHttps:
    """Answers fetches from a mapping of URL to :class:`HttpsFetch`."""

    def __init__(self, responses: Mapping[str, HttpsFetch] | None = None) -> None:
        self._responses = dict(responses or {})
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> HttpsFetch:
        """The canned answer for ``url``; unknown URLs have no address."""
        self.fetched.append(url)
        found = self._responses.get(url)
        if found is not None:
            return found
        return https_failure(url, ConnectOutcome.NO_ADDRESS, error="no A/AAAA record")
