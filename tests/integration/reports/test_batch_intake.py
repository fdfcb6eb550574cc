"""``ReportIntake.submit_parsed_many``: a bulk import's batch answers like one-by-one submits."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailshield.core.documents.tls_report import TlsReportParse, parse_tls_report
from mailshield.services.ingest import Arrival, Channel, Disposition, IngestOutcome, ReportIntake

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
FILE = Arrival(Channel.FILE, source="bench")


def batch(*names: str) -> list[tuple[bytes, TlsReportParse, Arrival]]:
    """``(bytes, parse, arrival)`` for corpus files, as the import's worker processes give them."""
    items = []
    for name in names:
        data = (CORPUS / name).read_bytes()
        items.append((data, parse_tls_report(data), FILE))
    return items


def dispositions(outcomes: list[IngestOutcome]) -> list[Disposition]:
    return [outcome.disposition for outcome in outcomes]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        pytest.param(
            ("google.json", "microsoft.json"),
            [Disposition.STORED, Disposition.STORED],
            id="new-reports",
        ),
        pytest.param(
            ("google.json", "google.json", "conformant.json", "conformant.json.gz"),
            [Disposition.STORED, Disposition.DUPLICATE, Disposition.STORED, Disposition.DUPLICATE],
            id="copies-in-one-batch",
        ),
        pytest.param(
            ("broken-bad-json.json", "mailru.json"),
            [Disposition.QUARANTINED, Disposition.STORED],
            id="broken-beside-good",
        ),
    ],
)
async def test_batch_outcomes_are_in_order(
    intake: ReportIntake, names: tuple[str, ...], expected: list[Disposition]
) -> None:
    """Each item gets its own outcome, in the order given: stored, counted copy or quarantined."""
    outcomes = await intake.submit_parsed_many(batch(*names))
    assert dispositions(outcomes) == expected


async def test_batch_copy_counts_match_one_by_one(intake: ReportIntake) -> None:
    """A copy in a batch raises the stored report's copy count, like a separate submit."""
    first = await intake.submit_report((CORPUS / "google.json").read_bytes(), FILE)
    outcomes = await intake.submit_parsed_many(batch("google.json", "google.json"))
    assert [o.copies for o in outcomes] == [2, 3]
    assert {o.report_id for o in outcomes} == {first.report_id}


async def test_gated_channel_in_a_batch_is_still_gated(intake: ReportIntake) -> None:
    """A batch from a network channel keeps the domain gate: a foreign report is refused."""
    data = (CORPUS / "google.json").read_bytes().replace(b"example", b"foreign-example")
    items = [(data, parse_tls_report(data), Arrival(Channel.HTTPS, source="192.0.2.1"))]
    outcomes = await intake.submit_parsed_many(items)
    assert dispositions(outcomes) == [Disposition.REFUSED]


async def test_empty_batch_has_no_outcomes(intake: ReportIntake) -> None:
    """Nothing submitted, nothing answered."""
    assert await intake.submit_parsed_many([]) == []
