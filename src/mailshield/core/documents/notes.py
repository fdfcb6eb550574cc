"""Collecting parse notes: one finding per kind of deviation, however often it occurs.

A report with 10,000 failure rows that all omit ``receiving-ip`` yields one note with
``count=10000`` and the first place it was seen as its subject, not 10,000 notes. Notes are
grouped by finding code plus an optional ``group`` (usually the field name).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailshield.core.findings import FindingSpec, finding
from mailshield.core.model import Finding, JSONValue

__all__ = ["NoteLog"]


@dataclass(slots=True)
class _Entry:
    spec: FindingSpec
    where: str
    params: dict[str, JSONValue]
    count: int = 1


@dataclass(slots=True)
class NoteLog:
    """An ordered, de-duplicated log of parse notes."""

    _entries: dict[tuple[str, str], _Entry] = field(default_factory=dict)

    def add(
        self, spec: FindingSpec, where: str, group: str = "", times: int = 1, **params: JSONValue
    ) -> None:
        """Record ``times`` occurrences of ``spec`` at ``where`` (a JSON path or header name).

        The first occurrence of a (code, group) keeps its place and params; later ones only
        raise the count.
        """
        key = (spec.code, group)
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = _Entry(spec, where, params, times)
        else:
            entry.count += times

    def findings(self) -> tuple[Finding, ...]:
        """The notes as findings, in order of first occurrence, each with its ``count``."""
        return tuple(
            finding(entry.spec, entry.where, **entry.params, count=entry.count)
            for entry in self._entries.values()
        )

    def __len__(self) -> int:
        return len(self._entries)
