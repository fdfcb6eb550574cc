"""The intake pipeline on SQLite and PostgreSQL: the corpus stored, deduplicated, quarantined."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailshield.services.ingest import (
    Arrival,
    Channel,
    Disposition,
    IngestOptions,
    ReportIntake,
)
from mailshield.storage.report_queries import DomainsTable
from mailshield.storage.report_tables import tlsrpt_failures, tlsrpt_policies, tlsrpt_raw
from mailshield.storage.reports import unpack

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"

HTTPS = Arrival(Channel.HTTPS, source="192.0.2.1")

GOOD = [
    pytest.param("rfc8460-appendix-b.json", 1, 3, id="rfc-example"),
    pytest.param("conformant.json", 1, 2, id="conformant"),
    pytest.param("conformant.json.gz", 1, 2, id="conformant-gzip"),
    pytest.param("google.json", 2, 1, id="google"),
    pytest.param("microsoft.json", 2, 1, id="microsoft"),
    pytest.param("mailru.json", 1, 2, id="mailru"),
    pytest.param("quirks.json", 1, 2, id="quirks"),
]

BROKEN = [
    pytest.param("broken-truncated.json.gz", "bad_gzip", id="truncated-gzip"),
    pytest.param("broken-invalid-utf8.json", "not_utf8", id="invalid-utf8"),
    pytest.param("broken-bad-json.json", "bad_json", id="bad-json"),
    pytest.param("broken-top-level-array.json", "wrong_schema", id="top-level-array"),
    pytest.param("broken-missing-policies.json", "wrong_schema", id="missing-policies"),
    pytest.param("broken-missing-report-id.json", "missing_report_id", id="missing-report-id"),
]


async def count(intake: ReportIntake, table: object) -> int:
    async with intake.store.database.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "policies", "details"), GOOD)
async def test_corpus_report_is_stored_with_its_rows(
    intake: ReportIntake, name: str, policies: int, details: int
) -> None:
    """A good report is stored once, with one row per policy and per failure detail."""
    data = (CORPUS / name).read_bytes()
    outcome = await intake.submit_report(data, HTTPS)
    assert outcome.disposition is Disposition.STORED, outcome.detail
    assert outcome.report_id is not None
    assert outcome.raw_id is not None
    assert await count(intake, tlsrpt_policies) == policies
    assert await count(intake, tlsrpt_failures) == details
    raw = await intake.store.raw(outcome.raw_id)
    assert raw is not None
    assert raw.data == data


@pytest.mark.parametrize(("name", "reason"), BROKEN)
async def test_broken_report_is_quarantined_with_reason(
    intake: ReportIntake, name: str, reason: str
) -> None:
    """A report that cannot be parsed is kept, byte for byte, with the parser's reason."""
    data = (CORPUS / name).read_bytes()
    outcome = await intake.submit_report(data, HTTPS)
    assert outcome.disposition is Disposition.QUARANTINED
    assert outcome.reason == reason
    [entry] = await intake.store.quarantined()
    assert (entry.reason, entry.size, entry.channel) == (reason, len(data), "https")
    raw = await intake.store.raw(entry.id)
    assert raw is not None
    assert raw.data == data


async def test_same_report_twice_is_stored_once_and_counted(intake: ReportIntake) -> None:
    """A retry or a copy raises the copies counter and records the channel; no second row."""
    data = (CORPUS / "conformant.json").read_bytes()
    first = await intake.submit_report(data, HTTPS)
    second = await intake.submit_report(gzip.compress(data), Arrival(Channel.SMTP))
    assert first.disposition is Disposition.STORED
    assert second.disposition is Disposition.DUPLICATE
    assert second.report_id == first.report_id
    assert second.copies == 2
    stored = await intake.store.find("Sender Example Inc.", first.report_key or "")
    assert stored is not None
    assert (stored.copies, stored.channels) == (2, ("https", "smtp"))
    assert await count(intake, tlsrpt_raw) == 1


async def test_dedupe_ignores_case_and_spacing_of_the_key(intake: ReportIntake) -> None:
    """(organization-name, report-id) compare folded: case and runs of spaces do not matter."""
    document = json.loads((CORPUS / "google.json").read_bytes())
    await intake.submit_report(json.dumps(document).encode(), HTTPS)
    document["organization-name"] = "GOOGLE   inc."
    again = await intake.submit_report(json.dumps(document).encode(), HTTPS)
    assert again.disposition is Disposition.DUPLICATE


async def test_concurrent_copies_are_stored_once(intake: ReportIntake) -> None:
    """Twenty copies arriving at once end as one report counted twenty times."""
    data = (CORPUS / "microsoft.json").read_bytes()
    outcomes = await asyncio.gather(*(intake.submit_report(data, HTTPS) for _ in range(20)))
    kinds = sorted(o.disposition.value for o in outcomes)
    assert kinds == ["duplicate"] * 19 + ["stored"]
    assert max(o.copies for o in outcomes) == 20


async def test_identical_broken_bytes_are_quarantined_once(intake: ReportIntake) -> None:
    """A sender retrying the same broken bytes raises the quarantined entry's copies."""
    data = (CORPUS / "broken-bad-json.json").read_bytes()
    await intake.submit_report(data, HTTPS)
    again = await intake.submit_report(data, HTTPS)
    assert again.disposition is Disposition.QUARANTINED
    assert again.copies == 2
    assert len(await intake.store.quarantined()) == 1


async def test_report_for_an_unknown_domain_is_refused_and_not_kept(intake: ReportIntake) -> None:
    """Over a network channel, a report naming no served policy domain is refused."""
    document = json.loads((CORPUS / "google.json").read_bytes())
    for policy in document["policies"]:
        policy["policy"]["policy-domain"] = "stranger.example"
    outcome = await intake.submit_report(json.dumps(document).encode(), HTTPS)
    assert outcome.disposition is Disposition.REFUSED
    assert "stranger.example" in outcome.detail
    assert await count(intake, tlsrpt_raw) == 0


async def test_files_are_not_gated(intake: ReportIntake) -> None:
    """An operator's own files are imported whatever domains they name."""
    document = json.loads((CORPUS / "google.json").read_bytes())
    document["policies"][0]["policy"]["policy-domain"] = "stranger.example"
    outcome = await intake.submit_report(json.dumps(document).encode(), Arrival(Channel.FILE))
    assert outcome.disposition is Disposition.STORED


async def test_dane_policy_domain_below_a_served_domain_is_accepted(intake: ReportIntake) -> None:
    """A TLSA policy at an MX host (mx.example.de) counts for the served domain above it."""
    document = json.loads((CORPUS / "microsoft.json").read_bytes())
    document["policies"] = document["policies"][:1]
    outcome = await intake.submit_report(json.dumps(document).encode(), HTTPS)
    assert outcome.disposition is Disposition.STORED
    assert outcome.domains == ("mx.example.de",)


async def test_oversized_input_is_refused_before_parsing(intake: ReportIntake) -> None:
    """Bytes over the cap are refused as too large and nothing is kept."""
    data = b"{" + b" " * (11 * 1024 * 1024) + b"}"
    outcome = await intake.submit_report(data, HTTPS)
    assert outcome.disposition is Disposition.TOO_LARGE
    assert await count(intake, tlsrpt_raw) == 0


async def test_raw_bytes_are_kept_compressed(intake: ReportIntake) -> None:
    """Plain JSON is stored gzip-compressed; a gzip upload is stored as it came."""
    plain = (CORPUS / "conformant.json").read_bytes()
    outcome = await intake.submit_report(plain, HTTPS)
    async with intake.store.database.connect() as connection:
        row = (
            await connection.execute(select(tlsrpt_raw).where(tlsrpt_raw.c.id == outcome.raw_id))
        ).one()
    assert row.encoding == "gzip"
    assert len(row.payload) < len(plain)
    assert unpack(row.encoding, row.payload) == plain


async def test_copies_from_separate_writers_are_stored_once(intake: ReportIntake) -> None:
    """Two receivers (separate writers and transactions) racing with the same report: one row."""
    other = ReportIntake(intake.store, DomainsTable(intake.store.database), IngestOptions())
    data = (CORPUS / "google.json").read_bytes()
    try:
        outcomes = await asyncio.gather(
            *(pipeline.submit_report(data, HTTPS) for _ in range(5) for pipeline in (intake, other))
        )
    finally:
        await other.aclose()
    assert sorted(o.disposition.value for o in outcomes) == ["duplicate"] * 9 + ["stored"]
    stored = await intake.store.find("Google Inc.", "2024-09-03T00:00:00Z_example.org")
    assert stored is not None
    assert stored.copies == 10
