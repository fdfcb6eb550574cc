"""TLS for lab servers: server contexts built from lab certificates, the TLS 1.0/1.1-only context
of the ``tls_old`` behaviour, and the choice of certificate for each MX or policy behaviour.

Exceptions::

    LabUnsupported(RuntimeError)   the local TLS library cannot produce the requested behaviour
"""

from __future__ import annotations

import functools
import ssl
import tempfile
import warnings
from collections.abc import Sequence

from mailshield.lab.behaviours import MxBehaviour, PolicyBehaviour
from mailshield.lab.ca import IssuedCert, LabCA

# The name put on certificates of the wrong_name / wrong_cert behaviours; `.invalid` can never be a
# real host (RFC 6761 §6.4), so no checked name can match it.
WRONG_NAME = "wrong-name.invalid"

# Debian's OpenSSL 3 refuses TLS 1.0/1.1 at its default security level 2: the SHA-1 based handshake
# signatures of those versions need level 0.
_OLD_TLS_CIPHERS = "DEFAULT:@SECLEVEL=0"


class LabUnsupported(RuntimeError):
    """The local TLS library cannot produce the requested lab behaviour."""


def server_context(
    certificate: IssuedCert, *, old_tls: bool = False, alpn: Sequence[str] = ()
) -> ssl.SSLContext:
    """A server-side context presenting ``certificate`` (with its chain).

    Modern contexts speak TLS 1.2 and 1.3 only. ``old_tls`` gives a context that speaks only
    TLS 1.0 and 1.1 and raises :class:`LabUnsupported` when the local OpenSSL cannot.
    """
    if old_tls:
        _require_old_tls()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if old_tls:
        _restrict_to_old_tls(context)
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        context.set_alpn_protocols(list(alpn))
    load_certificate(context, certificate)
    return context


def load_certificate(context: ssl.SSLContext, certificate: IssuedCert) -> None:
    """Load a PEM chain and key into ``context`` (via temporary files: ``ssl`` reads only files)."""
    # One private (0600) file holding key and chain; ``load_cert_chain`` finds both in it.
    with tempfile.NamedTemporaryFile(prefix="mailshield-lab-", suffix=".pem") as pem:
        pem.write(certificate.key_pem + certificate.fullchain_pem)
        pem.flush()
        context.load_cert_chain(pem.name)


def _restrict_to_old_tls(context: ssl.SSLContext) -> None:
    context.set_ciphers(_OLD_TLS_CIPHERS)
    with warnings.catch_warnings():
        # Python deprecates these versions; offering nothing newer is the point of tls_old.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1


def _require_old_tls() -> None:
    if not old_tls_supported():
        raise LabUnsupported(
            "the tls_old behaviour needs TLS 1.0/1.1, which the local OpenSSL "
            f"({ssl.OPENSSL_VERSION}) cannot negotiate even at @SECLEVEL=0"
        )


@functools.cache
def old_tls_supported() -> bool:
    """Whether the local OpenSSL completes a TLS 1.0/1.1 handshake (tried once, in memory)."""
    if not (ssl.HAS_TLSv1 or ssl.HAS_TLSv1_1):
        return False
    try:
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        _restrict_to_old_tls(server)
        load_certificate(server, LabCA("tls_old probe").issue("tls-old.invalid", self_signed=True))
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        _restrict_to_old_tls(client)
    except ssl.SSLError:
        return False
    return _memory_handshake(server, client) in {"TLSv1", "TLSv1.1"}


def _memory_handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext) -> str | None:
    """Run a handshake between two contexts through memory buffers; the version, or None."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = server_ctx.wrap_bio(to_server, to_client, server_side=True)
    client = client_ctx.wrap_bio(to_client, to_server, server_side=False)
    # Each side writes into the other's incoming buffer; a handshake takes a few round trips.
    done = {"server": False, "client": False}
    for _ in range(8):
        for side, obj in (("client", client), ("server", server)):
            try:
                obj.do_handshake()
                done[side] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                return None
        if all(done.values()):
            return client.version()
    return None


class BehaviourCertificates:
    """Issues the certificate each lab behaviour presents, from the lab CA the checker trusts.

    ``untrusted_ca`` signs the ``untrusted_ca`` behaviour's certificates: a second root that is
    never handed to the checker. It is created on first use unless given.
    """

    def __init__(self, ca: LabCA, *, untrusted_ca: LabCA | None = None) -> None:
        self.ca = ca
        self._untrusted_ca = untrusted_ca

    @property
    def untrusted_ca(self) -> LabCA:
        if self._untrusted_ca is None:
            self._untrusted_ca = LabCA("MailShield lab untrusted root")
        return self._untrusted_ca

    def for_mx(self, behaviour: MxBehaviour, names: Sequence[str]) -> IssuedCert | None:
        """The certificate an MX host serving ``names`` presents; None when it never does TLS."""
        match behaviour:
            case (
                MxBehaviour.NO_STARTTLS
                | MxBehaviour.REFUSED
                | MxBehaviour.GREETING_421
                | MxBehaviour.ENDLESS_BANNER
            ):
                return None
            case MxBehaviour.EXPIRED:
                return self.ca.issue_expired(*names)
            case MxBehaviour.NOT_YET_VALID:
                return self.ca.issue_not_yet_valid(*names)
            case MxBehaviour.WRONG_NAME:
                return self.ca.issue(WRONG_NAME)
            case MxBehaviour.SELF_SIGNED:
                return self.ca.issue(*names, self_signed=True)
            case MxBehaviour.UNTRUSTED_CA:
                return self.untrusted_ca.issue(*names)
            case _:
                return self.ca.issue(*names)

    def for_policy(self, behaviour: PolicyBehaviour, names: Sequence[str]) -> IssuedCert | None:
        """The certificate a policy site (``mta-sts.<domain>``) presents; None without listener."""
        match behaviour:
            case PolicyBehaviour.NO_LISTENER:
                return None
            case PolicyBehaviour.WRONG_CERT:
                return self.ca.issue(WRONG_NAME)
            case _:
                return self.ca.issue(*names)
