"""STARTTLS and DANE evaluation from recorded SMTP probes and TLSA answers."""

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mailshield.core.certs import TrustRoots, judge_chain, spki_der
from mailshield.core.evaluate.dane import DaneHost, dane_deployed, evaluate_dane
from mailshield.core.evaluate.starttls import SmtpObservation, evaluate_starttls
from mailshield.core.model import Status
from mailshield.core.observations import (
    ConnectOutcome,
    DnsAnswer,
    DnsOutcome,
    Dnssec,
    SmtpProbe,
    TlsaRecord,
    TlsSession,
)
from mailshield.lab.ca import IssuedCert, LabCA

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
HOST = "mx.example.com"
CA = LabCA(now=NOW)
ROOTS = TrustRoots.from_pem(CA.cert_pem)


def _chain(issued: IssuedCert) -> tuple[bytes, ...]:
    certs = x509.load_pem_x509_certificates(issued.fullchain_pem)
    return tuple(c.public_bytes(Encoding.DER) for c in certs)


def _tls_probe(issued: IssuedCert, version: str = "TLSv1.3") -> SmtpObservation:
    chain = _chain(issued)
    probe = SmtpProbe(
        HOST,
        "192.0.2.1",
        25,
        ConnectOutcome.OK,
        "220 hi",
        220,
        ("STARTTLS",),
        True,
        "220",
        TlsSession(version, "TLS_AES_256_GCM_SHA384", chain, HOST),
    )
    return SmtpObservation(probe, judge_chain(chain, HOST, ROOTS, NOW))


def _probe(**kwargs: object) -> SmtpObservation:
    base: dict[str, object] = {
        "host": HOST,
        "address": "192.0.2.1",
        "port": 25,
        "outcome": ConnectOutcome.OK,
    }
    return SmtpObservation(SmtpProbe(**(base | kwargs)))  # type: ignore[arg-type]


def _codes(obs: SmtpObservation, strict: bool = False) -> list[tuple[str, Status]]:
    result = evaluate_starttls([obs], strict_hosts={HOST} if strict else set())
    return [(f.code, f.status) for f in result.findings]


@pytest.mark.parametrize(
    ("obs", "expected"),
    [
        pytest.param(_tls_probe(CA.issue(HOST)), [("starttls.ok", Status.PASS)], id="valid"),
        pytest.param(
            _probe(outcome=ConnectOutcome.REFUSED),
            [("starttls.unreachable", Status.ERROR)],
            id="refused",
        ),
        pytest.param(
            _probe(outcome=ConnectOutcome.TIMEOUT),
            [("starttls.unreachable", Status.ERROR)],
            id="timeout",
        ),
        pytest.param(
            _probe(banner="421 busy", banner_code=421, outcome=ConnectOutcome.REFUSED),
            [("starttls.unreachable", Status.ERROR)],
            id="421-greeting",
        ),
        pytest.param(
            _probe(banner="220 hi", banner_code=220, outcome=ConnectOutcome.PROTOCOL_ERROR),
            [("starttls.unreachable", Status.ERROR)],
            id="dropped-before-ehlo",
        ),
        pytest.param(
            _probe(banner_code=220, starttls_offered=False),
            [("starttls.not_offered", Status.FAIL)],
            id="not-offered",
        ),
        pytest.param(
            _probe(banner_code=220, starttls_offered=True, starttls_reply="454 TLS not available"),
            [("starttls.failed", Status.FAIL)],
            id="454",
        ),
        pytest.param(
            _tls_probe(CA.issue_expired(HOST)),
            [("starttls.cert_expired", Status.WARN)],
            id="expired",
        ),
        pytest.param(
            _tls_probe(CA.issue("other.example.com")),
            [("starttls.cert_name_mismatch", Status.WARN)],
            id="wrong-name",
        ),
        pytest.param(
            _tls_probe(CA.issue(HOST, self_signed=True)),
            [("starttls.cert_untrusted", Status.WARN)],
            id="self-signed",
        ),
        pytest.param(
            _tls_probe(CA.issue(HOST), version="TLSv1"),
            [("starttls.tls_version_old", Status.WARN)],
            id="tls1.0",
        ),
        pytest.param(
            _tls_probe(CA.issue(HOST, not_after=NOW + dt.timedelta(days=5))),
            [("starttls.cert_expiring", Status.WARN)],
            id="expiring",
        ),
    ],
)
def test_starttls_findings(obs: SmtpObservation, expected: list[tuple[str, Status]]) -> None:
    """Each probe outcome maps to its code; unreachable is never "not offered"."""
    assert _codes(obs) == expected


def test_certificate_problems_fail_for_authenticated_hosts() -> None:
    """With MTA-STS or DANE covering the MX, an invalid certificate is a failure."""
    assert _codes(_tls_probe(CA.issue_expired(HOST)), strict=True) == [
        ("starttls.cert_expired", Status.FAIL)
    ]


def test_skipped_when_smtp_probes_are_off() -> None:
    """--no-smtp yields a not-applicable result, not a failure."""
    assert evaluate_starttls([], probed=False).status is Status.NOT_APPLICABLE


def _tlsa(records: tuple[TlsaRecord, ...], dnssec: Dnssec) -> DnsAnswer:
    return DnsAnswer(f"_25._tcp.{HOST}", "TLSA", DnsOutcome.OK, records, dnssec=dnssec)


def _spki_record(issued: IssuedCert) -> TlsaRecord:
    leaf = x509.load_pem_x509_certificate(issued.cert_pem)
    return TlsaRecord(3, 1, 1, hashlib.sha256(spki_der(leaf)).digest())


def test_dane_match_and_mismatch() -> None:
    """A 3 1 1 record of the presented key matches; one of another key fails with a fix."""
    cert = CA.issue(HOST)
    good = DaneHost(
        HOST, Dnssec.SECURE, _tlsa((_spki_record(cert),), Dnssec.SECURE), (_tls_probe(cert),)
    )
    result = evaluate_dane("example.com", Dnssec.SECURE, [good])
    assert [f.code for f in result.findings] == ["dnssec.secure", "dane.tlsa.match"]
    assert dane_deployed(result)

    other = _spki_record(CA.issue(HOST))
    bad = DaneHost(HOST, Dnssec.SECURE, _tlsa((other,), Dnssec.SECURE), (_tls_probe(cert),))
    mismatch = evaluate_dane("example.com", Dnssec.SECURE, [bad]).findings[-1]
    assert mismatch.code == "dane.tlsa.mismatch"
    assert mismatch.fix is not None
    assert "3 1 1 " + _spki_record(cert).data.hex() in mismatch.fix


def test_dane_ta_matches_issuer_in_chain() -> None:
    """A DANE-TA 2 0 1 record matches the CA certificate when it is in the presented chain."""
    cert = CA.issue(HOST)
    chain_cert = IssuedCert(cert.cert_pem, CA.cert_pem, cert.key_pem)
    record = TlsaRecord(2, 0, 1, hashlib.sha256(CA.cert.public_bytes(Encoding.DER)).digest())
    host = DaneHost(HOST, Dnssec.SECURE, _tlsa((record,), Dnssec.SECURE), (_tls_probe(chain_cert),))
    assert (
        evaluate_dane("example.com", Dnssec.SECURE, [host]).findings[-1].code == "dane.tlsa.match"
    )


@pytest.mark.parametrize(
    ("host", "code"),
    [
        pytest.param(DaneHost(HOST, Dnssec.INSECURE, None), "dane.tlsa.missing", id="not-queried"),
        pytest.param(
            DaneHost(
                HOST, Dnssec.SECURE, _tlsa((TlsaRecord(3, 1, 1, b"x" * 32),), Dnssec.INSECURE)
            ),
            "dane.tlsa.insecure",
            id="unsigned-tlsa",
        ),
        pytest.param(
            DaneHost(HOST, Dnssec.SECURE, _tlsa((TlsaRecord(1, 1, 1, b"x" * 32),), Dnssec.SECURE)),
            "dane.tlsa.unusable",
            id="pkix-usage",
        ),
        pytest.param(  # RFC 6698 §4.1: a digest of the wrong size makes the record unusable
            DaneHost(HOST, Dnssec.SECURE, _tlsa((TlsaRecord(3, 1, 1, b"x" * 31),), Dnssec.SECURE)),
            "dane.tlsa.unusable",
            id="short-digest",
        ),
        pytest.param(
            DaneHost(
                HOST, Dnssec.SECURE, DnsAnswer("_25._tcp." + HOST, "TLSA", DnsOutcome.SERVFAIL)
            ),
            "dane.tlsa.lookup_failed",
            id="servfail",
        ),
        pytest.param(DaneHost(HOST, Dnssec.BOGUS, None), "dnssec.bogus", id="bogus-address"),
    ],
)
def test_dane_states(host: DaneHost, code: str) -> None:
    """Missing, unsigned, unusable, failed and bogus TLSA states each have a code."""
    assert evaluate_dane("example.com", Dnssec.SECURE, [host]).findings[-1].code == code


def test_bogus_mx_rrset_fails() -> None:
    """A bogus MX RRset is a DNSSEC failure: validating senders delay all mail."""
    result = evaluate_dane("example.com", Dnssec.BOGUS, [])
    assert [(f.code, f.status) for f in result.findings] == [("dnssec.bogus", Status.FAIL)]


def test_starttls_offered_again_after_tls_warns() -> None:
    """A server listing STARTTLS in its post-TLS EHLO gets a warning (RFC 3207 §4.2)."""
    from dataclasses import replace

    obs = _tls_probe(CA.issue(HOST))
    again = SmtpObservation(replace(obs.probe, ehlo_keywords_after_tls=("STARTTLS",)), obs.verdict)
    assert [code for code, _ in _codes(again)] == ["starttls.offered_after_tls", "starttls.ok"]


def test_421_greeting_is_reported_as_greeting() -> None:
    """The 421 banner, not "connection refused", is given as the reason."""
    obs = _probe(banner="421 busy", banner_code=421, outcome=ConnectOutcome.REFUSED)
    (item,) = evaluate_starttls([obs]).findings
    assert "greeted with 421" in item.message
