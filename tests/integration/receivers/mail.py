"""Report e-mails for the receiver tests: built with the ``email`` package from corpus reports,
signed with dkimpy, and the key published in a lab DNS zone; plus readers of what got stored."""

from __future__ import annotations

import base64
import email.policy
import gzip
import json
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dkim
import dns.name
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from mailshield.lab.zones import Zone, parse_record
from mailshield.storage import Database
from mailshield.storage.report_tables import tlsrpt_raw, tlsrpt_reports

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
SUBMITTER = "sender.example"
SELECTOR = "tlsrpt2024"
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"tls-report-domain",
    b"tls-report-submitter",
)


@dataclass(frozen=True)
class DkimKey:
    """An RSA key pair: the private key as dkimpy wants it, the record to publish."""

    private_pem: bytes
    record: str

    @classmethod
    def generate(cls, services: str | None = None) -> DkimKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        tags = ["v=DKIM1", "k=rsa"] + ([f"s={services}"] if services else [])
        record = "; ".join([*tags, "p=" + base64.b64encode(public).decode()])
        return cls(private, record)


def key_zone(keys: dict[str, DkimKey], domain: str = SUBMITTER) -> Zone:
    """The lab zone ``domain`` with each key published at ``<selector>._domainkey``."""
    origin = dns.name.from_text(domain)
    zone = Zone(origin)
    lines = [
        "@ 300 SOA ns1 hostmaster 1 3600 600 86400 60",
        "@ 300 NS ns1",
        "ns1 300 A 127.0.14.53",
    ]
    for selector, key in keys.items():
        chunks = [key.record[i : i + 200] for i in range(0, len(key.record), 200)]
        quoted = " ".join(f'"{chunk}"' for chunk in chunks)
        lines.append(f"{selector}._domainkey 300 TXT {quoted}")
    for line in lines:
        zone.add(parse_record(line, origin, origin))
    return zone


def report_json(name: str = "conformant.json", changes: dict[str, Any] | None = None) -> bytes:
    """A corpus report, with top-level members replaced (e.g. another ``report-id``)."""
    document = json.loads((CORPUS / name).read_bytes())
    document.update(changes or {})
    return json.dumps(document, indent=2).encode()


def report_message(
    report: bytes | None = None,
    *,
    domain: str = "example.com",
    submitter: str = SUBMITTER,
    recipient: str = "tlsrpt@reports.example.net",
    extra: bytes = b"",
) -> bytes:
    """A report e-mail as RFC 8460 §5.3 describes it: multipart/report with a text part and the
    gzip report; ``extra`` is appended to the message (a tampered body)."""
    report = report_json() if report is None else report
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = f"TLS reporting <tlsrpt-noreply@{submitter}>"
    message["To"] = recipient
    message["Date"] = "Thu, 02 May 2024 03:17:42 +0000"
    message["Message-ID"] = f"<20240501.{domain}.4f1c9a2e@{submitter}>"
    message["Subject"] = f"Report Domain: {domain} Submitter: {submitter}"
    message["TLS-Report-Domain"] = domain
    message["TLS-Report-Submitter"] = submitter
    message.set_content(f"This is an aggregate TLS report from {submitter} for {domain}.\n")
    message.add_attachment(
        gzip.compress(report, mtime=0),
        maintype="application",
        subtype="tlsrpt+gzip",
        filename=f"{submitter}!{domain}!1714521600!1714607999!4f1c9a2e.json.gz",
    )
    message.replace_header("Content-Type", 'multipart/report; report-type="tlsrpt"')
    message.set_boundary("tlsrpt-4f1c9a2e")
    return message.as_bytes() + extra


def sign(
    message: bytes,
    key: DkimKey,
    *,
    selector: str = SELECTOR,
    domain: str = SUBMITTER,
    headers: tuple[bytes, ...] = SIGNED_HEADERS,
    length: bool = False,
) -> bytes:
    """``message`` with a DKIM-Signature (relaxed/relaxed, RFC 6376) prepended."""
    signature = dkim.sign(
        message,
        selector.encode(),
        domain.encode(),
        key.private_pem,
        include_headers=list(headers),
        canonicalize=(b"relaxed", b"relaxed"),
        length=length,
    )
    return bytes(signature) + message


async def stored_reports(db: Database) -> list[dict[str, Any]]:
    """Every stored report row (report-id, copies, channels bit mask)."""
    query = select(tlsrpt_reports.c.report_id, tlsrpt_reports.c.copies, tlsrpt_reports.c.channels)
    async with db.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(query)]


async def raw_rows(db: Database) -> list[dict[str, Any]]:
    """Every raw arrival row: channel, kind, state, reason, metadata."""
    table = tlsrpt_raw
    query = select(
        table.c.channel, table.c.kind, table.c.state, table.c.reason, table.c.meta
    ).order_by(table.c.id)
    async with db.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(query)]
