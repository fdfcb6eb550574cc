"""The MTA-STS discovery record at ``_mta-sts.<domain>`` (RFC 8461 §3.1).

::

    sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
    sts-field       = sts-id / sts-extension      ; sts-id is required
    sts-field-delim = *WSP ";" *WSP
    sts-version     = %s"v=STSv1"
    sts-id          = %s"id=" 1*32(ALPHA / DIGIT)

Selection: TXT records not beginning with ``v=STSv1;`` are discarded; exactly one must
remain and parse, else the domain has no available policy. The record must be US-ASCII.
Parsers here never raise: every problem becomes a finding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailshield.core.catalogue import mta_sts as codes
from mailshield.core.findings import finding
from mailshield.core.model import Finding, Status
from mailshield.core.records import version_fields

VERSION = "v=STSv1"
_ID = re.compile(r"[A-Za-z0-9]{1,32}\Z")


@dataclass(frozen=True, slots=True)
class StsRecord:
    """One parsed candidate record; ``id`` is ``None`` when missing or malformed."""

    text: str
    id: str | None
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class StsRecordParse:
    """The outcome of §3.1 selection over every TXT record at ``_mta-sts.<domain>``."""

    record: StsRecord | None  # the single candidate (possibly invalid); None if 0 or >1
    candidates: tuple[str, ...]  # texts beginning with v=STSv1
    ignored: tuple[str, ...]  # every other TXT text at the name (senders ignore them)
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        """A sender would use this record: exactly one candidate and it parses."""
        return self.record is not None and not any(f.status is Status.FAIL for f in self.findings)


def is_valid_id(value: str) -> bool:
    """Whether ``value`` is a valid policy id: 1–32 ASCII letters and digits (§3.1)."""
    return bool(_ID.match(value))


def parse_record(raw: bytes | str, subject: str = "") -> tuple[StsRecord, tuple[Finding, ...]]:
    """Parse one candidate record, reporting every problem; never raises."""
    reading = version_fields.read_record(raw, VERSION, known=("id",))
    text, split = reading.text, reading.fields
    found = [_invalid(subject, problem, text) for problem in reading.problems]
    if split.lenient_version:
        found.append(finding(codes.RECORD_LENIENT_VERSION, subject, record=text))
    record_id = _check_id(split, subject, text, found)
    for name in reading.unknown:
        found.append(finding(codes.RECORD_UNKNOWN_FIELD, subject, field=name))
    found.extend(_invalid(subject, problem, text) for problem in reading.malformed)
    return StsRecord(text, record_id, split.fields), tuple(found)


def _check_id(
    split: version_fields.Fields, subject: str, text: str, found: list[Finding]
) -> str | None:
    value = split.first("id")
    if value is None:
        found.append(_invalid(subject, "the required id field is missing", text))
        return None
    if split.count("id") > 1:
        found.append(
            finding(codes.RECORD_DUPLICATE_FIELD, subject, field="id", count=split.count("id"))
        )
    if not is_valid_id(value):
        problem = f"the id {value!r} must be 1 to 32 letters and digits (no '-', ':', '.' or '_')"
        found.append(_invalid(subject, problem, text))
        return None
    return value


def _invalid(subject: str, problem: str, text: str) -> Finding:
    return finding(codes.RECORD_INVALID, subject, problem=problem, record=text)


def select_record(txts: Iterable[bytes | str], subject: str = "") -> StsRecordParse:
    """Apply the §3.1 selection to every TXT record at the name, then parse the survivor.

    No candidate at all produces no finding here (the evaluator knows whether the name
    exists); near misses (``v=stsv1``, leading spaces, ``v = STSv1``) are reported as invalid
    when no real candidate exists, because senders silently discard them.
    """
    return _select_record(tuple(txts), subject)


@functools.lru_cache(maxsize=1024)  # planners ask again at every DNS level of one check
def _select_record(txts: tuple[bytes | str, ...], subject: str) -> StsRecordParse:
    chosen = version_fields.select(txts, VERSION)
    if len(chosen.candidates) > 1:
        multiple = finding(codes.RECORD_MULTIPLE, subject, count=len(chosen.candidates))
        return StsRecordParse(None, chosen.candidates, chosen.ignored, (multiple,))
    if chosen.chosen is None:
        near = tuple(
            _invalid(subject, f"{t!r} does not begin exactly with '{VERSION};'", t)
            for t in chosen.near_misses
        )
        return StsRecordParse(None, (), chosen.ignored, near)
    record, found = parse_record(chosen.chosen, subject)
    return StsRecordParse(record, chosen.candidates, chosen.ignored, found)
