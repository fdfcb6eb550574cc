"""Reports whose storage rows are built before they reach the intake (a bulk import's workers).

A bulk import parses in worker processes; on SQLite the workers also build the rows
(:func:`prepare_arrival`), so the intake's process only deduplicates and inserts them
(:meth:`~mailshield.services.ingest.ReportIntake.submit_prepared_many`). Only what the intake
would keep without looking further qualifies: a parsed report, within the size cap, from a
channel without the domain gate. Everything else goes the usual way.
"""

from __future__ import annotations

from datetime import datetime

from mailshield.core.documents.tls_report import TlsReportParse
from mailshield.services.ingest_model import (
    Arrival,
    Channel,
    Disposition,
    IngestOptions,
    IngestOutcome,
)
from mailshield.storage.report_prepared import PreparedReport, prepare
from mailshield.storage.report_rows import RawArrival, Written

__all__ = ["prepare_arrival", "prepare_file", "prepared_outcome", "stored_instead"]


def prepare_arrival(
    data: bytes, parsed: TlsReportParse, arrival: Arrival, options: IngestOptions
) -> PreparedReport | None:
    """The rows of the report in ``data``, or ``None`` when the intake must decide itself
    (unparseable, over ``max_bytes``, a gated channel, or no arrival time given)."""
    report = parsed.report
    if (
        report is None
        or arrival.received_at is None
        or arrival.channel in options.gated
        or len(data) > options.max_bytes
    ):
        return None
    raw = RawArrival(
        data=data,
        channel=arrival.channel.value,
        received_at=arrival.received_at,
        source=arrival.source,
        content_type=arrival.content_type,
        meta=dict(arrival.meta) or None,
    )
    return prepare(report, raw)


def prepare_file(
    data: bytes, parsed: TlsReportParse, path: str, received_at: datetime, options: IngestOptions
) -> PreparedReport | None:
    """:func:`prepare_arrival` for a report file read at ``received_at`` (a bulk import's
    worker), without building the :class:`Arrival` of each file."""
    report = parsed.report
    if report is None or Channel.FILE in options.gated or len(data) > options.max_bytes:
        return None
    return prepare(report, RawArrival(data, Channel.FILE.value, received_at, source=path))


def prepared_outcome(written: Written | Exception, item: PreparedReport) -> IngestOutcome:
    """The outcome of a prepared report once its write returned (or failed)."""
    if isinstance(written, Exception):
        return IngestOutcome(Disposition.FAILED, f"storage failed: {written}")
    return kept_outcome(written, item.organization, item.report_key, item.domains)


def kept_outcome(
    written: Written, organization: str, report_key: str, domains: tuple[str, ...]
) -> IngestOutcome:
    """The outcome of a parsed report's write: stored, a copy counted, or (when the group
    commit could not write its rows) its bytes kept in quarantine instead."""
    disposition = Disposition(written.state)
    if disposition is Disposition.QUARANTINED:
        return stored_instead(written)
    return IngestOutcome(
        disposition,
        "new report" if disposition is Disposition.STORED else "already stored; copy counted",
        None,
        written.report_id,
        written.raw_id,
        written.copies,
        organization=organization,
        report_key=report_key,
        domains=domains,
    )


def stored_instead(written: Written) -> IngestOutcome:
    """The outcome of a report whose rows could not be written, kept in quarantine instead."""
    return IngestOutcome(
        Disposition.QUARANTINED,
        "the report's rows could not be stored; its bytes are kept in quarantine",
        "store_error",
        written.report_id,
        written.raw_id,
        written.copies,
    )
