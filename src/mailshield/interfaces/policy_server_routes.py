"""What the policy server answers: a request (method, target, Host, SNI) in, a :class:`Reply` out.

HTTPS side (RFC 8461 §3.3; reference §2.7):

- the tenant is the TLS server name; the ``Host`` header must name the same host, or the answer
  is 404 and no policy of either tenant is served;
- ``GET``/``HEAD /.well-known/mta-sts.txt`` → 200 ``text/plain; charset=utf-8`` with the body
  exactly as the policy source gives it, and ``Cache-Control: max-age=60`` (§8.2 guidance for
  proxied endpoints: intermediaries may cache briefly, senders never use HTTP caching);
- unknown host or path → 404 plain text; any other method on the policy path → 405 with
  ``Allow: GET, HEAD``. Nothing here ever redirects (§3.3: redirects MUST NOT be followed).

Plain HTTP side: ACME HTTP-01 key authorizations (RFC 8555 §8.3) at
``/.well-known/acme-challenge/<token>``, the Caddy on-demand TLS question
``/tls/ask?domain=<name>`` (200 only for names that pass the issuance gate), 404 otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from mailshield.services.ports import PolicySource

POLICY_PATH = "/.well-known/mta-sts.txt"
CHALLENGE_PREFIX = "/.well-known/acme-challenge/"
ASK_PATH = "/tls/ask"
POLICY_TYPE = "text/plain; charset=utf-8"
CACHE_CONTROL = "max-age=60"
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete response: status, body and the headers beyond Content-Length."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = (("content-type", "text/plain; charset=utf-8"),)


NOT_FOUND = Reply(404, b"404 not found\n")
METHOD_NOT_ALLOWED = Reply(
    405,
    b"405 method not allowed\n",
    (("content-type", "text/plain; charset=utf-8"), ("allow", "GET, HEAD")),
)
ALLOWED = Reply(200, b"ok\n")


@dataclass(frozen=True, slots=True)
class Request:
    """The parts of an HTTP request the routes look at."""

    method: str
    target: str
    host: str

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


ChallengeLookup = Callable[[str], Awaitable[str | None]]
AskCheck = Callable[[str], bool]


def host_name(value: str) -> str:
    """The host from a ``Host`` header (RFC 9110 §7.2): lower-case, no port, no final dot."""
    text = value.strip().lower()
    if text.startswith("["):
        return text.partition("]")[0] + "]"
    name, colon, port = text.rpartition(":")
    if colon and port.isdigit():
        text = name
    return text.rstrip(".")


async def policy_reply(request: Request, server_name: str, policies: PolicySource) -> Reply:
    """The HTTPS answer for ``request`` on a connection whose TLS server name is ``server_name``."""
    if host_name(request.host) != server_name:
        return NOT_FOUND  # Host names another tenant (or none): serve neither policy
    if request.path != POLICY_PATH:
        return NOT_FOUND
    if request.method not in READ_METHODS:
        return METHOD_NOT_ALLOWED
    body = await policies.policy_for(server_name)
    if body is None:
        return NOT_FOUND
    return Reply(200, body, (("content-type", POLICY_TYPE), ("cache-control", CACHE_CONTROL)))


async def http_reply(request: Request, challenges: ChallengeLookup, ask: AskCheck | None) -> Reply:
    """The plain-HTTP answer: an HTTP-01 key authorization, the ``/tls/ask`` verdict, or 404."""
    path = request.path
    is_challenge = path.startswith(CHALLENGE_PREFIX)
    if not is_challenge and (path != ASK_PATH or ask is None):
        return NOT_FOUND
    if request.method not in READ_METHODS:
        return METHOD_NOT_ALLOWED
    if is_challenge:
        token = path.removeprefix(CHALLENGE_PREFIX)
        authorization = await challenges(token) if _is_token(token) else None
        if authorization is None:
            return NOT_FOUND
        return Reply(200, authorization.encode("ascii"))
    assert ask is not None
    return ALLOWED if ask(_asked_name(request.query)) else NOT_FOUND


def _is_token(token: str) -> bool:
    """RFC 8555 §8.3: a token is base64url (RFC 4648 §5) without padding."""
    return 0 < len(token) <= 255 and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


def _asked_name(query: str) -> str:
    try:
        values = parse_qs(query, max_num_fields=4).get("domain", [""])
    except ValueError:  # more fields than any real ask sends
        return ""
    return values[0].strip().lower().rstrip(".")
