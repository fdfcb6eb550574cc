"""What a lab MTA-STS policy site answers, per :class:`PolicyBehaviour`, without any I/O.

RFC 8461 §3.3: the policy is fetched with an HTTPS GET of ``/.well-known/mta-sts.txt`` on
``mta-sts.<domain>``, must come back ``200`` with media type ``text/plain``, and redirects must not
be followed. Each behaviour breaks exactly one of those expectations:

============ ======================================================================================
valid        200 ``text/plain``, the policy byte-for-byte (so LF and CRLF policies both exist)
wrong_cert   as valid; the fault is the certificate the site presents
redirect     301 to :data:`REDIRECT_TARGET` on the same site, which serves the policy as valid
not_found    404
server_error 500
html         200 ``text/html`` with the policy as body
oversize     200 ``text/plain``: the policy padded with extension fields to :data:`OVERSIZE_BYTES`
slow         200 ``text/plain``, the policy trickled (the server paces the body)
============ ======================================================================================

Unknown sites and paths are 404, methods other than GET 405.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailshield.lab.behaviours import PolicyBehaviour
from mailshield.lab.ca import IssuedCert

POLICY_PATH = "/.well-known/mta-sts.txt"  # RFC 8461 §3.3
REDIRECT_TARGET = "/redirected/.well-known/mta-sts.txt"
OVERSIZE_BYTES = 64 * 1024 + 4096  # over the 64 KiB a policy fetcher should read

_TEXT = "text/plain; charset=utf-8"
_HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class PolicySite:
    """One ``mta-sts.<domain>`` site: its behaviour, policy text and certificate.

    A ``str`` policy is encoded as UTF-8 with its line endings untouched. Sites may share one
    certificate (one with a SAN per site). ``certificate`` is required unless the behaviour is
    ``no_listener``.
    """

    name: str
    behaviour: PolicyBehaviour = PolicyBehaviour.VALID
    policy: bytes | str = b""
    certificate: IssuedCert | None = None

    @property
    def policy_bytes(self) -> bytes:
        return self.policy.encode() if isinstance(self.policy, str) else self.policy


@dataclass(frozen=True)
class PlannedResponse:
    """A response to send: status, media type, body, and whether the body trickles."""

    status: int
    content_type: str
    body: bytes
    location: str | None = None
    trickle: bool = False


def plan_response(site: PolicySite | None, method: str, path: str, origin: str) -> PlannedResponse:
    """The response for ``method path`` on ``site`` (None: no such site).

    ``origin`` is ``https://name[:port]`` as the client reached the site; redirects point there.
    """
    if site is None or path not in (POLICY_PATH, REDIRECT_TARGET):
        return _status(404, "not found")
    if method != "GET":
        return _status(405, "method not allowed")
    if path == REDIRECT_TARGET:
        if site.behaviour is PolicyBehaviour.REDIRECT:
            return PlannedResponse(200, _TEXT, site.policy_bytes)
        return _status(404, "not found")
    return _policy_response(site, origin)


def _policy_response(site: PolicySite, origin: str) -> PlannedResponse:
    policy = site.policy_bytes
    match site.behaviour:
        case PolicyBehaviour.REDIRECT:
            body = b"moved\n"
            return PlannedResponse(301, _TEXT, body, location=f"{origin}{REDIRECT_TARGET}")
        case PolicyBehaviour.NOT_FOUND | PolicyBehaviour.NO_LISTENER:
            return _status(404, "not found")
        case PolicyBehaviour.SERVER_ERROR:
            return _status(500, "internal server error")
        case PolicyBehaviour.HTML:
            return PlannedResponse(200, _HTML, policy)
        case PolicyBehaviour.OVERSIZE:
            return PlannedResponse(200, _TEXT, pad_policy(policy, OVERSIZE_BYTES))
        case PolicyBehaviour.SLOW:
            return PlannedResponse(200, _TEXT, policy, trickle=True)
        case _:
            return PlannedResponse(200, _TEXT, policy)


def pad_policy(policy: bytes, size: int) -> bytes:
    """``policy`` followed by extension fields up to at least ``size`` bytes.

    RFC 8461 §3.2 lets a policy carry extension key/value pairs, which receivers ignore, so the
    padding keeps the policy itself well-formed; it follows the policy's line ending.
    """
    newline = b"\r\n" if b"\r\n" in policy else b"\n"
    body = policy if not policy or policy.endswith(b"\n") else policy + newline
    line = b"x-padding: " + b"x" * 1000 + newline
    missing = max(0, size - len(body))
    return body + line * (missing // len(line) + 1)


def _status(status: int, text: str) -> PlannedResponse:
    return PlannedResponse(status, _TEXT, f"{status} {text}\n".encode())
