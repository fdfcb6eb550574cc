"""The ledger of names each worker holds: reported names leave it, an ended worker's names are
named as lost, and a report for a name not held is refused."""

from __future__ import annotations

import pytest

from mailshield.services.bulk_ledger import Ledger, UnexpectedResult


def test_reported_names_leave_the_ledger() -> None:
    """A worker holds what it was handed until it reports it."""
    ledger = Ledger()
    ledger.hand(0, ["a.test", "b.test"])
    ledger.hand(1, ["c.test"])
    ledger.report(0, "b.test")
    assert (ledger.holding(0), ledger.holding(1)) == (1, 1)
    assert ledger.release(0) == ["a.test"]
    assert ledger.release(1) == ["c.test"]


def test_a_finished_worker_releases_nothing() -> None:
    """A worker that reported everything it held ends with nothing lost."""
    ledger = Ledger()
    ledger.hand(0, ["a.test"])
    ledger.report(0, "a.test")
    assert ledger.holding(0) == 0
    assert ledger.release(0) == []


def test_a_name_listed_twice_is_held_twice() -> None:
    """A list naming a domain twice gets it checked twice, and both count."""
    ledger = Ledger()
    ledger.hand(0, ["a.test", "a.test", "b.test"])
    ledger.report(0, "a.test")
    assert ledger.holding(0) == 2
    assert sorted(ledger.release(0)) == ["a.test", "b.test"]


@pytest.mark.parametrize(
    "handed",
    [
        pytest.param({}, id="never-handed"),
        pytest.param({1: ["a.test"]}, id="held-by-another-worker"),
    ],
)
def test_a_stranger_is_refused(handed: dict[int, list[str]]) -> None:
    """A report for a name the worker does not hold is an error, not a silent duplicate."""
    ledger = Ledger()
    for worker, names in handed.items():
        ledger.hand(worker, names)
    with pytest.raises(UnexpectedResult, match=r"worker 0 reported 'a\.test'"):
        ledger.report(0, "a.test")


def test_a_second_report_is_refused() -> None:
    """The same domain reported twice by a worker holding it once is refused the second time."""
    ledger = Ledger()
    ledger.hand(0, ["a.test"])
    ledger.report(0, "a.test")
    with pytest.raises(UnexpectedResult):
        ledger.report(0, "a.test")
