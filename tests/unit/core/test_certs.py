"""Certificate verdicts: each problem a verifying sender would see, reported separately."""

import datetime as dt
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.core.certs import CertProblem, NameSet, TrustRoots, judge_chain
from mailshield.lab.ca import IssuedCert, LabCA

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _der_chain(issued: IssuedCert) -> list[bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    certs = x509.load_pem_x509_certificates(issued.fullchain_pem)
    return [c.public_bytes(Encoding.DER) for c in certs]


@pytest.fixture(scope="module")
def ca() -> LabCA:
    return LabCA(now=NOW)


@pytest.fixture(scope="module")
def roots(ca: LabCA) -> TrustRoots:
    return TrustRoots.from_pem(ca.cert_pem)


@pytest.mark.parametrize(
    ("names", "host", "expected"),
    [
        pytest.param(["mx.example.com"], "MX.Example.com.", True, id="exact-case-dot"),
        pytest.param(["*.example.com"], "mx.example.com", True, id="wildcard-one-label"),
        pytest.param(["*.example.com"], "example.com", False, id="wildcard-not-parent"),
        pytest.param(["*.example.com"], "a.b.example.com", False, id="wildcard-not-two-labels"),
        pytest.param(["*.com"], "example.com", False, id="wildcard-not-tld"),
        pytest.param(["m*.example.com"], "mx.example.com", False, id="partial-wildcard-refused"),
        pytest.param(["other.example.com"], "mx.example.com", False, id="other-name"),
    ],
)
def test_hostname_matching(names: list[str], host: str, expected: bool) -> None:
    """Names match exactly or through a whole left-most wildcard label (RFC 9525 §6.3)."""
    assert NameSet(names).matches(host) is expected


def _one_name_matches(name: str, host: str) -> bool:
    """RFC 9525 §6.3 for one presented name, written out plainly: the reference."""
    name, host = name.lower().rstrip("."), host.lower().rstrip(".")
    if name == host:
        return True
    if not name.startswith("*.") or name.count(".") < 2:
        return False
    label, _, parent = host.partition(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(label) and parent == name[2:]
    return False


_LABELS = st.sampled_from(["*", "mx", "MX", "a", "example", "com", "1", "10", "", "x*"])
_NAMES = st.lists(_LABELS, min_size=1, max_size=4).map(".".join)


@given(names=st.lists(_NAMES, max_size=6), host=_NAMES, dot=st.booleans())
def test_indexed_matching_is_the_plain_rule(names: list[str], host: str, dot: bool) -> None:
    """Matching through the index gives what checking every name one by one gives."""
    host = host + "." if dot else host
    expected = any(_one_name_matches(name, host) for name in names)
    assert NameSet(names).matches(host) is expected


def test_valid_chain_has_no_problem(ca: LabCA, roots: TrustRoots) -> None:
    """A certificate for the name, in date, from a trusted CA, is valid with days left."""
    verdict = judge_chain(_der_chain(ca.issue("mx.example.com")), "mx.example.com", roots, NOW)
    assert verdict.valid, verdict
    assert verdict.days_left == 90
    assert verdict.leaf is not None
    assert verdict.leaf.key_type == "ec"


def test_wildcard_certificate_is_trusted(ca: LabCA, roots: TrustRoots) -> None:
    """A wildcard certificate chains and matches a one-label host."""
    verdict = judge_chain(_der_chain(ca.issue("*.example.com")), "mx1.example.com", roots, NOW)
    assert verdict.problems == ()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            lambda ca: ca.issue_expired("mx.example.com"), {CertProblem.EXPIRED}, id="expired"
        ),
        pytest.param(
            lambda ca: ca.issue_not_yet_valid("mx.example.com"),
            {CertProblem.NOT_YET_VALID},
            id="not-yet-valid",
        ),
        pytest.param(
            lambda ca: ca.issue("other.example.com"), {CertProblem.NAME_MISMATCH}, id="wrong-name"
        ),
        pytest.param(
            lambda ca: ca.issue("mx.example.com", self_signed=True),
            {CertProblem.SELF_SIGNED},
            id="self-signed",
        ),
        pytest.param(
            lambda ca: LabCA("Unknown CA", now=NOW).issue("mx.example.com"),
            {CertProblem.UNTRUSTED},
            id="untrusted-ca",
        ),
        pytest.param(
            lambda ca: LabCA("Unknown CA", now=NOW).issue_expired("other.example.com"),
            {CertProblem.UNTRUSTED, CertProblem.EXPIRED, CertProblem.NAME_MISMATCH},
            id="three-problems",
        ),
    ],
)
def test_each_problem_reported(ca: LabCA, roots: TrustRoots, make, expected) -> None:  # type: ignore[no-untyped-def]
    """Every problem is reported on its own, not only the first one found."""
    verdict = judge_chain(_der_chain(make(ca)), "mx.example.com", roots, NOW)
    assert set(verdict.problems) == expected


def test_empty_and_garbage_chains(roots: TrustRoots) -> None:
    """No certificate and an unparseable one are distinct problems, never exceptions."""
    assert judge_chain([], "mx.example.com", roots, NOW).problems == (CertProblem.NO_CERTIFICATE,)
    assert judge_chain([b"junk"], "mx.example.com", roots, NOW).problems == (
        CertProblem.UNPARSEABLE,
    )
