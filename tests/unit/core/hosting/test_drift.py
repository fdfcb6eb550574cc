"""The MX drift guard (RFC 8461 §4.1, §5)."""

from __future__ import annotations

import pytest

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.hosting.drift import (
    DriftAction,
    drift_action,
    explain_drift,
    followed_patterns,
    mx_drift,
)
from mailshield.core.hosting.model import MxDrift


@pytest.mark.parametrize(
    ("patterns", "live", "extra", "uncovered", "unused"),
    [
        (("mx1.a.test",), ("mx1.a.test",), (), (), ()),
        (("mx1.a.test",), ("MX1.A.test.",), (), (), ()),
        (("mx1.a.test",), ("mx1.a.test", "mx2.a.test"), (), ("mx2.a.test",), ()),
        (("mx1.a.test", "old.a.test"), ("mx1.a.test",), (), (), ("old.a.test",)),
        (("mx1.a.test", "future.a.test"), ("mx1.a.test",), ("future.a.test",), (), ()),
        (("*.a.test",), ("mx1.a.test", "mx2.a.test"), (), (), ()),
        (("*.a.test",), ("deep.mx.a.test",), (), ("deep.mx.a.test",), ("*.a.test",)),
    ],
    ids=[
        "same",
        "case-and-dot",
        "new-mx",
        "mx-gone",
        "extra-is-intended",
        "wildcard",
        "wildcard-one-label",
    ],
)
def test_mx_drift(
    patterns: tuple[str, ...],
    live: tuple[str, ...],
    extra: tuple[str, ...],
    uncovered: tuple[str, ...],
    unused: tuple[str, ...],
) -> None:
    """Uncovered hosts and unused patterns are found with the §4.1 matching rules."""
    drift = mx_drift(patterns, live, extra)
    assert (drift.uncovered, drift.unused) == (uncovered, unused)


NEW_MX = MxDrift(("mx1.a.test", "mx2.a.test"), ("mx2.a.test",))


@pytest.mark.parametrize(
    ("mode", "drift", "follow", "action"),
    [
        (Mode.TESTING, NEW_MX, True, DriftAction.FOLLOW),
        (Mode.TESTING, NEW_MX, False, DriftAction.ALERT),
        (Mode.ENFORCE, NEW_MX, True, DriftAction.ALERT),
        (Mode.NONE, NEW_MX, True, DriftAction.NONE),
        (Mode.ENFORCE, MxDrift(("mx1.a.test",)), True, DriftAction.NONE),
        (Mode.TESTING, MxDrift((), (), ("mx1.a.test",)), True, DriftAction.ALERT),
    ],
    ids=[
        "testing-follows",
        "testing-without-follow-alerts",
        "enforce-never-silent",
        "removal",
        "no-drift",
        "all-mx-gone-alerts",
    ],
)
def test_drift_action(mode: Mode, drift: MxDrift, follow: bool, action: DriftAction) -> None:
    """Testing follows when allowed; enforce only alerts; removal ignores drift."""
    assert drift_action(mode, drift, mx_follow=follow) is action


def test_followed_patterns_keep_extras() -> None:
    """Following replaces the MX names and keeps the operator's extra patterns."""
    assert followed_patterns(["MX2.a.test."], ["*.backup.test"]) == ("mx2.a.test", "*.backup.test")


@pytest.mark.parametrize(
    ("mode", "phrase"),
    [(Mode.ENFORCE, "refuse to deliver"), (Mode.TESTING, "report every delivery")],
    ids=["enforce", "testing"],
)
def test_explanation_says_the_consequence(mode: Mode, phrase: str) -> None:
    """The explanation names the host and what senders do in that mode."""
    text = explain_drift(NEW_MX, mode)
    assert "mx2.a.test" in text
    assert phrase in text
