"""The probes against the lab's own MX and policy hosts: each behaviour as the checker records it.

These pin the contract between the lab (which misbehaves on purpose) and the probes (which must
record each misbehaviour as the right outcome), on 127.0.4.20-21 with ephemeral ports.
"""

from __future__ import annotations

import pytest
from probe_tls_peers import StaticLookup

from mailshield.core.observations import ConnectOutcome
from mailshield.lab.behaviours import MxBehaviour, PolicyBehaviour
from mailshield.lab.ca import LabCA
from mailshield.lab.mx_host import LabMxServer, LabUnsupported
from mailshield.lab.policy_host import LabPolicyServer, PolicySite
from mailshield.lab.tls import BehaviourCertificates
from mailshield.probes.https import HttpsClient
from mailshield.probes.net_policy import AddressPolicy
from mailshield.probes.smtp import SmtpClient

MX_ADDRESS = "127.0.4.20"
POLICY_ADDRESS = "127.0.4.21"
MX = "mx.lab.test"
SITE = "mta-sts.lab.test"
POLICY = b"version: STSv1\nmode: enforce\nmx: mx.lab.test\nmax_age: 86400\n"
LAB = AddressPolicy(allow_private=True)


@pytest.fixture(scope="module")
def certs() -> BehaviourCertificates:
    """Behaviour certificates from one lab CA."""
    return BehaviourCertificates(LabCA())


@pytest.mark.parametrize(
    ("behaviour", "outcome", "offered", "with_tls"),
    [
        pytest.param(MxBehaviour.VALID, ConnectOutcome.OK, True, True, id="valid"),
        pytest.param(MxBehaviour.EXPIRED, ConnectOutcome.OK, True, True, id="expired"),
        pytest.param(MxBehaviour.NOT_YET_VALID, ConnectOutcome.OK, True, True, id="not-yet"),
        pytest.param(MxBehaviour.WRONG_NAME, ConnectOutcome.OK, True, True, id="wrong-name"),
        pytest.param(MxBehaviour.SELF_SIGNED, ConnectOutcome.OK, True, True, id="self-signed"),
        pytest.param(MxBehaviour.UNTRUSTED_CA, ConnectOutcome.OK, True, True, id="untrusted"),
        pytest.param(MxBehaviour.TLS_OLD, ConnectOutcome.OK, True, True, id="tls-old"),
        pytest.param(MxBehaviour.NO_STARTTLS, ConnectOutcome.OK, False, False, id="no-starttls"),
        pytest.param(MxBehaviour.STARTTLS_FAILS, ConnectOutcome.TLS_FAILED, True, False, id="454"),
        pytest.param(MxBehaviour.TARPIT, ConnectOutcome.TIMEOUT, None, False, id="tarpit"),
        pytest.param(MxBehaviour.GREETING_421, ConnectOutcome.REFUSED, None, False, id="421"),
        pytest.param(
            MxBehaviour.ENDLESS_BANNER, ConnectOutcome.PROTOCOL_ERROR, None, False, id="endless"
        ),
    ],
)
async def test_smtp_probe_records_each_mx_behaviour(
    certs: BehaviourCertificates,
    behaviour: MxBehaviour,
    outcome: ConnectOutcome,
    offered: bool | None,
    with_tls: bool,
) -> None:
    """Certificate faults still complete (judged later); the rest map to their outcomes."""
    try:
        server = LabMxServer(
            MX_ADDRESS, [MX], behaviour, certificate=certs.for_mx(behaviour, [MX]), port=0
        )
    except LabUnsupported as exc:
        pytest.skip(str(exc))
    async with server:
        smtp = SmtpClient(port=server.port, policy=LAB, timeout=1.0)
        result = await smtp.probe(MX, MX_ADDRESS)
    assert result.outcome is outcome, result.error
    assert result.starttls_offered is offered
    assert (result.tls is not None) is with_tls
    if behaviour is MxBehaviour.TLS_OLD:
        assert result.tls is not None
        assert result.tls.version in ("TLSv1", "TLSv1.1")


@pytest.mark.parametrize(
    ("behaviour", "outcome", "status"),
    [
        pytest.param(PolicyBehaviour.VALID, ConnectOutcome.OK, 200, id="valid"),
        pytest.param(PolicyBehaviour.REDIRECT, ConnectOutcome.OK, 301, id="redirect"),
        pytest.param(PolicyBehaviour.NOT_FOUND, ConnectOutcome.OK, 404, id="404"),
        pytest.param(PolicyBehaviour.SERVER_ERROR, ConnectOutcome.OK, 500, id="500"),
        pytest.param(PolicyBehaviour.HTML, ConnectOutcome.OK, 200, id="html"),
        pytest.param(PolicyBehaviour.OVERSIZE, ConnectOutcome.OK, 200, id="oversize"),
        pytest.param(PolicyBehaviour.SLOW, ConnectOutcome.TIMEOUT, 200, id="slow"),
        pytest.param(PolicyBehaviour.WRONG_CERT, ConnectOutcome.OK, 200, id="wrong-cert"),
    ],
)
async def test_https_probe_records_each_policy_behaviour(
    certs: BehaviourCertificates,
    behaviour: PolicyBehaviour,
    outcome: ConnectOutcome,
    status: int,
) -> None:
    """Every status is recorded as is, redirects unfollowed, the oversize body truncated."""
    site = PolicySite(SITE, behaviour, POLICY, certs.for_policy(behaviour, [SITE]))
    async with LabPolicyServer(POLICY_ADDRESS, [site], port=0) as server:
        https = HttpsClient(StaticLookup({SITE: [POLICY_ADDRESS]}), policy=LAB, timeout=1.0)
        fetch = await https.fetch(server.policy_url(SITE))
        requests = server.requests_for(SITE)
    assert fetch.outcome is outcome, fetch.error
    assert fetch.status == status
    assert requests == 1
    assert fetch.tls is not None
    assert fetch.truncated is (behaviour is PolicyBehaviour.OVERSIZE)
    if behaviour is PolicyBehaviour.REDIRECT:
        assert fetch.header("location")
    if behaviour is PolicyBehaviour.VALID:
        assert fetch.body == POLICY
