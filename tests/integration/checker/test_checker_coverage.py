"""Every minimum finding code of the checker issue is produced by an end-to-end test above."""

from __future__ import annotations

import importlib

from checker_lab import Expect
from issue_codes import MINIMUM_CODES

MODULES = (
    "test_checker_mx",
    "test_checker_mta_sts",
    "test_checker_starttls",
    "test_checker_dane",
    "test_checker_sender",
    "test_checker_hostile",
)


def produced_codes() -> set[str]:
    """The codes the expectation tables of the checker test modules assert."""
    cases: list[Expect] = []
    for name in MODULES:
        cases.extend(importlib.import_module(name).CASES)
    return {case.code for case in cases}


def test_every_minimum_code_has_a_lab_scenario() -> None:
    """No code of the issue's minimum list is left without a scenario that produces it."""
    assert sorted(set(MINIMUM_CODES) - produced_codes()) == []
