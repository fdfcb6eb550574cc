"""Text renderings of hosted domains for ``mailshield domains`` (JSON comes from ``to_dict``).

Records are printed in zone-file form, one per line after a ``;`` comment, so they can be pasted
into a zone file as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from mailshield.core.hosting.drift import explain_drift

if TYPE_CHECKING:
    from mailshield.core.hosting.model import RecordCheck
    from mailshield.core.hosting.proposal import Proposal
    from mailshield.services.hosting_views import DomainView, ModeChange, PolicyChange

_MARKS = {"ok": "ok", "stale": "stale", "missing": "MISSING", "wrong": "WRONG", "unknown": "?"}
_SETUPS = {"cname": "two-record setup", "delegated": "delegated setup (RFC 8461 §8.2)"}


def render_onboarding(view: DomainView) -> str:
    """What ``domains add`` prints: the policy served and the records to publish."""
    d = view.domain
    lines = [f"Hosting {d.name} ({_SETUPS[d.setup.value]}): {d.state.value}.", ""]
    lines += _policy(view)
    lines += ["", f"Publish these records in the DNS zone of {d.name}:", ""]
    lines += _records(view, customer_only=True)
    lines += _delegated(view)
    lines += ["", f"Then run: mailshield domains verify {d.name}"]
    lines += _notes(view.notes)
    return "\n".join(lines) + "\n"


def render_proposal(domain: str, proposal: Proposal) -> str:
    """What ``domains add --dry-run`` prints."""
    lines = [f"Live MX hosts of {domain}: {', '.join(proposal.live_mx) or '(none)'}"]
    if proposal.spec is None:
        lines += ["No policy can be proposed:"] + [f"  - {p}" for p in proposal.problems]
    else:
        lines += ["Proposed policy:"] + [
            f"    {line}" for line in proposal.spec.body().splitlines()
        ]
    lines += _notes(proposal.notes)
    return "\n".join(lines) + "\n"


def render_list(views: Sequence[DomainView]) -> str:
    """One line per domain: state, mode, ids, and the first problem."""
    if not views:
        return "No hosted domains. Add one with: mailshield domains add DOMAIN\n"
    header = f"{'DOMAIN':<32} {'STATE':<14} {'MODE':<8} {'POLICY ID':<24} {'DNS ID':<24} PROBLEM"
    rows = [header]
    for view in views:
        d = view.domain
        problem = next((f"{c.label}: {c.status.value}" for c in _bad(d.checks)), "")
        if d.drift is not None and d.drift.drifted:
            problem = problem or "MX drift"
        rows.append(
            f"{d.name:<32} {d.state.value:<14} {view.policy.spec.mode.value:<8} "
            f"{view.policy.id:<24} {d.live_id or '-':<24} {problem}"
        )
    return "\n".join(rows) + "\n"


def render_detail(view: DomainView) -> str:
    """Everything about one domain: state, policy, records as checked, drift, removal, events."""
    d = view.domain
    serving = "serving" if view.serving else "not serving yet"
    lines = [f"{d.name}: {d.state.value}, {serving} ({_SETUPS[d.setup.value]})"]
    if d.verified_at is not None:
        lines.append(f"Last verified {d.verified_at:%Y-%m-%d %H:%M:%S} UTC.")
    lines += ["", *_policy(view), "", "Records:"]
    lines += [_check(c) for c in d.checks] or [
        "  (not verified yet: run mailshield domains verify)"
    ]
    lines += _rollout(view)
    lines += _drift(view)
    lines += _removal(view)
    if view.events:
        lines += ["", "Recent events:"]
        lines += [f"  {e.at:%Y-%m-%d %H:%M:%S} {e.kind}: {e.message}" for e in view.events]
    return "\n".join(lines) + "\n"


def render_change(change: PolicyChange) -> str:
    """What ``domains edit`` and ``domains mode`` print after a change (or none)."""
    view = change.view
    if not change.changed:
        return f"{view.domain.name}: nothing changed (the policy is already so).\n"
    lines = [
        f"{view.domain.name}: new policy id={change.current.id} is served now "
        f"(was id={change.previous.id}).",
        "",
        *_policy(view),
        "",
        *_publish_id(view),
    ]
    lines += _notes(view.notes)
    return "\n".join(lines) + "\n"


def render_mode_change(result: ModeChange) -> str:
    text = render_change(result.change)
    if result.forced:
        text += f"\nForced past the enforce gate. Risk: {result.risk}\n"
    if result.verdict is not None and result.verdict.cautions:
        text += "".join(f"Caution: {c.message}\n" for c in result.verdict.cautions)
    return text


def render_removal(view: DomainView) -> str:
    """What ``domains remove`` prints: the mode none policy, the id to publish, the safe time."""
    d = view.domain
    lines = [
        f"{d.name}: removal started. Serving mode none (max_age {view.policy.spec.max_age}) under "
        f"id={view.policy.id}; keep every record until the time below (RFC 8461 §8.3).",
        "",
        *_publish_id(view),
        *_removal(view),
        "",
        f"When that time has passed: mailshield domains remove {d.name} --finish",
    ]
    return "\n".join(lines) + "\n"


def render_finished(view: DomainView) -> str:
    d = view.domain
    lines = [f"{d.name} is no longer hosted. You may now delete these records:", ""]
    lines += [r.zone_line() for r in view.records if not r.published_by_mailshield]
    return "\n".join(lines) + "\n"


# -- parts ------------------------------------------------------------------------------------


def _policy(view: DomainView) -> list[str]:
    lines = [
        f"Policy id={view.policy.id} (https://mta-sts.{view.domain.name}/.well-known/mta-sts.txt):"
    ]
    return lines + [f"    {line}" for line in view.policy.spec.body().splitlines()]


def _records(view: DomainView, *, customer_only: bool) -> list[str]:
    lines: list[str] = []
    for record in view.records:
        if customer_only and record.published_by_mailshield:
            continue
        lines += [f"; {record.purpose}", record.zone_line()]
    return lines


def _delegated(view: DomainView) -> list[str]:
    ours = [r for r in view.records if r.published_by_mailshield]
    if not ours:
        return []
    lines = [
        "",
        "MailShield publishes and rotates this record itself (RFC 2136):",
        ours[0].zone_line(),
    ]
    if view.id_publish_after is not None:
        lines.append(
            f"(written from {view.id_publish_after:%Y-%m-%d %H:%M:%S} UTC: body first, then id)"
        )
    return lines


def _publish_id(view: DomainView) -> list[str]:
    """Which TXT to publish now (two-record setup) or when MailShield writes it (delegated)."""
    txt = next((r for r in view.records if r.rdtype == "TXT" and "v=STSv1" in r.value), None)
    if txt is None:
        return []
    if txt.published_by_mailshield:
        when = view.id_publish_after
        if when is None:
            return [
                "MailShield has written the new id to the delegated TXT record:",
                txt.zone_line(),
            ]
        return [
            f"MailShield writes the new id at {when:%Y-%m-%d %H:%M:%S} UTC (body first, then id):",
            txt.zone_line(),
        ]
    return [
        "The new policy is served already; now publish its id (RFC 8461 §8.1):",
        txt.zone_line(),
        f"then run `mailshield domains verify {view.domain.name}` to watch until it is live.",
    ]


def _rollout(view: DomainView) -> list[str]:
    d = view.domain
    if d.live_id == view.policy.id or d.verified_at is None:
        return []
    seen = f"DNS still shows id={d.live_id}" if d.live_id else "DNS shows no valid id"
    return ["", f"Waiting for id={view.policy.id} to be live ({seen}).", *_publish_id(view)]


def _drift(view: DomainView) -> list[str]:
    drift = view.domain.drift
    if drift is None or not drift.drifted:
        return []
    return ["", "MX drift: " + explain_drift(drift, view.policy.spec.mode)]


def _removal(view: DomainView) -> list[str]:
    if view.removal is None:
        return []
    if view.removal.delete_after is None:
        return ["", f"Earliest safe deletion time: not known yet ({view.removal.waiting_for})."]
    return [
        "",
        f"Earliest safe time to delete the records: {_at(view.removal.delete_after)} UTC.",
    ]


def _check(check: RecordCheck) -> str:
    optional = "" if check.required else " (recommended)"
    line = f"  [{_MARKS[check.status.value]:>7}] {check.label}{optional}: expected {check.expected}"
    if check.status.value != "ok":
        line += f"; sees {check.seen}"
    if check.note:
        line += f" — {check.note}"
    return line


def _bad(checks: Sequence[RecordCheck]) -> list[RecordCheck]:
    return [c for c in checks if c.required and c.status.value not in ("ok", "stale")]


def _notes(notes: Sequence[str]) -> list[str]:
    return ["", *(f"Note: {n}" for n in notes)] if notes else []


def _at(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"
