"""Finding report files for ``mailshield reports import`` and reading what is in them.

A file's kind comes from its name when the name says it (RFC 8460 §5.1: ``.json``,
``.json.gz``; ``.eml`` messages; ``.mbox`` mailboxes), else from its first bytes: gzip or zip
magic or ``{`` is a report, ``From `` starts an mbox, a header line starts a message. Anything
else is skipped (and counted as skipped, never silently). Folders are walked recursively in
name order; hidden files are skipped. Paths are kept as strings: making a ``Path`` of each of
10,000 files costs more than reading the folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from mailshield.core.documents.tls_report import ReportLimits, TlsReportParse, parse_tls_report

__all__ = ["ReportFile", "find_report_files", "kind_of", "parse_file", "read_items"]

_REPORT_SUFFIXES = (".json", ".json.gz", ".gz", ".zip")
_MESSAGE_SUFFIXES = (".eml",)
_MBOX_SUFFIXES = (".mbox", ".mbx")
_READ_SIZE = 1 << 16  # bytes per read system call
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]")  # RFC 5322 §2.2 field-name ":"


class ReportFile(NamedTuple):
    """A file to import (its path as given, or below a folder given) and its kind:
    ``report``, ``message``, ``mbox`` or ``skip``."""

    path: str
    kind: str


def find_report_files(paths: Iterable[Path]) -> Iterator[ReportFile]:
    """Every file under ``paths`` (folders recursively, sorted), with its kind."""
    for path in paths:
        if path.is_dir():
            yield from _walk(str(path))
        else:
            yield ReportFile(str(path), kind_of(str(path)))


def _walk(folder: str) -> list[ReportFile]:
    """The files below ``folder`` in path order, hidden names (and what is below them) left out.

    Depth first, each folder's entries in name order (what sorting the whole paths by their
    parts gives). One ``scandir`` per folder: its entries know whether they are files without
    a ``stat`` per file, and their names give most kinds without opening the file.
    """
    found: list[ReportFile] = []
    pending = [_entries(folder)]  # per folder being walked: its entries still to visit
    while pending:
        entries = pending[-1]
        if not entries:
            pending.pop()
            continue
        entry = entries.pop()
        if entry.is_dir(follow_symlinks=False):
            pending.append(_entries(entry.path))
        elif entry.is_file():
            found.append(ReportFile(entry.path, _kind(entry.name.lower(), entry.path)))
    return found


def _entries(folder: str) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` that are not hidden, last name first (popped in order)."""
    with os.scandir(folder) as scan:
        entries = [entry for entry in scan if not entry.name.startswith(".")]
    entries.sort(key=_name, reverse=True)
    return entries


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def kind_of(path: str) -> str:
    """The kind of ``path`` from its name, else from its first bytes."""
    return _kind(os.path.basename(path).lower(), path)


def _kind(name: str, path: str) -> str:
    """The kind of the file at ``path`` from its lower-cased ``name``, else its first bytes."""
    if name.endswith(_REPORT_SUFFIXES):
        return "report"
    if name.endswith(_MESSAGE_SUFFIXES):
        return "message"
    if name.endswith(_MBOX_SUFFIXES):
        return "mbox"
    with open(path, "rb") as handle:
        head = handle.read(256)
    return sniff(head)


def sniff(head: bytes) -> str:
    """The kind of a file that starts with ``head``."""
    if head[:2] == b"\x1f\x8b" or head[:4] == b"PK\x03\x04" or head.lstrip()[:1] == b"{":
        return "report"
    if head.startswith(b"From "):
        return "mbox"
    if _HEADER_LINE.match(head):
        return "message"
    return "skip"


def read_items(file: ReportFile) -> Iterator[tuple[str, bytes]]:
    """``(kind, bytes)`` for each report or message in ``file`` (one, or one per mbox message)."""
    if file.kind == "mbox":
        import mailbox  # rare: loaded only for a mailbox

        box = mailbox.mbox(file.path, create=False)
        try:
            for key in box.iterkeys():
                yield "message", box.get_bytes(key)
        finally:
            box.close()
    elif file.kind in ("report", "message"):
        yield file.kind, read_file(file.path)


def read_file(path: str) -> bytes:
    """The bytes of the file at ``path``, read with plain system calls (no buffered file
    object: about half the cost for a report of a few KiB)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(descriptor, _READ_SIZE):
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(descriptor)


def parse_file(path: str, limits: ReportLimits) -> tuple[bytes, TlsReportParse]:
    """The bytes of report file ``path`` and their parse (run in worker processes)."""
    data = read_file(path)
    return data, parse_tls_report(data, limits)
