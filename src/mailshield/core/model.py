"""The one domain model shared by the CLI, the API, the dashboard and storage.

``Status`` says what a check concluded; ``Finding`` is one conclusion with a stable code;
``CheckResult`` groups the findings of one protocol; ``Report`` is a whole domain check.
``Status.ERROR`` means *could not test* and is never scored as a failure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSONValue = Any
"""A value that serialises to JSON (str, int, float, bool, None, list, dict)."""


class Status(enum.StrEnum):
    """Outcome of a check or finding, ordered from best to worst by :attr:`severity`."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    INFO = "info"
    NOT_APPLICABLE = "not_applicable"
    WARN = "warn"
    ERROR = "error"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        """Rank used to roll findings up into a result: fail beats could-not-test beats warn."""
        return _SEVERITY[self]


_SEVERITY = {
    Status.NOT_APPLICABLE: 0,
    Status.PASS: 1,
    Status.INFO: 2,
    Status.WARN: 3,
    Status.ERROR: 4,
    Status.FAIL: 5,
}


def worst(statuses: Iterable[Status], default: Status = Status.PASS) -> Status:
    """The most severe status of ``statuses``, or ``default`` when there are none."""
    return max(statuses, key=_SEVERITY.__getitem__, default=default)


@dataclass(frozen=True, slots=True)
class Finding:
    """One conclusion of a check.

    ``code`` is a stable, dotted identifier documented in ``docs/checks.md``; ``subject`` names
    what the finding is about (a host name, an address, a record); ``params`` carry the values
    the message and fix are rendered from; ``fix`` is the exact remedy (a record or policy text)
    or ``None`` when nothing needs doing.
    """

    code: str
    status: Status
    subject: str = ""
    params: Mapping[str, JSONValue] = field(default_factory=dict)
    message: str = ""
    fix: str | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "code": self.code,
            "status": self.status.value,
            "subject": self.subject,
            "params": dict(self.params),
            "message": self.message,
            "fix": self.fix,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> Finding:
        return cls(
            code=str(data["code"]),
            status=Status(data["status"]),
            subject=str(data.get("subject", "")),
            params=dict(data.get("params") or {}),
            message=str(data.get("message", "")),
            fix=data.get("fix"),
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The findings of one protocol check (``mx``, ``mta_sts``, ``spf`` …) and its evidence."""

    check: str
    findings: tuple[Finding, ...] = ()
    evidence: Mapping[str, JSONValue] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        """The worst finding's status; a check with no findings passed."""
        return worst((f.status for f in self.findings), default=Status.PASS)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "check": self.check,
            "status": self.status.value,
            "findings": [f.to_dict() for f in self.findings],
            "evidence": dict(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> CheckResult:
        findings = tuple(Finding.from_dict(f) for f in data.get("findings", ()))
        return cls(check=str(data["check"]), findings=findings, evidence=data.get("evidence", {}))


@dataclass(frozen=True, slots=True)
class Report:
    """A whole domain check: every protocol result plus the score and grade derived from them."""

    domain: str
    checked_at: datetime
    results: tuple[CheckResult, ...]
    score: int
    grade: str

    @property
    def status(self) -> Status:
        return worst((r.status for r in self.results), default=Status.PASS)

    def result(self, check: str) -> CheckResult | None:
        return next((r for r in self.results if r.check == check), None)

    def findings(self) -> Iterable[Finding]:
        for r in self.results:
            yield from r.findings

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "domain": self.domain,
            "checked_at": self.checked_at.isoformat(),
            "score": self.score,
            "grade": self.grade,
            "status": self.status.value,
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, JSONValue]) -> Report:
        return cls(
            domain=str(data["domain"]),
            checked_at=datetime.fromisoformat(str(data["checked_at"])),
            results=tuple(CheckResult.from_dict(r) for r in data.get("results", ())),
            score=int(data["score"]),
            grade=str(data["grade"]),
        )
