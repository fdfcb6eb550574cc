"""Reports over their life: e-mail intake, reprocessing after a fix, analysis, retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailshield.core.analysis.readiness import ReadinessCriteria
from mailshield.core.documents.tls_report import ReportLimits
from mailshield.services.ingest import (
    Arrival,
    Channel,
    Disposition,
    IngestOptions,
    ReportIntake,
)
from mailshield.services.report_analysis import ReportAnalysis, prune_raw_reports
from mailshield.storage import Database
from mailshield.storage.report_queries import DomainsTable, ReportQueries
from mailshield.storage.reports import ReportStore

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
NOW = datetime(2024, 5, 2, 6, 0, tzinfo=UTC)
SMTP = Arrival(Channel.SMTP, source="192.0.2.7", meta={"dkim": "pass d=google.com"})


@pytest.mark.parametrize(
    ("name", "dispositions"),
    [
        pytest.param("google.eml", ["stored"], id="google"),
        pytest.param("lenient-mixed.eml", ["stored"], id="lenient"),
        pytest.param("plain-body.eml", ["stored"], id="plain-body"),
        pytest.param("two-reports.eml", ["duplicate", "stored"], id="two-parts-one-report"),
    ],
)
async def test_report_emails(intake: ReportIntake, name: str, dispositions: list[str]) -> None:
    """Each report part of a message goes through the pipeline; the message is acknowledged."""
    outcome = await intake.submit_message((CORPUS / name).read_bytes(), SMTP)
    assert sorted(o.disposition.value for o in outcome.outcomes) == dispositions
    assert outcome.durable
    assert not outcome.retry


async def test_message_without_report_is_quarantined_whole(intake: ReportIntake) -> None:
    """A message with no report part is kept, whole, with the reason."""
    message = b"From: a@example.net\r\nSubject: hello\r\n\r\nno report here\r\n"
    outcome = await intake.submit_message(message, SMTP)
    [only] = outcome.outcomes
    assert (only.disposition, only.reason) == (Disposition.QUARANTINED, "email_no_report")
    [entry] = await intake.store.quarantined()
    assert entry.kind == "message"


async def test_reprocess_after_a_limit_fix(migrated: Database) -> None:
    """Quarantined under a too tight limit, the report is stored once the limit is raised."""
    store, known = ReportStore(migrated), DomainsTable(migrated)
    tight = IngestOptions(limits=ReportLimits(max_failure_details=1))
    before = ReportIntake(store, known, tight, clock=lambda: NOW)
    first = await before.submit_report((CORPUS / "conformant.json").read_bytes(), SMTP)
    await before.aclose()
    assert (first.disposition, first.reason) == (Disposition.QUARANTINED, "too_large")
    assert first.raw_id is not None
    after = ReportIntake(store, known, IngestOptions(), clock=lambda: NOW)
    again = await after.reprocess(first.raw_id)
    twice = await after.reprocess(first.raw_id)
    await after.aclose()
    assert again.disposition is Disposition.STORED
    assert twice.detail == "not in quarantine"
    assert await store.quarantined() == []
    raw = await store.raw(first.raw_id)
    assert raw is not None
    assert (raw.state, raw.report_id) == ("stored", again.report_id)


async def test_summary_and_verdict_from_stored_corpus(intake: ReportIntake) -> None:
    """The conformant report alone: exact numbers, and the host mismatch blocks enforce."""
    await intake.submit_report((CORPUS / "conformant.json").read_bytes(), SMTP)
    analysis = ReportAnalysis(ReportQueries(intake.store.database), clock=lambda: NOW)
    summary = await analysis.summary("EXAMPLE.com.", days=3)
    assert (summary.reports, summary.successful, summary.failed) == (1, 4210, 17)
    assert [(c.key, c.failed) for c in summary.by_result_type] == [
        ("certificate-host-mismatch", 12),
        ("starttls-not-supported", 5),
    ]
    verdict = await analysis.readiness("example.com", ReadinessCriteria(days=3))
    assert [b.code for b in verdict.blockers] == ["reports.mx_failing", "reports.mx_failing"]


async def test_retention_deletes_old_raw_bytes_only(intake: ReportIntake) -> None:
    """Raw arrivals older than the retention go; the report and its rows stay."""
    stored = await intake.submit_report((CORPUS / "google.json").read_bytes(), SMTP)
    deleted = await prune_raw_reports(intake.store, 30, now=NOW + timedelta(days=31))
    assert deleted == 1
    assert stored.raw_id is not None
    assert await intake.store.raw(stored.raw_id) is None
    kept = await intake.store.find("Google Inc.", "2024-09-03T00:00:00Z_example.org")
    assert kept is not None


async def test_nul_characters_are_stored(intake: ReportIntake) -> None:
    """A \\u0000 in a report string is stored (PostgreSQL refuses NUL in text)."""
    document = json.loads((CORPUS / "google.json").read_bytes())
    document["organization-name"] = "Nul\u0000Org"
    outcome = await intake.submit_report(json.dumps(document).encode(), SMTP)
    assert outcome.disposition is Disposition.STORED
