"""Resuming bulk check output: an interrupted run's unfinished line is cut, and only complete
report lines count as done."""

from pathlib import Path

import pytest

from mailshield.interfaces.cli.render import csv_header, csv_text
from mailshield.interfaces.cli.resume import _CHUNK, done_domains, drop_partial_line

HEADER = csv_text([csv_header()])
ROW = csv_text([["a.test", "90", "A", "pass", *["pass"] * 9, "", ""]])


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        pytest.param("", "", id="empty"),
        pytest.param('{"domain": "a.test"}\n', '{"domain": "a.test"}\n', id="complete"),
        pytest.param('{"domain": "a.test"}\n{"dom', '{"domain": "a.test"}\n', id="cut-json"),
        pytest.param(HEADER + ROW + "b.test,6", HEADER + ROW, id="cut-csv-row"),
        pytest.param("domain,sc", "", id="cut-header"),
        pytest.param("x" * (3 * _CHUNK), "", id="long-line-no-newline"),
        pytest.param("a\n" + "x" * (2 * _CHUNK), "a\n", id="newline-chunks-back"),
    ],
)
def test_partial_last_line_is_cut(tmp_path: Path, text: str, kept: str) -> None:
    """Everything up to the last newline stays; an unfinished last line goes."""
    output = tmp_path / "out"
    output.write_text(text, encoding="utf-8")
    drop_partial_line(output)
    assert output.read_text(encoding="utf-8") == kept


def test_missing_output_is_left_alone(tmp_path: Path) -> None:
    """No file, nothing to cut (and nothing is created)."""
    drop_partial_line(tmp_path / "none")
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    ("fmt", "text", "done"),
    [
        pytest.param(
            "jsonl",
            '{"domain": "a.test"}\n{"domain": "b.test"}\n',
            {"a.test", "b.test"},
            id="jsonl",
        ),
        pytest.param("jsonl", '{"domain": "a.test"}\n{"domain": "b.', {"a.test"}, id="jsonl-cut"),
        pytest.param("jsonl", '[1]\n"a.test"\n{"domain": 5}\n', set(), id="jsonl-not-reports"),
        pytest.param("csv", HEADER + ROW, {"a.test"}, id="csv"),
        pytest.param("csv", HEADER + ROW + "b.test,6,D\n", {"a.test"}, id="csv-short-row"),
        pytest.param("csv", HEADER, set(), id="csv-header-only"),
    ],
)
def test_done_domains_need_a_complete_line(
    tmp_path: Path, fmt: str, text: str, done: set[str]
) -> None:
    """A domain is done only when its report line is complete."""
    output = tmp_path / f"out.{fmt}"
    output.write_text(text, encoding="utf-8")
    assert done_domains(output, fmt) == done
