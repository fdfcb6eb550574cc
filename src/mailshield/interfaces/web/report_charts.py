"""The TLS-RPT charts of a domain's reports page, drawn with :mod:`.charts`."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from mailshield.core.analysis.summary import TlsRptSummary
from mailshield.interfaces.web.charts import Point, bar_chart, line_chart


@dataclass(frozen=True, slots=True)
class ReportCharts:
    sessions: Markup
    failure_rate: Markup


def report_charts(summary: TlsRptSummary) -> ReportCharts:
    """Sessions per day (successful and failed stacked) and the failure rate per day."""
    days = summary.days
    labels = [f"{row.day.day} {row.day:%b}" for row in days]
    sessions = bar_chart(
        labels,
        [(row.successful, row.failed) for row in days],
        title="TLS sessions per day: successful and failed",
        series=("successful", "failed"),
    )
    top = max((row.failure_rate * 100 for row in days), default=0.0)
    y_max = max(5.0, min(100.0, top * 1.25))
    rate = line_chart(
        [Point(label, row.failure_rate * 100) for label, row in zip(labels, days, strict=True)],
        title="Failure rate per day (%)",
        y_max=y_max,
        ticks=(0, round(y_max / 2, 1), round(y_max, 1)),
        unit="%",
    )
    return ReportCharts(sessions, rate)
