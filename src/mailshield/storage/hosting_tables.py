"""Tables of the hosting area (on the shared mailshield.storage.tables.metadata).

- ``hosted_domains``: one row per hosted MTA-STS domain, owned through ``domains`` (the tenant).
  A name is hosted by one account at a time (``name`` is unique): two tenants cannot both serve
  a policy for the same ``mta-sts.<domain>``. The last verification is kept with it: the state,
  every record check, whether ``mta-sts.<domain>`` points here (the certificate gate reads it,
  no DNS in the request path), the id senders see, and the MX drift flag.
- ``hosted_policies``: every policy version ever served for a domain, never rewritten: the body,
  its id (unique per domain, so an id is never reused) and the times that bound its life, which
  the safe removal time is computed from (RFC 8461 §8.3).
- ``hosting_events``: what happened and when (added, verified, policy changed, MX drift alerts,
  mode changes, removal), newest read first.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mailshield.storage.columns import UTCDateTime, json_document, row_id
from mailshield.storage.tables import DOMAIN_NAME_LENGTH, metadata

POLICY_ID_LENGTH = 32  # RFC 8461 §3.1: 1*32(ALPHA / DIGIT)

hosted_domains = Table(
    "hosted_domains",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column("domain_id", row_id(), ForeignKey("domains.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(DOMAIN_NAME_LENGTH), nullable=False),
    Column("setup", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("extra_mx", json_document(), nullable=False),
    Column("delegation_target", String(DOMAIN_NAME_LENGTH), nullable=True),
    Column("points_here", Boolean(), nullable=False),
    Column("checks", json_document(), nullable=False),
    Column("live_id", String(POLICY_ID_LENGTH), nullable=True),
    Column("verified_at", UTCDateTime(), nullable=True),
    Column("activated_at", UTCDateTime(), nullable=True),
    Column("drift", json_document(), nullable=True),
    Column("removal_started_at", UTCDateTime(), nullable=True),
    Column("delete_after", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("domain_id"),
    UniqueConstraint("name"),
)

hosted_policies = Table(
    "hosted_policies",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column(
        "hosted_domain_id",
        row_id(),
        ForeignKey("hosted_domains.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("policy_id", String(POLICY_ID_LENGTH), nullable=False),
    Column("mode", String(8), nullable=False),
    Column("max_age", Integer(), nullable=False),
    Column("mx", json_document(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("served_from", UTCDateTime(), nullable=False),
    Column("superseded_at", UTCDateTime(), nullable=True),
    Column("txt_published_at", UTCDateTime(), nullable=True),
    Column("txt_live_at", UTCDateTime(), nullable=True),
    UniqueConstraint("hosted_domain_id", "policy_id"),
)

hosting_events = Table(
    "hosting_events",
    metadata,
    Column("id", row_id(), primary_key=True),
    Column(
        "hosted_domain_id",
        row_id(),
        ForeignKey("hosted_domains.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("message", Text(), nullable=False),
    Column("detail", json_document(), nullable=True),
)
Index(None, hosting_events.c.hosted_domain_id, hosting_events.c.at)
