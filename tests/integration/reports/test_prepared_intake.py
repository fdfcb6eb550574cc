"""``ReportIntake.submit_prepared_many``: rows built ahead answer like parsed reports, and rows
that cannot be written are quarantined with their bytes, never lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailshield.core.documents.tls_report import parse_tls_report
from mailshield.services.ingest import Arrival, Channel, Disposition, IngestOptions, ReportIntake
from mailshield.services.ingest_prepared import prepare_arrival
from mailshield.storage import Database
from mailshield.storage.report_prepared import PreparedReport
from mailshield.storage.report_queries import DomainsTable
from mailshield.storage.reports import ReportStore, Written

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
NOW = datetime(2024, 5, 2, 6, 0, tzinfo=UTC)
NAMES = ("google.json", "microsoft.json", "google.json", "conformant.json.gz")


def prepared(intake: ReportIntake, *names: str) -> list[PreparedReport]:
    """Rows for corpus files, as the import's worker processes build them."""
    items = []
    for name in names:
        data = (CORPUS / name).read_bytes()
        arrival = Arrival(Channel.FILE, source=name, received_at=NOW)
        item = prepare_arrival(data, parse_tls_report(data), arrival, intake.options)
        assert item is not None
        items.append(item)
    return items


def sqlite_only(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("prepared rows are SQLite's")


async def test_prepared_answers_like_parsed(intake: ReportIntake, migrated: Database) -> None:
    """Stored, copy counted, with the report's identity: the same outcomes as parsed input."""
    sqlite_only(migrated)
    outcomes = await intake.submit_prepared_many(prepared(intake, *NAMES))
    assert [o.disposition for o in outcomes] == [
        Disposition.STORED,
        Disposition.STORED,
        Disposition.DUPLICATE,
        Disposition.STORED,
    ]
    google = parse_tls_report((CORPUS / "google.json").read_bytes()).report
    assert google is not None
    assert (outcomes[0].organization, outcomes[0].report_key) == (
        google.organization_name,
        google.report_id,
    )
    assert outcomes[2].copies == 2
    assert outcomes[2].report_id == outcomes[0].report_id


class RowsFail(ReportStore):
    """A store whose writes of prepared rows fail (a broken row, a full disk …)."""

    async def write(self, decisions: Sequence[object]) -> list[Written]:  # type: ignore[override]
        if any(isinstance(d, PreparedReport) for d in decisions):
            raise RuntimeError("no room for rows")
        return await super().write(decisions)  # type: ignore[arg-type]


async def test_unwritable_rows_are_quarantined(migrated: Database) -> None:
    """Each report whose rows cannot be stored is kept in quarantine with its raw bytes."""
    sqlite_only(migrated)
    intake = ReportIntake(RowsFail(migrated), DomainsTable(migrated), IngestOptions())
    try:
        outcomes = await intake.submit_prepared_many(prepared(intake, "google.json"))
        [outcome] = outcomes
        assert outcome.disposition is Disposition.QUARANTINED
        assert outcome.reason == "store_error"
        assert outcome.raw_id is not None
        raw = await intake.store.raw(outcome.raw_id)
        assert raw is not None
        assert raw.data == (CORPUS / "google.json").read_bytes()
    finally:
        await intake.aclose()


async def test_takes_prepared_only_on_sqlite(intake: ReportIntake, migrated: Database) -> None:
    """The intake says whether it can store prepared rows: on SQLite only."""
    assert intake.takes_prepared is (migrated.dialect == "sqlite")
