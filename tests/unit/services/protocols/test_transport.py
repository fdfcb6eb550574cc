"""Transport gathering: the DNSSEC status of each MX host's addresses decides DANE (RFC 7672)."""

import pytest
from tests.support.fake_dns import SERVFAIL, Entry, FakeDns

from mailshield.core.certs import CertVerdict
from mailshield.core.evaluate.mx import mx_set
from mailshield.core.observations import Dnssec, TlsSession
from mailshield.services.protocols.transport import lookup_mx, observe_transport

MX = "mx.example.test"


def _never_judged(tls: TlsSession, host: str) -> CertVerdict:
    raise AssertionError("no SMTP probe runs in these tests")


@pytest.mark.parametrize(
    ("zone", "dnssec", "expected"),
    [
        pytest.param(
            {f"{MX} A": ["192.0.2.25"], f"{MX} AAAA": []},
            {MX: Dnssec.SECURE},
            Dnssec.SECURE,
            id="secure",
        ),
        pytest.param(
            {f"{MX} A": ["192.0.2.25"], f"{MX} AAAA": []},
            {MX: Dnssec.INSECURE},
            Dnssec.INSECURE,
            id="insecure",
        ),
        pytest.param({f"{MX} *": SERVFAIL}, {MX: Dnssec.BOGUS}, Dnssec.BOGUS, id="bogus-servfail"),
        pytest.param({f"{MX} *": SERVFAIL}, {}, Dnssec.UNKNOWN, id="plain-servfail"),
    ],
)
async def test_address_dnssec_of_an_mx_host(
    zone: dict[str, Entry], dnssec: dict[str, Dnssec], expected: Dnssec
) -> None:
    """A validation failure (SERVFAIL marked bogus) makes the host bogus even though the lookup
    failed; a plain SERVFAIL leaves it unknown."""
    dns = FakeDns({"example.test MX": [f"10 {MX}."], **zone}, dnssec=dnssec)
    lookup = await lookup_mx(dns, "example.test")
    observed = await observe_transport(dns, None, mx_set(lookup), _never_judged)
    (host,) = observed.dane
    assert host.address_dnssec is expected
