"""Reading one TLS-RPT member at a time and noting what had to be changed (RFC 8460 §4.4).

:class:`FieldReader` wraps the pure readers of ``tls_report_values`` with the note log, the
limits and per-report caches: a well-formed IP address or host name seen once is looked up in a
dict afterwards. ``here`` is always the JSON path the value was read from; it becomes a note's
subject.
"""

from __future__ import annotations

from typing import Any

from mailshield.core.catalogue import tls_report as note
from mailshield.core.documents.notes import NoteLog
from mailshield.core.documents.tls_report_model import FailureReason, ParseFailure, ReportLimits
from mailshield.core.documents.tls_report_values import (
    Quirk,
    canonical_ip,
    normalise_host,
    read_count,
)
from mailshield.core.findings import FindingSpec

__all__ = ["FieldReader", "json_kind", "shown"]

_HOST_NOTES = {
    Quirk.TRAILING_DOT: note.DOMAIN_TRAILING_DOT,
    Quirk.U_LABEL: note.DOMAIN_U_LABEL,
    Quirk.INVALID: note.DOMAIN_INVALID,
}


class FieldReader:
    """Member readers for one report: each returns a clean value and notes any deviation."""

    def __init__(self, limits: ReportLimits, notes: NoteLog) -> None:
        self.limits = limits
        self.max_length = limits.max_string_length
        self.notes = notes
        self.ips: dict[str, str] = {}
        self.hosts: dict[str, str] = {}

    def fail(self, reason: FailureReason, detail: str) -> ParseFailure:
        return ParseFailure(reason, detail, self.notes.findings())

    def string_list(self, value: Any, here: str, field: str) -> tuple[str, ...] | ParseFailure:
        if not isinstance(value, list):
            self.notes.add(
                note.FIELD_WRONG_TYPE, here, group=field, field=field, type=json_kind(value)
            )
            return ()
        if len(value) > self.limits.max_list_items:
            return self.fail(
                FailureReason.TOO_LARGE,
                f"{field} at {here} has {len(value)} entries,"
                f" more than the limit of {self.limits.max_list_items}",
            )
        texts = []
        for item in value:
            text = self.text(item, here, field)
            if text is not None:
                texts.append(text)
        return tuple(texts)

    def ip(self, value: Any, here: str, field: str) -> str | None:
        if type(value) is str:
            known = self.ips.get(value)
            if known is not None:
                return known
            canonical = canonical_ip(value) if len(value) <= 64 else None
            if canonical is not None:  # a new, well-formed address: the common case
                self.ips[value] = canonical
                return canonical
        text = self.required_text(value, here, field)
        if text is None:
            return None
        canonical = canonical_ip(text)
        if canonical is None:
            self.notes.add(note.IP_INVALID, f"{here}.{field}", group=field, field=field, value=text)
            return text
        if type(value) is str:
            self.ips[value] = canonical
        return canonical

    def mx_hostname(self, value: Any, here: str) -> str | None:
        if type(value) is str:
            known = self.hosts.get(value)
            if known is not None:
                return known
        text = self.required_text(value, here, "receiving-mx-hostname")
        if text is None:
            return None
        return self.host(text, f"{here}.receiving-mx-hostname", "receiving-mx-hostname")

    def registered(
        self, value: Any, known: frozenset[str], here: str, field: str, unknown: FindingSpec
    ) -> str | None:
        """A registry value (policy-type, result-type): lower-cased when that makes it a known
        one, otherwise kept as sent and noted as unknown; ``None`` when absent."""
        text = self.text(value, here, field)
        if text is None or text in known:
            return text
        folded = text.strip().lower()
        if folded in known:
            self.notes.add(
                note.VALUE_UPPER_CASE, here, group=field, field=field, value=text, normal=folded
            )
            return folded
        self.notes.add(unknown, here, group=text, value=text)
        return text

    def host(self, text: str, here: str, field: str, wildcard: bool = False) -> str:
        name, quirk = normalise_host(text, wildcard)
        if quirk is Quirk.NONE:  # checked first: hashing an Enum member runs Python code
            if not wildcard:
                self.hosts[text] = name
            return name
        spec = _HOST_NOTES.get(quirk)
        if spec is None:
            if not wildcard:
                self.hosts[text] = name
        else:
            self.notes.add(spec, here, group=field, field=field, value=text, alabel=name)
        return name

    def count(self, value: Any, here: str, field: str) -> int:
        number, quirk = read_count(value)
        if quirk is Quirk.MISSING:
            self.notes.add(note.COUNT_MISSING, here, group=field, field=field)
        elif quirk is Quirk.NOT_INTEGER:
            self.notes.add(
                note.COUNT_NOT_INTEGER,
                f"{here}.{field}",
                group=field,
                field=field,
                value=shown(value),
                number=number,
            )
        elif quirk is Quirk.INVALID:
            self.notes.add(
                note.COUNT_INVALID, f"{here}.{field}", group=field, field=field, value=shown(value)
            )
        return number

    def required_text(self, value: Any, here: str, field: str) -> str | None:
        """A field the RFC does not mark optional; absence is noted."""
        if value is None:
            self.notes.add(note.FIELD_MISSING, here, group=field, field=field)
            return None
        return self.text(value, f"{here}.{field}", field)

    def optional_text(self, value: Any, here: str, field: str) -> str | None:
        if type(value) is str and value and len(value) <= self.limits.max_string_length:
            return value
        if value is None:
            return None
        return self.text(value, f"{here}.{field}", field)

    def text(self, value: Any, here: str, field: str) -> str | None:
        """A string value: stripped, cut to the length limit; numbers are converted and noted,
        other JSON types and empty strings noted and dropped. ``None`` stays silent."""
        if type(value) is str:  # the common case, decided without further calls
            stripped = value.strip()
            if stripped and len(stripped) <= self.max_length:
                return stripped
        if isinstance(value, str):
            stripped = value.strip()
            if stripped:
                return self.clip(stripped, here, field)
            self.notes.add(note.FIELD_EMPTY, here, group=field, field=field)
            return None
        if value is None:
            return None
        self.notes.add(note.FIELD_WRONG_TYPE, here, group=field, field=field, type=json_kind(value))
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.clip(repr(value), here, field)
        return None

    def clip(self, text: str, here: str, field: str) -> str:
        limit = self.limits.max_string_length
        if len(text) <= limit:
            return text
        self.notes.add(note.FIELD_TRUNCATED, here, group=field, field=field, limit=limit)
        return text[:limit]


def json_kind(value: Any) -> str:
    """The JSON type name of a parsed value, for notes and failure details."""
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else "number"
    )


def shown(value: Any) -> Any:
    """A short JSON-able rendering of a raw value for a note's params."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:80]
