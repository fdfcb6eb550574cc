"""A Report arranged for reading: protocols in order, problems first, counts for the summary.

Pure presentation: titles, one-line explanations of each protocol, status labels and icons, and
for each finding the catalogue's title and RFC section (its "meaning"). Passing findings are
kept apart so a page can fold them away and put what needs doing first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from mailshield.core.checks import CHECK_TITLES
from mailshield.core.findings import FindingSpec, catalogue
from mailshield.core.model import CheckResult, Finding, Report, Status

CHECK_PURPOSES = {
    "mx": "Where mail for the domain is delivered.",
    "mta_sts": "Tells senders to insist on TLS with a valid certificate when they deliver to you "
    "(RFC 8461).",
    "tls_rpt": "Asks senders to report failed TLS deliveries to you (RFC 8460).",
    "starttls": "Whether every MX host offers encryption, and with which certificate.",
    "dane": "Certificates pinned in DNSSEC-signed DNS, an alternative to MTA-STS (RFC 7672).",
    "spf": "Which servers may send mail in the domain's name (RFC 7208).",
    "dmarc": "What receivers do with mail that fails SPF and DKIM, and where they report "
    "(RFC 7489).",
    "dkim": "Signatures that prove a message came from the domain (RFC 6376).",
    "bimi": "The brand logo shown beside authenticated mail. Shown, not scored.",
}

STATUS_LABELS = {
    Status.PASS: "Pass",
    Status.INFO: "Info",
    Status.NOT_APPLICABLE: "Not applicable",
    Status.WARN: "Warning",
    Status.ERROR: "Could not test",
    Status.FAIL: "Fail",
}

STATUS_ICONS = {
    Status.PASS: "✓",
    Status.INFO: "i",
    Status.NOT_APPLICABLE: "–",
    Status.WARN: "!",
    Status.ERROR: "?",
    Status.FAIL: "✕",
}


@dataclass(frozen=True, slots=True)
class FindingView:
    finding: Finding
    title: str
    rfc: str

    @property
    def status(self) -> Status:
        return self.finding.status

    @property
    def needs_action(self) -> bool:
        return self.finding.status.severity >= Status.WARN.severity


@dataclass(frozen=True, slots=True)
class SectionView:
    check: str
    title: str
    purpose: str
    status: Status
    problems: tuple[FindingView, ...]  # warn, could not test, fail: worst first
    others: tuple[FindingView, ...]  # pass, info, not applicable


@dataclass(frozen=True, slots=True)
class ReportView:
    report: Report
    sections: tuple[SectionView, ...]
    counts: dict[Status, int]

    @property
    def untested(self) -> list[str]:
        return [s.title for s in self.sections if s.status is Status.ERROR]

    @property
    def headline(self) -> str:
        """One sentence for the top of the page."""
        fails, warns = self.counts[Status.FAIL], self.counts[Status.WARN]
        if fails:
            return f"{fails} problem{'s' if fails != 1 else ''} to fix" + (
                f" and {warns} warning{'s' if warns != 1 else ''}" if warns else ""
            )
        if warns:
            return f"No failures; {warns} warning{'s' if warns != 1 else ''} worth a look"
        if self.untested:
            return "No problems found in what could be tested"
        return "Everything checked is in order"


def _view(finding: Finding, specs: dict[str, FindingSpec]) -> FindingView:
    spec = specs.get(finding.code)
    return FindingView(finding, spec.title if spec else finding.code, spec.rfc if spec else "")


def _section(result: CheckResult, specs: dict[str, FindingSpec]) -> SectionView:
    views = [_view(f, specs) for f in result.findings]
    problems = sorted((v for v in views if v.needs_action), key=lambda v: -v.status.severity)
    others = [v for v in views if not v.needs_action]
    return SectionView(
        check=result.check,
        title=CHECK_TITLES.get(result.check, result.check),
        purpose=CHECK_PURPOSES.get(result.check, ""),
        status=result.status,
        problems=tuple(problems),
        others=tuple(others),
    )


def report_view(report: Report) -> ReportView:
    """``report`` arranged for a page."""
    specs = dict(catalogue())
    sections = tuple(_section(r, specs) for r in report.results)
    counts: Counter[Status] = Counter(f.status for f in report.findings())
    return ReportView(report, sections, {status: counts[status] for status in Status})


def grade_class(grade: str) -> str:
    """A CSS class for a grade: good (A), fair (B, C), poor (D, F), unknown (?)."""
    letter = grade[:1]
    if letter == "A":
        return "good"
    if letter in ("B", "C"):
        return "fair"
    if letter in ("D", "F"):
        return "poor"
    return "unknown"


def worst_first(sections: Sequence[SectionView]) -> list[SectionView]:
    return sorted(sections, key=lambda s: -s.status.severity)
