"""The score: one table, statuses kept apart from points (documented in docs/scoring.md).

Each category has a weight; a category earns a share of it by the status of its check:
pass and info earn all, warn half, fail nothing. "Could not test" (error) and "not applicable"
are left out of both sides of the fraction and shown, never counted as a failure.
Authenticated transport is one category credited for MTA-STS **or** DANE, whichever is better.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mailshield.core.evaluate.dane import dane_deployed
from mailshield.core.model import CheckResult, Status

CREDIT: Mapping[Status, float] = {
    Status.PASS: 1.0,
    Status.INFO: 1.0,
    Status.WARN: 0.5,
    Status.FAIL: 0.0,
}
"""Share of a category's weight earned per status; statuses not listed are not scored."""

WEIGHTS: Mapping[str, int] = {
    "mx": 5,
    "starttls": 20,
    "transport_auth": 25,  # MTA-STS enforce or DANE
    "tls_rpt": 5,
    "spf": 10,
    "dmarc": 25,
    "dkim": 10,
}
"""Points per category; BIMI is shown but not scored (it is branding, not security)."""

GRADES: Sequence[tuple[int, str]] = ((90, "A"), (80, "B"), (70, "C"), (60, "D"), (0, "F"))
"""Lowest score for each grade; A+ is an A with no warning and no failure anywhere."""

UNGRADED = "?"


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: str
    weight: int
    credit: float | None  # None: not scored (could not test / not applicable)
    status: Status


@dataclass(frozen=True, slots=True)
class Score:
    points: int
    grade: str
    categories: tuple[CategoryScore, ...]

    @property
    def untested(self) -> tuple[str, ...]:
        return tuple(
            c.category for c in self.categories if c.credit is None and c.status is Status.ERROR
        )


def _category(name: str, status: Status) -> CategoryScore:
    return CategoryScore(name, WEIGHTS[name], CREDIT.get(status), status)


def _transport_auth(by_check: Mapping[str, CheckResult]) -> CategoryScore:
    """MTA-STS or DANE, whichever earns more (RFC 8461 §2 and RFC 7672 both authenticate)."""
    dane = by_check.get("dane")
    if dane is not None and dane_deployed(dane):
        return _category("transport_auth", Status.PASS)
    mta_sts = by_check.get("mta_sts")
    return _category("transport_auth", mta_sts.status if mta_sts else Status.NOT_APPLICABLE)


def score(results: Sequence[CheckResult]) -> Score:
    """Points 0–100 and a grade for a domain's results."""
    by_check = {r.check: r for r in results}
    categories = [
        _transport_auth(by_check)
        if name == "transport_auth"
        else _category(name, by_check[name].status if name in by_check else Status.NOT_APPLICABLE)
        for name in WEIGHTS
    ]
    scored = [c for c in categories if c.credit is not None]
    total = sum(c.weight for c in scored)
    if total == 0:
        return Score(0, UNGRADED, tuple(categories))
    earned = sum(c.weight * (c.credit or 0.0) for c in scored)
    points = round(100 * earned / total)
    return Score(points, _grade(points, results), tuple(categories))


def _grade(points: int, results: Sequence[CheckResult]) -> str:
    grade = next(letter for floor, letter in GRADES if points >= floor)
    clean = all(r.status.severity <= Status.INFO.severity for r in results if r.check != "bimi")
    return "A+" if grade == "A" and clean else grade
