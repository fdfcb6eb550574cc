"""What a bulk run does with each domain, in whichever process checks it: check, then render the
output line (rendering is CPU work, so it is done where the checking is, not by the writer).

A :class:`RenderedCheck` is a small picklable value, so a worker process can be handed it and
build its own checker from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailshield.core.model import Report, Status
from mailshield.interfaces.cli.render import csv_row, csv_text, report_json

if TYPE_CHECKING:
    from mailshield.services.bulk_worker import Check
    from mailshield.services.check_settings import CheckSettings

BULK_FORMATS = ("jsonl", "csv")


@dataclass(frozen=True, slots=True)
class RenderedCheck:
    """Builds a function checking one domain and returning its output line and status."""

    settings: CheckSettings
    selectors: tuple[str, ...]
    fmt: str  # jsonl or csv

    @staticmethod
    def preload() -> None:
        """Import what building a checker needs, in this process: forked workers then inherit
        it (about 0.15 s to start two workers instead of 0.6–0.9 s, each importing alone)."""
        import mailshield.interfaces.assembly  # noqa: F401

    def shared_by(self, workers: int) -> RenderedCheck:
        """This job for one of ``workers`` processes: run-wide limits (connections at once to
        one MX address) divided between them."""
        from mailshield.services.bulk_plan import worker_share

        share = worker_share(self.settings.smtp_per_address, workers)
        settings = dataclasses.replace(self.settings, smtp_per_address=share)
        return dataclasses.replace(self, settings=settings)

    def __call__(self) -> Check:
        """A checker wired from the settings, wrapped to render each report as one line."""
        from mailshield.interfaces.assembly import build_checker  # heavy: only when checking

        checker = build_checker(self.settings, dkim_selectors=self.selectors)
        fmt = self.fmt

        async def check(domain: str) -> tuple[str, Status]:
            report = await checker.check(domain)
            return render_line(report, fmt), report.status

        return check


def render_line(report: Report, fmt: str) -> str:
    """``report`` as one line of bulk output: a CSV row (the header is written once, apart) or a
    JSON object."""
    if fmt == "csv":
        return csv_text([csv_row(report)])
    return report_json(report, indent=None) + "\n"
