"""Counting bulk outcomes: the worst status decides the exit code, counts feed the summary."""

from __future__ import annotations

import pytest

from mailshield.core.model import Status
from mailshield.services.bulk_tally import Tally


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        pytest.param([], None, id="nothing-checked"),
        pytest.param([Status.PASS, Status.WARN], Status.WARN, id="warn"),
        pytest.param([Status.ERROR, Status.PASS], Status.ERROR, id="untested"),
        pytest.param([Status.ERROR, Status.FAIL, Status.PASS], Status.FAIL, id="fail-beats-error"),
        pytest.param([Status.NOT_APPLICABLE], Status.NOT_APPLICABLE, id="not-applicable"),
    ],
)
def test_worst_status(statuses: list[Status], worst: Status | None) -> None:
    """The most severe status of every domain counted, in any order."""
    tally = Tally()
    for status in statuses:
        tally.add(status)
    assert tally.worst is worst
    assert tally.checked == len(statuses)


def test_counts_per_status() -> None:
    """Each status is counted, and an unseen one counts zero."""
    tally = Tally()
    for status in (Status.FAIL, Status.FAIL, Status.ERROR, Status.PASS):
        tally.add(status)
    assert (tally.counts[Status.FAIL], tally.counts[Status.ERROR]) == (2, 1)
    assert tally.counts[Status.WARN] == 0
    assert tally.worst is Status.FAIL  # reading a zero count does not make it "seen"
