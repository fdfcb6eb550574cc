"""One ACME order (RFC 8555) with certbot's ``acme`` library, answered by HTTP-01 or TLS-ALPN-01.

:class:`AcmeIssuer` registers (or reuses) the account stored for the directory, creates a fresh
P-256 key and CSR for the name, places the order (§7.4), publishes each key authorization
through a :class:`ChallengeBoard` before telling the CA to validate (§7.5.1), polls, finalizes
and downloads the chain. Tokens are withdrawn whatever the outcome. HTTP-01 (§8.3) is answered
on the policy server's port 80; TLS-ALPN-01 (RFC 8737; the library no longer models it, so its
JSON is read here) on port 443 with a validation certificate the server builds.

The ``acme`` library is synchronous (``requests``), so its calls run in worker threads; the
board and the account storage stay on the event loop. Every way an order can fail is turned into
:class:`IssuanceFailed` here, in one place.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from acme import challenges, crypto_util, errors, messages
from acme import client as acme_client
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from josepy import b64
from josepy.jwa import ES256
from josepy.jwk import JWKEC

from mailshield.storage.certificates import AcmeAccount

log = logging.getLogger(__name__)

USER_AGENT = "mailshield"
HTTP_01 = "http-01"  # RFC 8555 §8.3: answered on port 80 by any policy-server replica
TLS_ALPN_01 = "tls-alpn-01"  # RFC 8737: answered on port 443 by any policy-server replica
CHALLENGES = (HTTP_01, TLS_ALPN_01)
ORDER_TIMEOUT = dt.timedelta(seconds=120)


class IssuanceFailed(Exception):
    """An order did not produce a certificate; the message says why."""


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate the CA issued: full chain (leaf first), its key, and its validity."""

    fullchain_pem: bytes
    key_pem: bytes
    not_before: dt.datetime
    not_after: dt.datetime


class ChallengeBoard(Protocol):
    """Where HTTP-01 key authorizations are published for every policy-server replica."""

    async def publish(self, token: str, name: str, key_authorization: str) -> None: ...
    async def withdraw(self, tokens: list[str]) -> None: ...


class AccountStorage(Protocol):
    """The ACME account per directory (the storage ``CertificateStore``)."""

    async def account(self, directory_url: str) -> AcmeAccount | None: ...
    async def save_account(self, account: AcmeAccount, now: dt.datetime) -> AcmeAccount: ...


class Issuer(Protocol):
    """Obtains a certificate for one name (the certificate manager's port to the CA)."""

    async def issue(self, name: str, board: ChallengeBoard) -> Issued: ...


def new_key_pem() -> bytes:
    """A fresh ECDSA P-256 private key as PKCS#8 PEM."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def chain_validity(fullchain_pem: bytes) -> tuple[dt.datetime, dt.datetime]:
    """``(not_before, not_after)`` of the leaf, the first certificate of the chain."""
    leaf = x509.load_pem_x509_certificates(fullchain_pem)[0]
    return leaf.not_valid_before_utc, leaf.not_valid_after_utc


class AcmeIssuer:
    """Orders certificates from the ACME server at ``directory_url``."""

    def __init__(
        self,
        directory_url: str,
        accounts: AccountStorage,
        *,
        email: str | None = None,
        ca_bundle: Path | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        challenge: str = HTTP_01,
    ) -> None:
        if challenge not in CHALLENGES:
            raise ValueError(f"challenge must be one of {', '.join(CHALLENGES)}, not {challenge!r}")
        self.directory_url = directory_url
        self.challenge = challenge
        self._accounts = accounts
        self._email = email
        self._verify: bool | str = str(ca_bundle) if ca_bundle else True
        self._clock = clock
        self._account_lock = asyncio.Lock()
        self.orders_placed = 0
        """Orders sent to the CA by this issuer (tests and metrics)."""

    async def issue(self, name: str, board: ChallengeBoard) -> Issued:
        """Order, validate over HTTP-01, finalize; raises :class:`IssuanceFailed`."""
        account = await self._account()
        key_pem = new_key_pem()
        published: list[str] = []
        try:
            client, jwk = await asyncio.to_thread(self._client, account)
            csr = crypto_util.make_csr(key_pem, [name])
            order = await asyncio.to_thread(client.new_order, csr)
            self.orders_placed += 1
            answers = await _publish(order, jwk, name, self.challenge, board, published)
            for challenge, response in answers:
                await asyncio.to_thread(client.answer_challenge, challenge, response)
            deadline = dt.datetime.now() + ORDER_TIMEOUT  # the library compares naive local times
            done = await asyncio.to_thread(client.poll_and_finalize, order, deadline)
        except _ACME_ERRORS as exc:
            raise IssuanceFailed(_describe(exc)) from exc
        finally:
            if published:
                await board.withdraw(published)
        fullchain = done.fullchain_pem.encode()
        not_before, not_after = chain_validity(fullchain)
        return Issued(fullchain, key_pem, not_before, not_after)

    async def _account(self) -> AcmeAccount:
        """The stored account for the directory, registering one first if there is none."""
        async with self._account_lock:
            stored = await self._accounts.account(self.directory_url)
            if stored is not None:
                return stored
            try:
                registered = await asyncio.to_thread(self._register)
            except _ACME_ERRORS as exc:
                raise IssuanceFailed(f"account registration failed: {_describe(exc)}") from exc
            return await self._accounts.save_account(registered, self._clock())

    def _register(self) -> AcmeAccount:
        key_pem = new_key_pem()
        jwk = _jwk(key_pem)
        net = self._network(jwk)
        client = acme_client.ClientV2(
            acme_client.ClientV2.get_directory(self.directory_url, net), net
        )
        registration = messages.NewRegistration.from_data(
            email=self._email, terms_of_service_agreed=True
        )
        regr = client.new_account(registration)
        return AcmeAccount(self.directory_url, key_pem, regr.uri)

    def _client(self, account: AcmeAccount) -> tuple[acme_client.ClientV2, JWKEC]:
        """A client for one order, signing as the stored account (RFC 8555 §6.2 ``kid``)."""
        jwk = _jwk(account.key_pem)
        net = self._network(jwk)
        net.account = messages.RegistrationResource(
            uri=account.account_url, body=messages.Registration()
        )
        directory = acme_client.ClientV2.get_directory(self.directory_url, net)
        return acme_client.ClientV2(directory, net), jwk

    def _network(self, jwk: JWKEC) -> acme_client.ClientNetwork:
        # ``verify_ssl`` is handed to requests as ``verify``, which also takes a CA bundle path.
        verify: Any = self._verify
        return acme_client.ClientNetwork(jwk, alg=ES256, verify_ssl=verify, user_agent=USER_AGENT)


_ACME_ERRORS = (errors.Error, messages.Error, requests.RequestException, ValueError, OSError)


def _jwk(key_pem: bytes) -> JWKEC:
    return JWKEC(key=serialization.load_pem_private_key(key_pem, password=None))


async def _publish(
    order: messages.OrderResource,
    jwk: JWKEC,
    name: str,
    kind: str,
    board: ChallengeBoard,
    published: list[str],
) -> list[tuple[messages.ChallengeBody, challenges.ChallengeResponse]]:
    """Publish the key authorization of every pending authorization's ``kind`` challenge."""
    answers = []
    for authorization in order.authorizations:
        if authorization.body.status == messages.STATUS_VALID:
            continue  # already validated (authorization reuse)
        found = next((c for c in authorization.body.challenges if _challenge_kind(c) == kind), None)
        if found is None:
            raise IssuanceFailed(f"the CA offers no {kind} challenge for {name}")
        token, key_authorization, response = _answer(found, jwk)
        await board.publish(token, name, key_authorization)
        published.append(token)
        answers.append((found, response))
    return answers


class _TlsAlpn01Response(challenges.KeyAuthorizationChallengeResponse):
    """The response that asks the CA to validate TLS-ALPN-01 (RFC 8737 §3); posted as ``{}``
    like HTTP-01's (the key authorization field is kept only so the payload is not empty,
    which the library would send as a POST-as-GET)."""

    typ = TLS_ALPN_01


def _challenge_kind(challenge: messages.ChallengeBody) -> str | None:
    """``http-01``, ``tls-alpn-01`` (unknown to the library, so read from its JSON), or None."""
    chall = challenge.chall
    if isinstance(chall, challenges.HTTP01):
        return HTTP_01
    if isinstance(chall, challenges.UnrecognizedChallenge):
        kind = chall.jobj.get("type")
        return kind if kind == TLS_ALPN_01 else None
    return None


def _answer(
    challenge: messages.ChallengeBody, jwk: JWKEC
) -> tuple[str, str, challenges.ChallengeResponse]:
    """Token, key authorization (RFC 8555 §8.1) and the response to post for ``challenge``."""
    chall = challenge.chall
    if isinstance(chall, challenges.HTTP01):
        response, validation = chall.response_and_validation(jwk)
        return chall.encode("token"), validation, response
    token = str(chall.jobj["token"])
    thumbprint = b64.b64encode(jwk.thumbprint()).decode("ascii")
    key_authorization = f"{token}.{thumbprint}"
    return token, key_authorization, _TlsAlpn01Response(key_authorization=key_authorization)


def _describe(exc: BaseException) -> str:
    """A one-line reason, including the CA's problem details for failed validations."""
    if isinstance(exc, errors.ValidationError):
        problems = [
            str(c.error)
            for authz in exc.failed_authzrs
            for c in authz.body.challenges
            if c.error is not None
        ]
        return "validation failed: " + "; ".join(problems)
    if isinstance(exc, errors.TimeoutError):
        return "the CA did not finish the order in time"
    return f"{type(exc).__name__}: {exc}"
