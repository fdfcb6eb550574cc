"""The ``v=…; name=value`` field grammar shared by the MTA-STS and TLS-RPT TXT records.

RFC 8461 §3.1 and RFC 8460 §3 use the same shape (only the version and the known fields
differ)::

    record      = version 1*(field-delim field) [field-delim]
    field-delim = *WSP ";" *WSP
    field       = known-field / extension
    extension   = ext-name "=" ext-value          ; no WSP around "="
    ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)    ; printable ASCII except "=", ";", SP

Selection (RFC 8461 §3.1, RFC 8460 §3): a TXT record is a candidate when it begins with
``version;``. The ABNF also allows ``version *WSP ";"`` (erratum 6285); such records are
treated as candidates too and flagged, because prefix-matching senders discard them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WSP = " \t"
_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
_EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+\Z")


@dataclass(frozen=True, slots=True)
class Fields:
    """A record split into its fields, with every grammar violation found on the way."""

    fields: tuple[tuple[str, str], ...]  # (name, value) in record order, duplicates kept
    problems: tuple[str, ...]  # each a sentence fragment, e.g. "field 'id = 1' has spaces…"
    lenient_version: bool  # whitespace between the version and the first ";"

    def first(self, name: str) -> str | None:
        """The value of the first field called ``name`` (case-sensitive), if any."""
        return next((v for n, v in self.fields if n == name), None)

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.fields if n == name)


@dataclass(frozen=True, slots=True)
class Selection:
    """Every TXT record at a name, sorted by the selection rule."""

    chosen: bytes | str | None  # the raw record when exactly one candidate remains
    candidates: tuple[str, ...]  # texts of the records that begin with the version
    ignored: tuple[str, ...]  # every other text (senders ignore them)
    near_misses: tuple[str, ...]  # ignored texts that look meant as a record of this kind


def decode_txt(raw: bytes | str) -> tuple[str, bool]:
    """The text of one TXT record and whether it was pure US-ASCII."""
    if isinstance(raw, str):
        return raw, raw.isascii()
    try:
        return raw.decode("ascii"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace"), False


def select(raws: Iterable[bytes | str], version: str) -> Selection:
    """Keep the records that begin with ``version;`` (lenient about WSP before ``;``)."""
    records = list(raws)
    texts = [decode_txt(raw)[0] for raw in records]
    picked = [i for i, t in enumerate(texts) if is_candidate(t, version)]
    ignored = tuple(t for i, t in enumerate(texts) if i not in picked)
    return Selection(
        chosen=records[picked[0]] if len(picked) == 1 else None,
        candidates=tuple(texts[i] for i in picked),
        ignored=ignored,
        near_misses=tuple(t for t in ignored if is_near_miss(t, version)),
    )


def unknown_fields(fields: Fields, known: Iterable[str]) -> list[tuple[str, bool]]:
    """Each distinct unknown field name, in order, with whether its value is a valid
    ``ext-value`` (unknown fields are ignored by senders, malformed ones break the record)."""
    skip = set(known)
    result: list[tuple[str, bool]] = []
    for name, value in fields.fields:
        if name not in skip:
            skip.add(name)
            result.append((name, is_ext_value(value)))
    return result


@dataclass(frozen=True, slots=True)
class Reading:
    """A candidate record read with the shared rules of MTA-STS (RFC 8461 §3.1) and TLS-RPT
    (RFC 8460 §3): its text, fields, every problem that makes it invalid, unknown field names."""

    text: str
    fields: Fields
    problems: tuple[str, ...]  # encoding and field syntax
    unknown: tuple[str, ...]  # well-formed extension fields (ignored by senders)
    malformed: tuple[str, ...]  # problems of malformed extension fields


def read_record(raw: bytes | str, version: str, known: Iterable[str]) -> Reading:
    """Decode, split and check ``raw``: US-ASCII only, field syntax, extension fields."""
    text, is_ascii = decode_txt(raw)
    fields = split_fields(text, version)
    problems = [] if is_ascii else ["it contains non-ASCII characters"]
    problems.extend(fields.problems)
    unknown, malformed = extension_problems(fields, known)
    return Reading(text, fields, tuple(problems), tuple(unknown), tuple(malformed))


def extension_problems(fields: Fields, known: Iterable[str]) -> tuple[list[str], list[str]]:
    """The unknown but well-formed field names (ignored by senders, worth a note) and the
    problems of malformed ones (which break the record)."""
    unknown: list[str] = []
    problems: list[str] = []
    for name, well_formed in unknown_fields(fields, known):
        if well_formed:
            unknown.append(name)
        else:
            problems.append(
                f"the value of {name!r} is empty or holds spaces, '=' or control characters"
            )
    return unknown, problems


def is_candidate(text: str, version: str) -> bool:
    """Whether ``text`` begins with ``version`` then optional WSP then ``;``."""
    if not text.startswith(version):
        return False
    return text[len(version) :].lstrip(_WSP).startswith(";")


def is_near_miss(text: str, version: str) -> bool:
    """Whether ``text`` looks meant as a ``version`` record but is not a candidate.

    Catches wrong case (``v=stsv1``), leading whitespace, spaces around ``=`` and a missing
    ``;`` — records a sender silently discards, so a checker must say why.
    """
    squeezed = re.sub(r"[ \t]+", "", text).lower()
    return squeezed.startswith(version.lower()) and not is_candidate(text, version)


def is_ext_name(name: str) -> bool:
    return bool(_EXT_NAME.match(name))


def is_ext_value(value: str) -> bool:
    return bool(_EXT_VALUE.match(value))


def split_fields(text: str, version: str) -> Fields:
    """Split a candidate record into fields; never raises.

    Field names and values are returned as written; a field whose name is malformed or which
    has no ``=`` is reported and left out. Required fields and field values are the caller's
    to check (each field has its own grammar; use :func:`is_ext_value` for extensions).
    """
    head, sep, rest = text.partition(";")
    problems: list[str] = []
    lenient = head != version and head.rstrip(_WSP) == version
    if head.rstrip(_WSP) != version:
        problems.append(f"it must begin with {version!r}")
    fields: list[tuple[str, str]] = []
    pieces = rest.split(";") if sep else []
    for index, raw in enumerate(pieces):
        piece = raw.strip(_WSP)
        if not piece:
            if index < len(pieces) - 1:
                problems.append("two ';' follow each other with no field between them")
            continue
        field, problem = _split_field(piece)
        if problem:
            problems.append(problem)
        if field:
            fields.append(field)
    return Fields(tuple(fields), tuple(problems), lenient)


def _split_field(piece: str) -> tuple[tuple[str, str] | None, str | None]:
    name, eq, value = piece.partition("=")
    if not eq:
        return None, f"the field {piece!r} has no '='"
    problem = None
    if name != name.rstrip(_WSP) or value != value.lstrip(_WSP):
        problem = f"the field {piece!r} has whitespace around '=', which is not allowed"
        name, value = name.rstrip(_WSP), value.lstrip(_WSP)
    if not is_ext_name(name):
        return None, f"{name!r} is not a valid field name"
    return (name, value), problem
