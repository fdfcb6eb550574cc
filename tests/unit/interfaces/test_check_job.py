"""The per-domain job of a bulk run: it travels pickled to a worker process, and renders each
report as exactly one line of the output format."""

from __future__ import annotations

import csv
import io
import json
import pickle
from datetime import UTC, datetime

from mailshield.core.model import CheckResult, Finding, Report, Status
from mailshield.interfaces.cli.check_job import RenderedCheck, render_line
from mailshield.interfaces.cli.render import csv_header
from mailshield.services.check_settings import CheckSettings

REPORT = Report(
    domain="example.com",
    checked_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    results=(CheckResult("spf", (Finding("spf.all.pass", Status.FAIL, "example.com"),)),),
    score=40,
    grade="F",
)


def test_the_job_survives_pickling() -> None:
    """A worker started by forkserver gets an equal job, settings included."""
    job = RenderedCheck(CheckSettings(resolvers=("127.0.0.1:53",), concurrency=7), ("s1",), "csv")
    assert pickle.loads(pickle.dumps(job)) == job


def test_a_worker_gets_its_share_of_the_per_address_limit() -> None:
    """Spread over three workers, 8 connections per MX address become 2 each; the rest of the
    job is unchanged."""
    job = RenderedCheck(CheckSettings(smtp_per_address=8, concurrency=7), ("s1",), "csv")
    shared = job.shared_by(3)
    assert shared.settings.smtp_per_address == 2
    assert shared.settings.concurrency == 7
    assert (shared.selectors, shared.fmt) == (job.selectors, job.fmt)


def test_jsonl_line_is_the_report() -> None:
    """A JSON Lines line is the whole report on one line, newline-terminated."""
    line = render_line(REPORT, "jsonl")
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert json.loads(line)["domain"] == "example.com"


def test_csv_line_is_one_row_without_header() -> None:
    """A CSV line is the report's row alone: the header is written once, by the writer."""
    line = render_line(REPORT, "csv")
    (row,) = list(csv.reader(io.StringIO(line)))
    assert len(row) == len(csv_header())
    assert (row[0], row[csv_header().index("status")]) == ("example.com", "fail")
