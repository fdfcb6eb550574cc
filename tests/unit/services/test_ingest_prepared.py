"""Rows built for a report file are those built for the same file as an arrival."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailshield.core.documents.tls_report import parse_tls_report
from mailshield.services.ingest_model import Arrival, Channel, IngestOptions
from mailshield.services.ingest_prepared import prepare_arrival, prepare_file

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
AT = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "name",
    [
        "conformant.json",
        "conformant.json.gz",
        "quirks.json",
        "microsoft.json",
        "broken-bad-json.json",
    ],
)
def test_prepare_file_equals_prepare_arrival(name: str) -> None:
    """A report file gives the rows of a file arrival from that path (or none for both)."""
    path = str(CORPUS / name)
    data = (CORPUS / name).read_bytes()
    parsed = parse_tls_report(data)
    options = IngestOptions()
    arrival = Arrival(Channel.FILE, source=path, received_at=AT)
    expected = prepare_arrival(data, parsed, arrival, options)
    assert prepare_file(data, parsed, path, AT, options) == expected
    assert (expected is None) == (parsed.report is None)


@pytest.mark.parametrize(
    "options",
    [IngestOptions(max_bytes=10), IngestOptions(gated=frozenset({Channel.FILE}))],
    ids=["oversize", "gated"],
)
def test_prepare_file_leaves_what_the_intake_decides(options: IngestOptions) -> None:
    """An oversize report, or one from a gated channel, is left to the intake (no rows)."""
    data = (CORPUS / "conformant.json").read_bytes()
    assert prepare_file(data, parse_tls_report(data), "r.json", AT, options) is None
