"""Reading single TLS-RPT values the way real reporters send them (RFC 8460 §4.4).

Each function takes one raw JSON value and returns the normalised value plus what was odd about
it (a :class:`Quirk`), never raising. The schema walk in ``tls_report_schema`` turns quirks into
notes. Functions here run once per report or per policy, except :func:`canonical_ip` and
:func:`normalise_host`, whose results the walk caches per distinct value.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import json
import re
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MAX_COUNT",
    "Quirk",
    "canonical_ip",
    "normalise_host",
    "read_count",
    "read_datetime",
    "tlsa_lines_from_json",
]

# RFC 7493 §2.2: integers beyond 2**53 - 1 are not interoperable.
MAX_COUNT = 2**53 - 1


class Quirk(enum.Enum):
    """What was unusual about a value (the walk maps each to a note)."""

    NONE = enum.auto()
    MISSING = enum.auto()
    NO_OFFSET = enum.auto()
    NOT_RFC3339 = enum.auto()
    NO_OFFSET_NOT_RFC3339 = enum.auto()
    NOT_INTEGER = enum.auto()
    INVALID = enum.auto()
    TRAILING_DOT = enum.auto()
    U_LABEL = enum.auto()


# RFC 3339 §5.6 date-time; "T" and "Z" may be lower case (§5.6 NOTE). The offset is optional
# here so that the common "no offset" deviation is told apart from other shapes.
_RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(Z|[+-]\d\d:\d\d)?", re.IGNORECASE | re.ASCII
)


def read_datetime(value: Any) -> tuple[datetime | None, Quirk]:
    """An aware UTC datetime from an RFC 3339 string (RFC 8460 §4.4 ``date-time``).

    Tolerated: no offset (UTC assumed), other ISO 8601 shapes, Unix seconds as a number.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC), Quirk.NOT_RFC3339
        except (ValueError, OverflowError, OSError):
            return None, Quirk.MISSING
    if not isinstance(value, str) or len(value) > 64:
        return None, Quirk.MISSING
    text = value.strip()
    shape = _RFC3339.fullmatch(text)
    try:
        parsed = datetime.fromisoformat(text.upper())
    except ValueError:
        return None, Quirk.MISSING
    if parsed.tzinfo is None:
        quirk = Quirk.NO_OFFSET if shape else Quirk.NO_OFFSET_NOT_RFC3339
        return parsed.replace(tzinfo=UTC), quirk
    try:
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None, Quirk.MISSING
    return parsed, Quirk.NONE if shape else Quirk.NOT_RFC3339


def read_count(value: Any) -> tuple[int, Quirk]:
    """A non-negative session count (RFC 8460 §4.4 integers); numeric strings and integral
    numbers are accepted as ``NOT_INTEGER``, anything else is 0 with ``INVALID`` or ``MISSING``.
    """
    if type(value) is int and 0 <= value <= MAX_COUNT:
        return value, Quirk.NONE
    if value is None:
        return 0, Quirk.MISSING
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit() and len(digits) <= 16:
            number = int(digits)
            return (number, Quirk.NOT_INTEGER) if number <= MAX_COUNT else (0, Quirk.INVALID)
        return 0, Quirk.INVALID
    if type(value) is float and value.is_integer() and 0 <= value <= MAX_COUNT:
        return int(value), Quirk.NOT_INTEGER
    return 0, Quirk.INVALID


# RFC 8460 §4.4:
#   ipv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet
#   dec-octet   = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "2" %x30-34 DIGIT / "25" %x30-35
# One compiled match per distinct address is several times cheaper than ``ipaddress``; a match
# is already canonical text.
_DEC_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IPV4 = re.compile(rf"{_DEC_OCTET}(?:\.{_DEC_OCTET}){{3}}", re.ASCII)


@functools.lru_cache(maxsize=65_536)
def canonical_ip(text: str) -> str | None:
    """The canonical text of an IPv4 or IPv6 address (RFC 5952 for IPv6), or ``None``.

    IPv4 with leading zeros is refused, as in the RFC 8460 §4.4 ``dec-octet`` grammar.
    """
    text = text.strip()
    if _IPV4.fullmatch(text):
        return text
    if ":" not in text:
        return None
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    mapped = address.ipv4_mapped  # RFC 5952 §5: "::ffff:192.0.2.1", not "::ffff:c000:201"
    return f"::ffff:{mapped}" if mapped else str(address)


@functools.lru_cache(maxsize=65_536)
def normalise_host(text: str, wildcard: bool = False) -> tuple[str, Quirk]:
    """A host name as a lower-case A-label without a trailing dot (RFC 8460 §4.4 "A-labels").

    ``wildcard`` allows a leading ``*.`` (MTA-STS MX patterns, RFC 8461 §4.1). A name that
    cannot be converted is returned lower-cased with ``INVALID``.
    """
    name = text.strip()
    quirk = Quirk.NONE
    if name.endswith("."):
        name = name.rstrip(".")
        quirk = Quirk.TRAILING_DOT
    if name.isascii():
        name = name.lower()
        return name, quirk if _plausible_ascii(name, wildcard) else Quirk.INVALID
    import idna  # here: only a U-label needs it, and most reports have none

    prefix, rest = ("*.", name[2:]) if wildcard and name.startswith("*.") else ("", name)
    try:
        alabel = idna.encode(rest, uts46=True).decode("ascii")
    except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
        return name.lower(), Quirk.INVALID
    return prefix + alabel, Quirk.U_LABEL


_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _plausible_ascii(name: str, wildcard: bool) -> bool:
    """A loose RFC 1035 §2.3.4 check: 1-63 octet labels, 253 octets, LDH (and ``_``)."""
    if wildcard and name.startswith("*."):
        name = name[2:]
    if not name or len(name) > 253:
        return False
    return all(0 < len(label) <= 63 and _HOST_CHARS.issuperset(label) for label in name.split("."))


# Key spellings seen for TLSA fields when a reporter serialised records as JSON objects.
_USAGE = frozenset({"usage", "certusage", "certificateusage"})
_SELECTOR = frozenset({"selector"})
_MTYPE = frozenset({"matchingtype", "mtype", "matching"})
_DATA = frozenset(
    {"data", "certificateassociationdata", "certassociationdata", "associationdata", "certdata"}
)


def tlsa_lines_from_json(text: str) -> list[str] | None:
    """TLSA records in RFC 8460 §4.5 form (``"<usage> <selector> <mtype> <hex>"``) read from a
    ``policy-string`` element that holds JSON, or ``None`` when it is not such JSON.

    Accepts one record object, an array of them, or an object wrapping that array; field names
    are matched ignoring case, ``-`` and ``_``.
    """
    if len(text) > 65_536:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        value = inner if isinstance(inner, list | dict) else value
    items = value if isinstance(value, list) else [value]
    lines = [line for item in items[:1000] if (line := _tlsa_line(item)) is not None]
    return lines or None


def _tlsa_line(item: Any) -> str | None:
    if isinstance(item, str):
        return " ".join(item.split()) or None
    if not isinstance(item, dict):
        return None
    fields: dict[str, Any] = {}
    for key, value in item.items():
        folded = str(key).lower().replace("-", "").replace("_", "")
        for name, spellings in (("u", _USAGE), ("s", _SELECTOR), ("m", _MTYPE), ("d", _DATA)):
            if folded in spellings:
                fields.setdefault(name, value)
    numbers = [_small_int(fields.get(name)) for name in ("u", "s", "m")]
    data = fields.get("d")
    if any(n is None for n in numbers) or not isinstance(data, str):
        return None
    hex_data = "".join(data.split()).lower()
    if not hex_data or any(c not in "0123456789abcdef" for c in hex_data):
        return None
    return f"{numbers[0]} {numbers[1]} {numbers[2]} {hex_data}"


def _small_int(value: Any) -> int | None:
    if type(value) is int and 0 <= value <= 255:
        return value
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit() and len(digits) <= 3 and int(digits) <= 255:
            return int(digits)
    return None
