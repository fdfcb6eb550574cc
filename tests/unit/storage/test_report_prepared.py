"""Prepared report rows: the same values the general writer stores, in plain tuples."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from mailshield.core.documents.tls_report import TlsReport, parse_tls_report
from mailshield.storage.report_prepared import (
    FAILURE_COLUMNS,
    POLICY_COLUMNS,
    RAW_COLUMNS,
    REPORT_COLUMNS,
    json_strings,
    prepare,
    sqlite_datetime,
)
from mailshield.storage.report_rows import (
    STORED,
    KeepReport,
    RawArrival,
    failure_rows,
    policy_rows,
    raw_values,
    report_values,
)
from mailshield.storage.report_tables import (
    tlsrpt_failures,
    tlsrpt_policies,
    tlsrpt_raw,
    tlsrpt_reports,
)

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
GOOD = ("google.json", "microsoft.json", "mailru.json", "quirks.json", "conformant.json.gz")
NOW = datetime(2024, 5, 2, 6, 0, 0, 123456, tzinfo=UTC)


def report_of(name: str) -> tuple[TlsReport, RawArrival]:
    data = (CORPUS / name).read_bytes()
    report = parse_tls_report(data).report
    assert report is not None
    meta = {"filename": name, "nul": "a\x00b"}
    return report, RawArrival(data, "file", NOW, source=f"/in/{name}", meta=meta)


def stored_form(row: dict[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    """``row`` as the general SQLite writer binds it: UTC datetime text, JSON text."""
    out = []
    for name in columns:
        value = row[name]
        if isinstance(value, datetime):
            value = sqlite_datetime(value)
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        out.append(value)
    return tuple(out)


@pytest.mark.parametrize("name", GOOD)
def test_rows_equal_the_general_writers(name: str) -> None:
    """Every prepared value is what the dict-based writer would bind for the same report."""
    report, raw = report_of(name)
    prepared = prepare(report, raw)
    keep = KeepReport(report, raw.channel, raw.received_at, raw=raw)
    assert prepared.report == stored_form(report_values(keep), REPORT_COLUMNS)
    assert prepared.policies == tuple(
        stored_form(row, POLICY_COLUMNS) for row in policy_rows(0, report)
    )
    assert prepared.failures == tuple(
        stored_form(row, FAILURE_COLUMNS) for row in failure_rows(0, report)
    )
    assert prepared.raw == stored_form(raw_values(raw, STORED), RAW_COLUMNS)
    assert prepared.key == report_values(keep)["dedupe_key"]


@pytest.mark.parametrize(
    ("columns", "table", "left_to_the_writer"),
    [
        pytest.param(REPORT_COLUMNS, tlsrpt_reports, {"id"}, id="reports"),
        pytest.param(POLICY_COLUMNS, tlsrpt_policies, {"report_fk"}, id="policies"),
        pytest.param(FAILURE_COLUMNS, tlsrpt_failures, {"id", "report_fk"}, id="failures"),
        pytest.param(RAW_COLUMNS, tlsrpt_raw, {"id", "report_fk"}, id="raw"),
    ],
)
def test_columns_cover_the_table(
    columns: tuple[str, ...], table: Any, left_to_the_writer: set[str]
) -> None:
    """Each tuple fills every column of its table except the ids the writer assigns."""
    assert set(columns) | left_to_the_writer == {column.name for column in table.c}
    assert len(set(columns)) == len(columns)


def test_outcome_fields_and_pickling() -> None:
    """A prepared report names its report for the outcome and survives a process boundary."""
    report, raw = report_of("google.json")
    prepared = prepare(report, raw)
    assert (prepared.organization, prepared.report_key) == (
        report.organization_name,
        report.report_id,
    )
    assert prepared.domains == tuple(sorted({p.domain for p in report.policies if p.domain}))
    assert pickle.loads(pickle.dumps(prepared)) == prepared


@pytest.mark.parametrize("name", ["google.json", "conformant.json.gz"])
def test_arrival_round_trip(name: str) -> None:
    """The raw arrival can be had back from the prepared rows (plain bytes were gzipped)."""
    _, raw = report_of(name)
    report, _ = report_of(name)
    back = prepare(report, raw).arrival()
    assert back == RawArrival(
        raw.data,
        raw.channel,
        raw.received_at,
        raw.kind,
        raw.source,
        None,
        {"filename": name, "nul": "a\ufffdb"},
    )


@given(st.datetimes(timezones=st.just(UTC)))
def test_datetime_text_is_sqlalchemys(moment: datetime) -> None:
    """The stored text is what SQLAlchemy binds for the column, and fixed-width, so comparing
    texts compares instants (a copy's last-seen time)."""
    bind = sqlite.DATETIME().bind_processor(sqlite.dialect())
    assert bind is not None
    text = sqlite_datetime(moment)
    assert text == bind(moment.replace(tzinfo=None))
    assert len(text) == 26


@given(st.lists(st.text()))
def test_json_strings_is_json_dumps(values: list[str]) -> None:
    """The short-cut encoder writes exactly what json.dumps writes for a list of strings."""
    assert json_strings(values) == json.dumps(values)
