"""The check report repository: reports survive a round trip and come back in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from mailshield.core.model import CheckResult, Finding, Report, Status
from mailshield.storage import CheckReports, Database
from mailshield.storage.tables import check_reports

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_report(domain: str = "example.com", at: datetime = T0, score: int = 80) -> Report:
    """A report with findings, evidence and non-ASCII text, like a real one."""
    return Report(
        domain=domain,
        checked_at=at,
        results=(
            CheckResult(
                "mta_sts",
                (
                    Finding(
                        "mta_sts.policy.mode_testing",
                        Status.WARN,
                        "mta-sts.example.com",
                        {"mode": "testing", "max_age": 86400},
                        "Policy in testing mode — not enforced",
                        "mode: enforce",
                    ),
                ),
                {"policy": "version: STSv1\r\nmode: testing\r\n", "ids": ["20260501"]},
            ),
            CheckResult("spf", (Finding("spf.ok", Status.PASS, domain),)),
        ),
        score=score,
        grade="B",
    )


@pytest.fixture
def reports(migrated: Database) -> CheckReports:
    return CheckReports(migrated)


async def test_saved_report_round_trips(reports: CheckReports) -> None:
    """The latest report equals the one saved, findings and evidence included."""
    report = make_report()
    await reports.save(report)
    assert await reports.latest("example.com") == report


async def test_get_by_id(reports: CheckReports) -> None:
    """A saved report can be read back by the id save returned."""
    report = make_report()
    report_id = await reports.save(report)
    assert await reports.get(report_id) == report
    assert await reports.get(report_id + 1000) is None


async def test_latest_of_an_unknown_domain_is_none(reports: CheckReports) -> None:
    """A domain never checked has no latest report."""
    await reports.save(make_report("other.example"))
    assert await reports.latest("example.com") is None


async def test_latest_is_the_newest_check_not_the_last_saved(reports: CheckReports) -> None:
    """Order follows checked_at, whatever order reports were saved in."""
    newer = make_report(at=T0 + timedelta(hours=1), score=90)
    await reports.save(newer)
    await reports.save(make_report(at=T0, score=50))
    assert await reports.latest("example.com") == newer


@pytest.mark.parametrize(
    "asked",
    [
        pytest.param("EXAMPLE.com", id="upper-case"),
        pytest.param("example.com.", id="trailing-dot"),
    ],
)
async def test_lookup_ignores_case_and_trailing_dot(reports: CheckReports, asked: str) -> None:
    """Domain names compare as DNS does: without case, with or without the root dot."""
    await reports.save(make_report("Example.COM"))
    latest = await reports.latest(asked)
    assert latest is not None
    assert latest.domain == "Example.COM"


async def test_history_is_newest_first_and_limited(reports: CheckReports) -> None:
    """History lists reports newest first, no more than asked for."""
    for hour in range(5):
        await reports.save(make_report(at=T0 + timedelta(hours=hour), score=hour))
    history = await reports.history("example.com", limit=3)
    assert [r.score for r in history] == [4, 3, 2]


async def test_history_pages_with_before(reports: CheckReports) -> None:
    """Passing the last checked_at of a page as ``before`` gives the next page."""
    for hour in range(5):
        await reports.save(make_report(at=T0 + timedelta(hours=hour), score=hour))
    first = await reports.history("example.com", limit=2)
    second = await reports.history("example.com", limit=2, before=first[-1].checked_at)
    third = await reports.history("example.com", limit=2, before=second[-1].checked_at)
    assert [r.score for r in first + second + third] == [4, 3, 2, 1, 0]


async def test_before_compares_instants_across_zones(reports: CheckReports) -> None:
    """``before`` in another time zone selects by instant, not by wall-clock digits."""
    await reports.save(make_report(at=T0, score=1))
    await reports.save(make_report(at=T0 + timedelta(hours=1), score=2))
    plus_five = timezone(timedelta(hours=5))
    history = await reports.history(
        "example.com", before=(T0 + timedelta(hours=1)).astimezone(plus_five)
    )
    assert [r.score for r in history] == [1]


async def test_checked_at_comes_back_in_the_reports_zone_and_column_in_utc(
    reports: CheckReports, migrated: Database
) -> None:
    """The report JSON keeps its own timestamp; the indexed column holds the UTC instant."""
    local = T0.astimezone(timezone(timedelta(hours=-7)))
    report_id = await reports.save(make_report(at=local))
    async with migrated.connect() as connection:
        query = select(check_reports.c.checked_at).where(check_reports.c.id == report_id)
        stored = (await connection.execute(query)).scalar_one()
    assert stored == T0
    assert stored.tzinfo is UTC
    latest = await reports.latest("example.com")
    assert latest is not None
    assert latest.checked_at == local


async def test_observations_are_kept_beside_the_report(reports: CheckReports) -> None:
    """Raw observations saved with a report come back unchanged."""
    observations = {
        "dns": [{"name": "_mta-sts.example.com", "rdtype": "TXT", "texts": ["v=STSv1; id=1"]}]
    }
    report_id = await reports.save(make_report(), observations)
    assert await reports.observations(report_id) == observations


async def test_missing_observations_are_null(reports: CheckReports, migrated: Database) -> None:
    """Without observations the column is SQL NULL, not a JSON ``null``."""
    report_id = await reports.save(make_report())
    assert await reports.observations(report_id) is None
    async with migrated.connect() as connection:
        query = select(check_reports.c.id).where(check_reports.c.observations.is_(None))
        assert (await connection.execute(query)).scalars().all() == [report_id]


async def test_naive_checked_at_is_refused(reports: CheckReports) -> None:
    """A report without a time zone cannot be stored."""
    with pytest.raises(StatementError, match="naive datetime"):
        await reports.save(make_report(at=datetime(2026, 5, 1, 12, 0)))
