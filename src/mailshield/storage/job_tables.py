"""Tables of the scheduler: one lease row per periodic job."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from mailshield.storage.columns import UTCDateTime
from mailshield.storage.tables import metadata

job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("owner", String(200), nullable=True),  # the worker holding the lease
    Column("leased_until", UTCDateTime(), nullable=True),
    Column("next_run_at", UTCDateTime(), nullable=True),  # NULL: due now
    Column("last_started", UTCDateTime(), nullable=True),
    Column("last_finished", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
)
