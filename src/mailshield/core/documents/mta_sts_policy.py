"""The MTA-STS policy file served at ``https://mta-sts.<domain>/.well-known/mta-sts.txt``.

RFC 8461 §3.2 (ABNF abridged; every rule is case-sensitive, RFC 7405 ``%s``)::

    sts-policy-record      = sts-policy-field *WSP
                             *(sts-policy-term sts-policy-field *WSP) [sts-policy-term]
    sts-policy-field       = version / mode / max_age / mx / extension
    sts-policy-field-delim = ":" *WSP
    sts-policy-version     = %s"version" field-delim %s"STSv1"          ; required once
    sts-policy-mode        = %s"mode" field-delim
                             (%s"testing" / %s"enforce" / %s"none")      ; required once
    sts-policy-max-age     = %s"max_age" field-delim 1*10(DIGIT)        ; required once
    sts-policy-mx          = %s"mx" field-delim ["*."] Domain            ; >=1 unless "none"
    sts-policy-extension   = ext-name field-delim ext-value
    sts-policy-term        = LF / CRLF                                   ; erratum 6253

Senders ignore unknown keys and use the first of a repeated key except ``mx`` (§3.2);
``max_age`` is at most 31557600 seconds. :func:`parse_policy` never raises: it reports
every problem with its line number and keeps going, so one run shows everything to fix.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailshield.core.catalogue import mta_sts as codes
from mailshield.core.findings import finding
from mailshield.core.model import Finding, JSONValue, Status
from mailshield.core.names import InvalidName, mx_pattern_problem, to_alabel

MAX_AGE_LIMIT = 31_557_600  # §3.2: "max_age … maximum value of 31557600"
MAX_BODY = 65_536  # §3.3: senders may cap the policy body at 64 KiB
VERSION = "STSv1"

_WSP = " \t"
_LINE = re.compile(r"[^\r\n]*(\r\n|\n|\r)?")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
_MAX_AGE = re.compile(r"[0-9]{1,10}\Z")
_CTL = re.compile(r"[\x00-\x1f\x7f]")
_BOM = "\ufeff"


class Mode(enum.StrEnum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


KNOWN_KEYS = ("version", "mode", "max_age", "mx")


@dataclass(frozen=True, slots=True)
class PolicyLine:
    """One ``key: value`` line as read (key and value without the surrounding whitespace)."""

    number: int
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class PolicyParse:
    """Everything read from a policy body, with one finding per problem found."""

    text: str
    lines: tuple[PolicyLine, ...]
    version: str | None
    mode: Mode | None
    max_age: int | None  # as written, even when above MAX_AGE_LIMIT
    mx: tuple[str, ...]  # patterns usable for matching, normalised (lower case, no dot)
    extensions: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        """A sender would accept this policy: every required field present, no error."""
        return not any(f.status is Status.FAIL for f in self.findings)

    def to_evidence(self) -> dict[str, JSONValue]:
        return {
            "version": self.version,
            "mode": self.mode.value if self.mode else None,
            "max_age": self.max_age,
            "mx": list(self.mx),
            "extensions": [[k, v] for k, v in self.extensions],
            "lines": [[p.number, p.key, p.value] for p in self.lines],
            "valid": self.valid,
        }


def policy_id(body: str | bytes) -> str:
    """A policy id derived from the body: the first 32 hex digits of its SHA-256.

    Same body, same id; any change, a new id — what §3.1 asks of ``id`` (RFC 8461 §3.1).
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()[:32]


def render_policy(mode: Mode | str, max_age: int, mx: Iterable[str]) -> str:
    """A canonical policy body: lower-case A-label patterns, one ``mx`` line each, CRLF ends.

    Patterns are normalised (U-labels → A-labels, lower case, trailing dot dropped) and
    de-duplicated in order. Raises ``ValueError`` for an unknown mode, a ``max_age`` outside
    0…31557600, an invalid pattern, or no pattern with a mode other than ``none`` (§3.2).
    """
    chosen = Mode(mode)
    if not 0 <= max_age <= MAX_AGE_LIMIT:
        raise ValueError(f"max_age must be between 0 and {MAX_AGE_LIMIT}")
    patterns = list(dict.fromkeys(_canonical_pattern(p) for p in mx))
    if chosen is not Mode.NONE and not patterns:
        raise ValueError("a policy needs at least one mx pattern unless its mode is none")
    lines = [f"version: {VERSION}", f"mode: {chosen.value}"]
    lines += [f"mx: {p}" for p in patterns]
    lines.append(f"max_age: {max_age}")
    return "".join(line + "\r\n" for line in lines)


def _canonical_pattern(pattern: str) -> str:
    wildcard = pattern.startswith("*.")
    try:
        name = to_alabel(pattern[2:] if wildcard else pattern)
    except InvalidName as exc:
        raise ValueError(f"invalid mx pattern {pattern!r}: {exc}") from None
    result = f"*.{name}" if wildcard else name
    problem = mx_pattern_problem(result)
    if problem:
        raise ValueError(f"invalid mx pattern {pattern!r}: {problem}")
    return result


def parse_policy(body: bytes | str) -> PolicyParse:
    """Parse a policy body (LF or CRLF lines), reporting every problem; never raises."""
    reader = _Reader()
    text = reader.decode(body)
    if not text.strip():
        reader.syntax(None, "the policy is empty")
    else:
        for number, content, ending in _split_lines(text):
            reader.line(number, content, ending)
        reader.finish()
    return reader.result(text)


def _split_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, content, terminator) for every line; the last may have no terminator."""
    result: list[tuple[int, str, str]] = []
    position = 0
    while position < len(text):
        match = _LINE.match(text, position)
        assert match is not None  # the pattern matches at any position
        ending = match.group(1) or ""
        result.append((len(result) + 1, match.group()[: len(match.group()) - len(ending)], ending))
        position = match.end()
    return result


class _Reader:
    """Collects fields and findings line by line (state of one :func:`parse_policy` call)."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.lines: list[PolicyLine] = []
        self.first_seen: dict[str, int] = {}
        self.miscased: set[str] = set()
        self.endings: set[str] = set()
        self.mx: list[str] = []

    # -- reporting ------------------------------------------------------------------------
    def syntax(self, line: int | None, problem: str) -> None:
        self.findings.append(finding(codes.POLICY_SYNTAX, _where(line), line=line, problem=problem))

    def risk(self, line: int, problem: str, status: Status = Status.WARN) -> None:
        self.findings.append(
            finding(codes.POLICY_FORMAT, _where(line), status=status, line=line, problem=problem)
        )

    # -- input ----------------------------------------------------------------------------
    def decode(self, body: bytes | str) -> str:
        if isinstance(body, bytes):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = body.count(b"\n", 0, exc.start) + 1
                self.syntax(line, "the body is not valid UTF-8")
                text = body.decode("utf-8", errors="replace")
        else:
            text = body
        if text.startswith(_BOM):
            self.syntax(1, "the body starts with a byte-order mark (BOM), which is not allowed")
            text = text[1:]
        return text

    def line(self, number: int, content: str, ending: str) -> None:
        self._ending(number, ending)
        if not content.strip(_WSP):
            self.risk(number, "blank line (not allowed by the grammar; some senders stop here)")
            return
        if content[0] in _WSP:
            self.syntax(number, "the line starts with whitespace")
        if content[-1] in _WSP:
            self.risk(number, "trailing whitespace")
        key, colon, value = content.strip(_WSP).partition(":")
        if not colon:
            self.syntax(number, f"{_clip(content)!r} is not a 'key: value' line")
            return
        if key != key.rstrip(_WSP):
            self.syntax(number, f"whitespace before ':' after {key.rstrip(_WSP)!r}")
        self.field(number, key.rstrip(_WSP), value.strip(_WSP))

    def _ending(self, number: int, ending: str) -> None:
        if ending == "\r":
            self.syntax(number, "the line ends with a bare CR; use CRLF or LF")
            return
        if ending and self.endings and ending not in self.endings:
            self.risk(number, "line ends mix CRLF and LF (valid, but naive parsers break)")
        if ending:
            self.endings.add(ending)

    def field(self, number: int, key: str, value: str) -> None:
        if not _KEY.match(key):
            self.syntax(number, f"{_clip(key)!r} is not a valid key")
            return
        self.lines.append(PolicyLine(number, key, value))
        if key not in KNOWN_KEYS:
            self.unknown(number, key, value)
            return
        if key == "mx":
            self.pattern(number, value)
            return
        if key in self.first_seen:
            first = self.first_seen[key]
            self.findings.append(
                finding(
                    codes.POLICY_DUPLICATE_KEY,
                    _where(number),
                    line=number,
                    key=key,
                    first_line=first,
                )
            )
            return
        self.first_seen[key] = number
        self.known(number, key, value)

    def unknown(self, number: int, key: str, value: str) -> None:
        if key.lower() in KNOWN_KEYS:
            self.miscased.add(key.lower())
            self.syntax(
                number,
                f"the key {key!r} must be written {key.lower()!r} (keys are case-sensitive; "
                "senders ignore it)",
            )
        elif not value or _CTL.search(value):
            self.syntax(number, f"the value of {key!r} is empty or holds control characters")
        else:
            self.findings.append(
                finding(codes.POLICY_UNKNOWN_KEY, _where(number), line=number, key=key)
            )

    def known(self, number: int, key: str, value: str) -> None:
        if key == "version" and value != VERSION:
            self.syntax(number, f"version is {_clip(value)!r}; it must be exactly {VERSION!r}")
        elif key == "mode" and value not in {m.value for m in Mode}:
            self.syntax(
                number,
                f"mode is {_clip(value)!r}; it must be enforce, testing or none (lower case)",
            )
        elif key == "max_age":
            self.max_age(number, value)

    def max_age(self, number: int, value: str) -> None:
        if not _MAX_AGE.match(value):
            self.syntax(number, f"max_age is {_clip(value)!r}; it must be 1 to 10 digits")
        elif int(value) > MAX_AGE_LIMIT:
            self.findings.append(
                finding(
                    codes.POLICY_MAX_AGE_LONG,
                    _where(number),
                    line=number,
                    max_age=int(value),
                    maximum=MAX_AGE_LIMIT,
                )
            )

    def pattern(self, number: int, value: str) -> None:
        bare = value[:-1] if value.endswith(".") else value
        problem = mx_pattern_problem(value)
        if problem and bare != value and mx_pattern_problem(bare) is None:
            # A trailing dot is outside the grammar, but the intent is clear: keep the pattern.
            self.syntax(number, f"the mx pattern {value!r} must not end with a dot")
            value = bare
        elif problem:
            self.syntax(number, f"the mx pattern {_clip(value)!r} is invalid: {problem}")
            return
        normal = value.lower()
        if normal in self.mx:
            self.risk(number, f"the mx pattern {value!r} is listed twice", Status.INFO)
        elif normal != value:
            self.risk(number, f"write the mx pattern {value!r} in lower case", Status.INFO)
        if normal not in self.mx:
            self.mx.append(normal)

    # -- end ------------------------------------------------------------------------------
    def finish(self) -> None:
        for key in ("version", "mode", "max_age"):
            if key not in self.first_seen and key not in self.miscased:
                self.syntax(None, f"the required {key} field is missing")
        mode = self._value("mode")
        if not self.mx and "mx" not in self.miscased and mode in {"enforce", "testing"}:
            self.syntax(None, f"mode {mode} needs at least one mx line")

    def _value(self, key: str) -> str | None:
        line = self.first_seen.get(key)
        return next((p.value for p in self.lines if p.number == line), None)

    def result(self, text: str) -> PolicyParse:
        version = self._value("version")
        mode = self._value("mode")
        max_age = self._value("max_age")
        return PolicyParse(
            text=text,
            lines=tuple(self.lines),
            version=version if version == VERSION else None,
            mode=Mode(mode) if mode in {m.value for m in Mode} else None,
            max_age=int(max_age) if max_age and _MAX_AGE.match(max_age) else None,
            mx=tuple(self.mx),
            extensions=tuple((p.key, p.value) for p in self.lines if p.key not in KNOWN_KEYS),
            findings=tuple(self.findings),
        )


def _where(line: int | None) -> str:
    return f"Line {line}" if line else "Policy"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
