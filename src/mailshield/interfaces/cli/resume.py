"""Resuming a bulk ``mailshield check``: which domains an earlier run's output already holds.

An interrupted run leaves complete lines and, at worst, one unfinished last line (reports are
written a line at a time and flushed). That line is cut off before new reports are appended, so
they start on a line of their own, and a domain counts as done only with a complete line: a JSON
object with its ``domain``, or a CSV row with every column.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from mailshield.interfaces.cli.render import csv_header

_CHUNK = 64 * 1024


def drop_partial_line(output: Path) -> None:
    """Cut an unfinished last line (no newline after it) off ``output``; reads from the end."""
    if not output.exists():
        return
    with output.open("rb+") as handle:
        end = handle.seek(0, os.SEEK_END)
        position = end
        while position > 0:
            start = max(0, position - _CHUNK)
            handle.seek(start)
            chunk = handle.read(position - start)
            if position == end and chunk.endswith(b"\n"):
                return  # every line is complete
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                handle.truncate(start + newline + 1)
                return
            position = start
        handle.truncate(0)


def done_domains(output: Path, fmt: str) -> set[str]:
    """Domains with a complete report line in an earlier run's ``output`` (jsonl or csv)."""
    if not output.exists():
        return set()
    with output.open(encoding="utf-8", errors="replace") as lines:
        names = (_csv_domain(line) if fmt == "csv" else _json_domain(line) for line in lines)
        return {name for name in names if name}


def _json_domain(line: str) -> str | None:
    try:
        report = json.loads(line)
    except json.JSONDecodeError:
        return None  # a line cut short: check that domain again
    domain = report.get("domain") if isinstance(report, dict) else None
    return domain if isinstance(domain, str) else None


def _csv_domain(line: str) -> str | None:
    row = next(csv.reader([line]), [])
    if len(row) != len(csv_header()) or row[0] == "domain":
        return None  # the header, or a row cut short
    return row[0].strip() or None
