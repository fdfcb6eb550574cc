"""New reports on SQLite: the whole batch in one synchronous call on the driver's connection.

:func:`write_prepared` runs on the thread that owns the ``sqlite3`` connection (one thread
hop for the batch instead of one per statement), inside a write transaction that holds
SQLite's write lock (``BEGIN IMMEDIATE``). With the lock held nobody else inserts, so:

1. the batch's dedupe keys already stored are looked up (``copies`` raised for them, RFC 8460
   §4.4 keys, the same rule as :mod:`~mailshield.storage.report_writes`);
2. each new key gets the next report id, each new arrival the next raw id, so the policies,
   failure details and raw rows are inserted with ``executemany`` without reading ids back;
3. a key that came more than once counts the later ones as copies.

Statements are built once from the column lists of :mod:`~mailshield.storage.report_prepared`.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from mailshield.storage.report_prepared import (
    FAILURE_COLUMNS,
    POLICY_COLUMNS,
    RAW_COLUMNS,
    REPORT_COLUMNS,
    PreparedReport,
)
from mailshield.storage.report_rows import DUPLICATE, STORED, Written
from mailshield.storage.sqlite_plain import immediate_transaction

__all__ = ["write_batch", "write_prepared"]

_LOOKUP_CHUNK = 500  # dedupe keys per IN (...) lookup, below SQLite's host-parameter limit


@cache
def _statements() -> dict[str, str]:
    def insert(table: str, columns: tuple[str, ...]) -> str:
        marks = ", ".join("?" * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608

    return {
        "report": insert("tlsrpt_reports", ("id", *REPORT_COLUMNS)),
        "policy": insert("tlsrpt_policies", ("report_fk", *POLICY_COLUMNS)),
        "failure": insert("tlsrpt_failures", ("report_fk", *FAILURE_COLUMNS)),
        "raw": insert("tlsrpt_raw", ("id", "report_fk", *RAW_COLUMNS)),
        # Copies: count them, OR in their channels, keep the latest arrival (ISO text sorts).
        "copies": (
            "UPDATE tlsrpt_reports SET copies = copies + ?, channels = channels | ?,"
            " last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END"
            " WHERE dedupe_key = ? RETURNING id, copies"
        ),
    }


def write_batch(connection: sqlite3.Connection, batch: Sequence[PreparedReport]) -> list[Written]:
    """:func:`write_prepared` as its own write transaction on a plain connection
    (:mod:`~mailshield.storage.sqlite_plain`): committed when it returns."""
    return immediate_transaction(connection, functools.partial(write_prepared, batch=batch))


def write_prepared(
    connection: sqlite3.Connection, batch: Sequence[PreparedReport]
) -> list[Written]:
    """Insert or count every report of ``batch`` inside the caller's write transaction;
    one :class:`Written` per item, in order."""
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(batch):
        groups.setdefault(item.key, []).append(index)
    stored = _stored_ids(connection, list(groups))
    new = [key for key in groups if key not in stored]
    results: list[Written | None] = [None] * len(batch)
    for index, report_id, raw_id in _insert_new(connection, batch, groups, new):
        results[index] = Written(STORED, report_id, raw_id, 1)
    if len(new) == len(batch):  # every report new and once (nearly every batch): done
        return cast("list[Written]", results)
    for key, indexes in groups.items():
        copies = indexes if key in stored else indexes[1:]
        if copies:
            report_id, total = _count_copies(connection, key, [batch[i] for i in copies])
            for number, index in enumerate(copies, 1):
                results[index] = Written(DUPLICATE, report_id, None, total - len(copies) + number)
    return [written for written in results if written is not None]


def _stored_ids(connection: sqlite3.Connection, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start : start + _LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT dedupe_key, id FROM tlsrpt_reports WHERE dedupe_key IN ({marks})"  # noqa: S608
        found.update(connection.execute(query, chunk).fetchall())
    return found


def _insert_new(
    connection: sqlite3.Connection,
    batch: Sequence[PreparedReport],
    groups: dict[str, list[int]],
    new: list[str],
) -> list[tuple[int, int, int]]:
    """Insert the first arrival of each new key; ``(index, report id, raw id)`` of each."""
    if not new:
        return []
    statements = _statements()
    report_id = _max_id(connection, "tlsrpt_reports")
    raw_id = _max_id(connection, "tlsrpt_raw")
    reports: list[tuple[Any, ...]] = []
    policies: list[tuple[Any, ...]] = []
    failures: list[tuple[Any, ...]] = []
    raws: list[tuple[Any, ...]] = []
    ids: list[tuple[int, int, int]] = []
    for key in sorted(new):
        index = groups[key][0]
        item = batch[index]
        report_id += 1
        raw_id += 1
        reports.append((report_id, *item.report))
        for row in item.policies:
            policies.append((report_id, *row))
        for row in item.failures:
            failures.append((report_id, *row))
        raws.append((raw_id, report_id, *item.raw))
        ids.append((index, report_id, raw_id))
    connection.executemany(statements["report"], reports)
    connection.executemany(statements["policy"], policies)
    connection.executemany(statements["failure"], failures)
    connection.executemany(statements["raw"], raws)
    return ids


def _max_id(connection: sqlite3.Connection, table: str) -> int:
    row = connection.execute(f"SELECT max(id) FROM {table}").fetchone()  # noqa: S608
    return int(row[0] or 0)


def _count_copies(
    connection: sqlite3.Connection, key: str, copies: list[PreparedReport]
) -> tuple[int, int]:
    """Count ``copies`` of the stored report ``key``: ``(report id, copies now)``."""
    bits = 0
    for item in copies:
        bits |= item.report[REPORT_COLUMNS.index("channels")]
    seen = max(item.received_at for item in copies)
    parameters = (len(copies), bits, seen, seen, key)
    [(report_id, total)] = connection.execute(_statements()["copies"], parameters).fetchall()
    return int(report_id), int(total)
