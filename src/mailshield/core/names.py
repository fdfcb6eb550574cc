"""Domain names: IDNA 2008 / UTS 46 conversion, host-name validation and MTA-STS MX patterns.

Everything in DNS and in the MTA-STS and TLS-RPT records uses A-labels (RFC 8461 §3.2,
RFC 8460 §3). ``str.encode("idna")`` is IDNA 2003 (``faß.de`` → ``fass.de``); this module uses
the ``idna`` package (IDNA 2008 with UTS 46 mapping: ``faß.de`` → ``xn--fa-hia.de``).

Normal form used for comparisons: A-labels, lower case, one trailing dot stripped.
"""

from __future__ import annotations

import functools
import re

import idna

MAX_NAME_LENGTH = 253  # RFC 1035 §2.3.4: 255 octets on the wire = 253 characters of text
MAX_LABEL_LENGTH = 63  # RFC 1035 §2.3.4

# RFC 5321 §4.1.2: sub-domain = Let-dig [Ldh-str]; Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
_LDH_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\Z")


# A name whose every label is LDH, at most 63 long, with no hyphens in 3rd and 4th place (so no
# A-label to check): IDNA 2008 with UTS 46 mapping leaves it as it is, but for case (RFC 5891
# §4.2.3.1, UTS 46 §4.1), so the conversion below can be skipped.
_PLAIN_LABEL = r"(?![A-Za-z0-9]{2}--)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_LDH_NAME = re.compile(rf"(?:{_PLAIN_LABEL}\.)*{_PLAIN_LABEL}")


class InvalidName(ValueError):
    """A name that cannot be turned into a valid A-label domain name."""


def strip_root(name: str) -> str:
    """``name`` without one trailing dot (DNS presentation form → protocol form)."""
    return name[:-1] if name.endswith(".") else name


@functools.lru_cache(maxsize=4096)
def to_alabel(name: str) -> str:
    """The normal form of ``name``: A-labels, lower case, one trailing dot stripped.

    Accepts U-labels (``bücher.example``) and mixed case; raises :class:`InvalidName` when the
    name is empty, has an empty label, a label or total length over the DNS limits, or a label
    that IDNA 2008 forbids (e.g. ``_``, a leading hyphen, a broken ``xn--`` label).

    Results are remembered (the conversion is pure and slow, and one domain check normalises
    the same few names dozens of times); failures are not.
    """
    bare = strip_root(name.strip())
    if not bare:
        raise InvalidName("empty name")
    ascii_name = bare.lower() if _PLAIN_LDH_NAME.fullmatch(bare) else _converted(bare)
    if len(ascii_name) > MAX_NAME_LENGTH:
        raise InvalidName(f"name longer than {MAX_NAME_LENGTH} characters")
    return ascii_name


def _converted(name: str) -> str:
    """``name`` through IDNA 2008 with UTS 46 mapping (non-transitional), in lower case."""
    try:
        ascii_name = idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except (UnicodeError, ValueError) as exc:  # idna.IDNAError is a UnicodeError
        raise InvalidName(str(exc) or "not a valid IDNA name") from None
    return ascii_name.lower()


def normalise(name: str) -> str:
    """The normal form of ``name`` when it has one, else ``name`` lower-cased without its dot.

    For comparisons that must never fail (e.g. matching a policy pattern against an MX name
    taken from DNS): an unconvertible name simply compares as its lower-cased text.
    """
    try:
        return to_alabel(name)
    except InvalidName:
        return strip_root(name).lower()


def hostname_problem(name: str) -> str | None:
    """Why ``name`` is not an RFC 5321 ``Domain`` in A-label form, or ``None`` when it is.

    The name must be ASCII letters, digits and hyphens in dot-separated labels (no trailing
    dot, RFC 5321 §4.1.2), within the RFC 1035 length limits, and every ``xn--`` label must be a
    valid A-label (RFC 5890 §2.3.2.1). Upper case is allowed (DNS is case-insensitive).
    """
    if not name:
        return "empty name"
    if not name.isascii():
        return "contains non-ASCII characters (use the A-label form, e.g. xn--…)"
    if name.endswith("."):
        return "ends with a dot"
    if len(name) > MAX_NAME_LENGTH:
        return f"longer than {MAX_NAME_LENGTH} characters"
    for label in name.split("."):
        problem = _label_problem(label)
        if problem:
            return problem
    return None


def _label_problem(label: str) -> str | None:
    if not label:
        return "has an empty label"
    if len(label) > MAX_LABEL_LENGTH:
        return f"label {label!r} is longer than {MAX_LABEL_LENGTH} characters"
    if not _LDH_LABEL.match(label):
        return f"label {label!r} may hold only letters, digits and inner hyphens"
    if label[2:4] == "--" and label[:4].lower() != "xn--":
        return f"label {label!r} has hyphens in the 3rd and 4th positions (RFC 5891 §4.2.3.1)"
    if label[:4].lower() == "xn--":
        try:
            idna.decode(label.lower())
        except (UnicodeError, ValueError):
            return f"label {label!r} is not a valid A-label"
    return None


def mx_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid MTA-STS ``mx`` value, or ``None`` when it is.

    RFC 8461 §3.2: ``sts-policy-mx-value = ["*."] Domain`` — a wildcard only as the entire
    left-most label, followed by an RFC 5321 ``Domain`` in A-label form.
    """
    rest = pattern[2:] if pattern.startswith("*.") else pattern
    if "*" in rest:
        return "a wildcard is allowed only as the whole left-most label (*.example.com)"
    return hostname_problem(rest)


def mx_pattern_matches(pattern: str, host: str) -> bool:
    """Whether the MX host name ``host`` matches the MTA-STS ``mx`` pattern (RFC 8461 §4.1).

    Both sides are compared in normal form (case-insensitive, trailing dot ignored, U-labels
    converted to A-labels). The match is anchored: an exact pattern must equal the host; a
    ``*.`` pattern matches exactly one extra left-most label, so ``*.example.com`` matches
    ``mx1.example.com`` but neither ``example.com`` nor ``a.b.example.com``.
    """
    candidate = normalise(host)
    if pattern.startswith("*."):
        first, _, rest = candidate.partition(".")
        return bool(first) and bool(rest) and rest == normalise(pattern[2:])
    return bool(candidate) and candidate == normalise(pattern)
