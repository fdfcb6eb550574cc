"""Pure analysis of stored TLS-RPT reports (RFC 8460): sessions, summaries, problems, readiness.

- :mod:`~mailshield.core.analysis.records`: the policy rows analysis reads (what storage returns).
- :mod:`~mailshield.core.analysis.sessions`: counting each session once per report and domain.
- :mod:`~mailshield.core.analysis.summary`: per-day rates and failure breakdowns.
- :mod:`~mailshield.core.analysis.problems`: the top problems in plain words, with their fix.
- :mod:`~mailshield.core.analysis.readiness`: whether a domain is ready for ``mode: enforce``.
"""
