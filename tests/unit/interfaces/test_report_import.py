"""The import's parse-ahead: work started on guessed options is kept or redone on confirm."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from mailshield.interfaces.cli import report_import
from mailshield.interfaces.cli.report_files import ReportFile
from mailshield.interfaces.cli.report_import import ParseAhead
from mailshield.services.ingest_model import IngestOptions
from mailshield.storage.report_prepared import PreparedReport

CORPUS = Path(__file__).parents[2] / "data" / "tlsrpt"
NAMES = ("google.json", "microsoft.json", "broken-bad-json.json", "conformant.json.gz")


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """Two forked worker processes, as the import starts them."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as executor:
        yield executor


def files() -> list[ReportFile]:
    return [ReportFile(str(CORPUS / name), "report") for name in NAMES]


def kinds(ahead: ParseAhead) -> list[str]:
    """``prepared`` or ``parsed`` for each file, in order."""
    return [
        "prepared" if isinstance(result, PreparedReport) else "parsed"
        for _, results in ahead.results()
        for result in results
    ]


@pytest.mark.parametrize(
    ("options", "prepare", "expected"),
    [
        pytest.param(
            IngestOptions(), True, ["prepared", "prepared", "parsed", "prepared"], id="guess-right"
        ),
        pytest.param(IngestOptions(), False, ["parsed"] * 4, id="postgresql"),
        pytest.param(
            IngestOptions.for_max_bytes(500),
            True,
            ["parsed"] * 4,
            id="smaller-cap",
        ),
    ],
)
def test_confirm_keeps_or_redoes(
    pool: ProcessPoolExecutor, options: IngestOptions, prepare: bool, expected: list[str]
) -> None:
    """Results always follow the confirmed options: rows only for SQLite and within the cap."""
    ahead = ParseAhead(pool, files(), IngestOptions(), prepare=True)
    ahead.confirm(options, prepare=prepare)
    assert kinds(ahead) == expected


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (0, []),
        (7, [7]),
        (300, [128, 128, 44]),
        (2048, [256, 512, 512, 256, 256, 128, 128]),
        (5000, [256, 512, 1024, 1024, 1024, 512, 256, 128, 128, 128, 8]),
    ],
    ids=["none", "few", "small", "two-thousand", "many"],
)
def test_store_chunks_grow_then_shrink_towards_the_end(count: int, sizes: list[int]) -> None:
    """Committing tasks take every path once, in order, in chunks that double from the start
    and halve near the end."""
    paths = [f"r{number:05d}.json" for number in range(count)]
    chunks = report_import._store_chunks(paths)
    assert [len(chunk) for chunk in chunks] == sizes
    assert [path for chunk in chunks for path in chunk] == paths
