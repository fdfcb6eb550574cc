"""Tables of the report area (on the shared mailshield.storage.tables.metadata).

TLS-RPT reports (RFC 8460) as they are kept:

- ``tlsrpt_raw``: the bytes of one arrival, compressed (gzip unless they already were gzip or
  zip), with the channel it came by and what became of it: ``stored`` (the original of a
  report), ``duplicate`` (a quarantined copy that later turned out to be a known report) or
  ``quarantined`` (could not be parsed: ``reason`` and ``detail`` say why; identical bytes that
  arrive again only raise ``copies``). Retention deletes these rows; the normalised rows stay.
- ``tlsrpt_reports``: one row per (organization-name, report-id), enforced by the unique
  ``dedupe_key`` (SHA-256 of the folded pair, RFC 8460 §4.4: report-id is unique per reporter
  only). Copies of a report raise ``copies`` and OR their channel's bit into ``channels``
  (https 1, smtp 2, imap 4, file 8), so concurrent copies can never both be stored.
- ``tlsrpt_policies``: one row per ``policies`` entry, keyed by (report, position).
- ``tlsrpt_failures``: one row per ``failure-details`` entry of a policy.
- ``tlsrpt_quarantine_domains``: the served domains a quarantined arrival was sent for, as far
  as the channel tells without parsing it (``TLS-Report-Domain`` header, RFC 8460 §5.1 file
  name, a ``policy-domain`` found in the broken document, the HTTPS URL path): how the owner of
  a domain finds its quarantined reports. Deleted with the raw row.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from mailshield.storage.columns import UTCDateTime, json_document, row_id
from mailshield.storage.tables import DOMAIN_NAME_LENGTH, metadata

SHA256_HEX = 64

tlsrpt_reports = Table(
    "tlsrpt_reports",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column("dedupe_key", String(SHA256_HEX), nullable=False, unique=True),
    Column("organization_name", Text, nullable=False),
    Column("report_id", Text, nullable=False),
    Column("contact_info", Text, nullable=True),
    Column("start_at", UTCDateTime(), nullable=True),
    Column("end_at", UTCDateTime(), nullable=True),
    # The UTC day the report's sessions count for: start-datetime, else the arrival.
    Column("day_at", UTCDateTime(), nullable=False),
    Column("fingerprint", String(SHA256_HEX), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("copies", Integer, nullable=False),
    Column("channels", Integer, nullable=False),
    Column("notes", json_document(), nullable=False),
)
Index(None, tlsrpt_reports.c.day_at)

tlsrpt_raw = Table(
    "tlsrpt_raw",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("kind", String(16), nullable=False),  # "report" bytes or a whole "message"
    Column("source", Text, nullable=True),
    Column("content_type", Text, nullable=True),
    Column("size", Integer, nullable=False),
    Column("sha256", String(SHA256_HEX), nullable=False),
    Column("encoding", String(16), nullable=False),  # "gzip": we compressed it; "identity"
    Column("payload", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", String(64), nullable=True),
    Column("detail", Text, nullable=True),
    Column("copies", Integer, nullable=False),
    Column("meta", json_document(), nullable=True),
    Column(
        "report_fk",
        row_id(),
        ForeignKey("tlsrpt_reports.id", ondelete="SET NULL"),
        nullable=True,
    ),
)
Index(None, tlsrpt_raw.c.sha256)
Index(None, tlsrpt_raw.c.state, tlsrpt_raw.c.id)
Index(None, tlsrpt_raw.c.received_at)
Index(None, tlsrpt_raw.c.report_fk)

tlsrpt_policies = Table(
    "tlsrpt_policies",
    metadata,
    Column(
        "report_fk",
        row_id(),
        ForeignKey("tlsrpt_reports.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("policy_type", Text, nullable=False),
    Column("policy_domain", String(DOMAIN_NAME_LENGTH), nullable=True),
    Column("policy_strings", json_document(), nullable=False),
    Column("mx_hosts", json_document(), nullable=False),
    Column("successful_sessions", BigInteger, nullable=False),
    Column("failed_sessions", BigInteger, nullable=False),
)
Index(None, tlsrpt_policies.c.policy_domain)

tlsrpt_failures = Table(
    "tlsrpt_failures",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column("report_fk", row_id(), nullable=False),
    Column("position", Integer, nullable=False),
    Column("result_type", Text, nullable=False),
    Column("failed_sessions", BigInteger, nullable=False),
    Column("sending_mta_ip", Text, nullable=True),
    Column("receiving_mx_hostname", Text, nullable=True),
    Column("receiving_mx_helo", Text, nullable=True),
    Column("receiving_ip", Text, nullable=True),
    Column("additional_information", Text, nullable=True),
    Column("failure_reason_code", Text, nullable=True),
    ForeignKeyConstraint(
        ["report_fk", "position"],
        ["tlsrpt_policies.report_fk", "tlsrpt_policies.position"],
        ondelete="CASCADE",
    ),
)
Index(None, tlsrpt_failures.c.report_fk, tlsrpt_failures.c.position)

tlsrpt_quarantine_domains = Table(
    "tlsrpt_quarantine_domains",
    metadata,
    Column(
        "raw_fk",
        row_id(),
        ForeignKey("tlsrpt_raw.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("domain", String(DOMAIN_NAME_LENGTH), primary_key=True),  # A-labels, lower case
)
Index(None, tlsrpt_quarantine_domains.c.domain, tlsrpt_quarantine_domains.c.raw_fk)
