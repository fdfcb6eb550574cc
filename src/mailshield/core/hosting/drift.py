"""The MX drift guard: the live MX set against the policy's mx patterns (RFC 8461 §4.1).

An MX host no pattern matches is refused by senders in ``enforce`` and reported in ``testing``
(§5); a pattern that matches no MX is harmless but stale. What to do about drift:

- ``testing`` with ``mx_follow``: the policy follows the MX set (new id, body first). Testing
  delivers anyway, so following cannot lose mail.
- ``enforce``: never silently. Adding a host to an enforce policy must happen *before* the MX
  record changes (reference §2.7 item 17), and dropping one after (item 18); after the fact the
  operator must decide, so the guard records an alert and explains.
- ``none`` (removal in progress): nothing to guard.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from mailshield.core.documents.mta_sts_policy import Mode
from mailshield.core.hosting.model import MxDrift
from mailshield.core.names import mx_pattern_matches, normalise


class DriftAction(enum.StrEnum):
    NONE = "none"
    FOLLOW = "follow"  # rewrite the policy's mx list (testing mode)
    ALERT = "alert"  # record an event and explain; change nothing


def mx_drift(patterns: Sequence[str], live: Sequence[str], extra: Sequence[str] = ()) -> MxDrift:
    """Which live MX hosts are uncovered and which patterns are unused.

    The operator's ``extra`` patterns are meant to match no MX yet, so they never count as unused.
    """
    hosts = tuple(dict.fromkeys(normalise(h) for h in live))
    uncovered = tuple(h for h in hosts if not any(mx_pattern_matches(p, h) for p in patterns))
    unused = tuple(
        p for p in patterns if p not in extra and not any(mx_pattern_matches(p, h) for h in hosts)
    )
    return MxDrift(hosts, uncovered, unused)


def drift_action(mode: Mode, drift: MxDrift, *, mx_follow: bool) -> DriftAction:
    """What the guard does about ``drift`` for a policy in ``mode`` (module docstring)."""
    if not drift.drifted or mode is Mode.NONE:
        return DriftAction.NONE
    if mode is Mode.TESTING and mx_follow and drift.live:
        return DriftAction.FOLLOW
    return DriftAction.ALERT


def followed_patterns(live: Sequence[str], extra: Sequence[str]) -> tuple[str, ...]:
    """The mx list that follows the live MX set, keeping the operator's extra patterns."""
    return tuple(dict.fromkeys((*(normalise(h) for h in live), *extra)))


def explain_drift(drift: MxDrift, mode: Mode) -> str:
    """One paragraph for the operator: what changed and what to do in ``mode``."""
    parts: list[str] = []
    if drift.uncovered:
        hosts = ", ".join(drift.uncovered)
        consequence = (
            "senders that cached the enforce policy refuse to deliver to them (RFC 8461 §5)"
            if mode is Mode.ENFORCE
            else "senders report every delivery to them as a failure"
        )
        parts.append(f"MX host(s) {hosts} match no mx pattern: {consequence}.")
        parts.append(f"Add them to the policy (mailshield domains edit --mx ...): {_when(mode)}")
    if drift.unused:
        patterns = ", ".join(drift.unused)
        parts.append(
            f"Pattern(s) {patterns} match no MX host any more; drop them once the MX change "
            "is final (reference §2.7 item 18)."
        )
    return " ".join(parts)


def _when(mode: Mode) -> str:
    if mode is Mode.ENFORCE:
        return (
            "this publishes a new id; publish it at once, and next time add hosts before the "
            "MX record changes."
        )
    return "or enable mx_follow to let testing policies follow the MX set."
