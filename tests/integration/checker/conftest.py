"""Fixtures for the checker's end-to-end tests: one lab and one report cache per test module.

A module sets ``SCENARIO = "<file stem>"`` and optionally ``DKIM_SELECTORS`` and ``SETTINGS``
(overrides, e.g. a shorter DNS timeout where DNS faults are the point).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from checker_lab import Reports, make_reports, running_lab, scenario

from mailshield.lab.runner import Lab


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The module's scenario, running for all of its tests."""
    name: str = request.module.SCENARIO
    with running_lab(scenario(name), tmp_path_factory.mktemp(name)) as running:
        yield running


@pytest.fixture(scope="module")
def reports(lab: Lab, request: pytest.FixtureRequest) -> Reports:
    """Reports of the module's lab domains, each checked once."""
    selectors = getattr(request.module, "DKIM_SELECTORS", ())
    return make_reports(lab, dkim_selectors=selectors, **getattr(request.module, "SETTINGS", {}))
