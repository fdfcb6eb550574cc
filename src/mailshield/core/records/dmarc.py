"""DMARC policy records (RFC 7489 §6.3–§6.4, RFC 9989 §4.7–§4.8): selection, parsing, rendering.

```abnf
dmarc-record  = dmarc-version *(dmarc-sep dmarc-tag) [dmarc-sep]     ; RFC 9989 §4.8
dmarc-version = "v" equals %s"DMARC1"
dmarc-sep     = *WSP ";" *WSP
equals        = *WSP "=" *WSP
dmarc-request = "none" / "quarantine" / "reject"                    ; p, sp, np
dmarc-yorn    = "y" / "n"                                           ; t
dmarc-psd     = "y" / "n" / "u"                                     ; psd
dmarc-rors    = "r" / "s"                                           ; adkim, aspf
dmarc-fo      = ( "0" / "1" / "d" / "s" ) *( *WSP ":" *WSP ( "0" / "1" / "d" / "s" ) )
dmarc-percent = "pct" *WSP "=" *WSP 1*3DIGIT                        ; RFC 7489 only
```

A record is a TXT record whose first tag is ``v=DMARC1`` (value case-sensitive). Within a
record, unknown tags are ignored and a bad value falls back to the tag's default (RFC 9989
§4.7); duplicate tags are unspecified, so the first wins and a warning is given.
:func:`parse_dmarc` never raises.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailshield.core.catalogue import dmarc as codes
from mailshield.core.findings import FindingSpec, finding
from mailshield.core.model import Finding, JSONValue
from mailshield.core.records.dmarc_uri import ReportUri, parse_uri_list
from mailshield.core.records.tag_value import TagList, TagProblemKind, parse_tag_list

_VERSION = re.compile(r"v[ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)")
_NEAR_MISS = re.compile(r"\s*v\s*=\s*dmarc", re.IGNORECASE)
_KNOWN = frozenset(
    ["v", "p", "sp", "np", "adkim", "aspf", "pct", "rua", "ruf", "fo", "rf", "ri", "t", "psd"]
)
_OBSOLETE = ("pct", "rf", "ri")  # RFC 9989 Appendix C.5
_FO = re.compile(r"[01ds](?:[ \t]*:[ \t]*[01ds])*\Z")
_RF = re.compile(r"[A-Za-z0-9-]+(?:[ \t]*:[ \t]*[A-Za-z0-9-]+)*\Z")


class Policy(enum.StrEnum):
    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    """A DMARC record with defaults applied; ``tags`` keeps the first occurrences in order."""

    tags: tuple[tuple[str, str], ...]
    p: Policy | None = None  # None when absent or invalid
    sp: Policy | None = None
    np: Policy | None = None
    adkim: str = "r"
    aspf: str = "r"
    pct: int | None = None  # None when absent (100 applies)
    rua: tuple[ReportUri, ...] = ()
    ruf: tuple[ReportUri, ...] = ()
    fo: str | None = None
    testing: bool = False  # t=y
    psd: str = "u"

    def get(self, name: str) -> str | None:
        """The value of tag ``name`` as published, or None."""
        return next((v for n, v in self.tags if n == name), None)

    @property
    def subdomain_policy(self) -> Policy | None:
        """The policy for subdomains: sp, else p (RFC 7489 §6.3)."""
        return self.sp or self.p


@dataclass(frozen=True, slots=True)
class DmarcParse:
    text: str
    record: DmarcRecord | None  # None when the text is not a DMARC record at all
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class DmarcSelection:
    """Which TXT records at a ``_dmarc`` name are DMARC records (RFC 7489 §6.6.3)."""

    records: tuple[str, ...]
    near_misses: tuple[str, ...]  # meant as DMARC but ignored (leading space, v=dmarc1 …)


def is_dmarc(text: str) -> bool:
    """Whether ``text`` begins with the version tag ``v=DMARC1`` (RFC 9989 §4.8)."""
    return _VERSION.match(text) is not None


def select_dmarc(records: Sequence[bytes | str]) -> DmarcSelection:
    """Keep the DMARC records among a name's TXT records; note the near misses."""
    texts = [r if isinstance(r, str) else r.decode("utf-8", errors="replace") for r in records]
    chosen = tuple(t for t in texts if is_dmarc(t))
    return DmarcSelection(
        chosen, tuple(t for t in texts if not is_dmarc(t) and _NEAR_MISS.match(t))
    )


def parse_dmarc(text: str | bytes, *, name: str = "") -> DmarcParse:
    """Parse a record found at ``name`` (``_dmarc.<domain>``), reporting every problem."""
    return _parse_dmarc(text, name)


@functools.lru_cache(maxsize=1024)  # planners ask again at every DNS level of one check
def _parse_dmarc(text: str | bytes, name: str) -> DmarcParse:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not is_dmarc(text):
        problem = _version_problem(text)
        return DmarcParse(text, None, (_note(codes.SYNTAX, name, record=text, problem=problem),))
    tags = parse_tag_list(text)
    findings = _tag_list_findings(tags, name)
    values = dict(_pairs(tags))
    reader = _Reader(values, name, findings)
    rua, ruf = reader.uris("rua"), reader.uris("ruf")
    record = DmarcRecord(
        tags=_pairs(tags),
        p=reader.policy("p"),
        sp=reader.policy("sp"),
        np=reader.policy("np"),
        adkim=reader.choice("adkim", "rs", "r"),
        aspf=reader.choice("aspf", "rs", "r"),
        pct=reader.percent(),
        rua=rua,
        ruf=ruf,
        fo=reader.pattern("fo", _FO, "0, 1, d or s separated by ':'"),
        testing=reader.choice("t", "yn", "n") == "y",
        psd=reader.choice("psd", "ynu", "u"),
    )
    reader.pattern("rf", _RF, "report formats separated by ':'")
    reader.pattern("ri", re.compile(r"[0-9]+\Z"), "a number of seconds")
    findings.extend(_record_findings(record, tags, name))
    return DmarcParse(text, record, tuple(findings))


def render_dmarc(tags: Sequence[tuple[str, str]]) -> str:
    """A record from tag pairs: ``v=DMARC1`` first, then ``p``, then the rest in order."""
    rest = [(n, v) for n, v in tags if n not in ("v", "p")]
    policy = [(n, v) for n, v in tags if n == "p"][:1]
    return "; ".join(f"{n}={v}" for n, v in [("v", "DMARC1"), *policy, *rest])


def with_tags(record: DmarcRecord, **changes: str | None) -> str:
    """The record text with tags changed (``None`` removes a tag, new ones are appended)."""
    pairs = [(n, changes.get(n, v)) for n, v in record.tags]
    pairs += [(n, v) for n, v in changes.items() if record.get(n) is None]
    return render_dmarc([(n, v) for n, v in pairs if v is not None])


def _version_problem(text: str) -> str:
    """Why ``text`` fails the version test, in words an operator can act on."""
    if text[:1].isspace():
        return "it begins with whitespace; it must begin with v=DMARC1"
    squeezed = re.sub(r"[ \t]", "", text)
    if squeezed.lower().startswith("v=dmarc1") and not squeezed.startswith("v=DMARC1"):
        return "it must begin with lower-case v and upper-case DMARC1"
    if re.match(r"v[ \t]*=[ \t]*DMARC1[ \t]*[^;\s]", text):
        return "the version must be followed by ';' before the next tag"
    return "the first tag must be v=DMARC1"


def _note(spec: FindingSpec, name: str, **params: JSONValue) -> Finding:
    """A finding about the record at ``name`` (the ``_dmarc`` name it was found at)."""
    return finding(spec, name, name=name, **params)


def _pairs(tags: TagList) -> tuple[tuple[str, str], ...]:
    """First occurrence of each tag, in order."""
    seen: dict[str, str] = {}
    for tag in tags.tags:
        seen.setdefault(tag.name, tag.value)
    return tuple(seen.items())


def _tag_list_findings(tags: TagList, name: str) -> list[Finding]:
    out: list[Finding] = []
    for problem in tags.problems:
        if problem.kind is TagProblemKind.DUPLICATE:
            out.append(_note(codes.TAG_DUPLICATE, name, tag=problem.name))
        else:
            kind = problem.kind.value
            out.append(_note(codes.TAG_MALFORMED, name, text=problem.text, problem=kind))
    return out


class _Reader:
    """Reads tag values with their defaults, reporting invalid ones (RFC 9989 §4.7)."""

    def __init__(self, values: dict[str, str], name: str, findings: list[Finding]) -> None:
        self.values, self.name, self.findings = values, name, findings

    def invalid(self, tag: str, value: str, expected: str) -> None:
        """Report a bad value; for p it is fail (DMARC-05), for other tags a warning."""
        spec = codes.POLICY_INVALID if tag == "p" else codes.TAG_INVALID
        self.findings.append(_note(spec, self.name, tag=tag, value=value, expected=expected))

    def policy(self, tag: str) -> Policy | None:
        """p/sp/np: none, quarantine or reject; other case accepted with a warning."""
        value = self.values.get(tag)
        if value is None:
            return None
        if value.lower() in Policy.__members__.values():
            if value != value.lower():  # quoted ABNF strings are case-insensitive (reference §1)
                self.findings.append(_note(codes.POLICY_CASE, self.name, tag=tag, value=value))
            return Policy(value.lower())
        self.invalid(tag, value, "none, quarantine or reject")
        return None

    def choice(self, tag: str, allowed: str, default: str) -> str:
        """A one-letter value from ``allowed`` (adkim, aspf, t, psd), else the default."""
        value = self.values.get(tag)
        if value is None:
            return default
        if len(value) == 1 and value.lower() in allowed:
            return value.lower()
        self.invalid(tag, value, " or ".join(allowed))
        return default

    def percent(self) -> int | None:
        """pct: 0-100 (RFC 7489 §6.3), None when absent or invalid."""
        value = self.values.get("pct")
        if value is None:
            return None
        if re.fullmatch(r"[0-9]{1,3}", value) and int(value) <= 100:
            return int(value)
        self.invalid("pct", value, "a whole number from 0 to 100")
        return None

    def pattern(self, tag: str, pattern: re.Pattern[str], expected: str) -> str | None:
        """A value that must match ``pattern`` (fo, rf, ri), else None."""
        value = self.values.get(tag)
        if value is None or pattern.match(value):
            return value
        self.invalid(tag, value, expected)
        return None

    def uris(self, tag: str) -> tuple[ReportUri, ...]:
        """rua/ruf: the well-formed URIs; each malformed one is reported (DMARC-12)."""
        value = self.values.get(tag)
        if value is None:
            return ()
        uris, problems = parse_uri_list(value)
        for p in problems:
            note = _note(codes.URI_INVALID, self.name, tag=tag, text=p.text, problem=p.problem)
            self.findings.append(note)
        return uris


def _record_findings(record: DmarcRecord, tags: TagList, name: str) -> list[Finding]:
    """Record-wide advice: missing p, tag order, obsolete and unknown tags, reporting."""
    out: list[Finding] = []
    names = tags.names()
    if "p" not in names:
        out.append(_note(codes.POLICY_MISSING, name))
    elif names[1:2] != ("p",):
        out.append(_note(codes.TAG_ORDER, name))
    out.extend(_note(codes.TAG_UNKNOWN, name, tag=t) for t in names if t not in _KNOWN)
    out.extend(_note(codes.TAG_OBSOLETE, name, tag=t) for t in names if t in _OBSOLETE)
    if record.pct is not None and record.pct < 100:
        out.append(_note(codes.PCT_PARTIAL, name, pct=record.pct))
    if record.testing:
        out.append(_note(codes.TESTING, name))
    if record.sp is Policy.NONE and record.p in (Policy.QUARANTINE, Policy.REJECT):
        out.append(_note(codes.SUBDOMAIN_POLICY_NONE, name, p=record.p.value))
    out.extend(_reporting_findings(record, name))
    return out


def _reporting_findings(record: DmarcRecord, name: str) -> list[Finding]:
    """Report destinations: rua present, ruf noted, schemes, size suffixes, fo (RFC 7489 §6.3)."""
    out: list[Finding] = []
    if record.get("rua") is None:
        out.append(_note(codes.RUA_MISSING, name))
    if record.ruf:
        out.append(_note(codes.RUF_PRESENT, name))
    for uri in (*record.rua, *record.ruf):
        if not uri.is_mailto:
            out.append(_note(codes.URI_SCHEME, name, uri=uri.text, scheme=uri.scheme))
        if uri.size_limit is not None:
            out.append(_note(codes.URI_SIZE, name, uri=uri.text, size=uri.size_limit))
    if record.fo is not None and record.get("ruf") is None:
        out.append(_note(codes.FO_WITHOUT_RUF, name))
    if record.fo is not None and {"0", "1"} <= set(record.fo):
        out.append(_note(codes.FO_CONFLICT, name, value=record.fo))
    return out
