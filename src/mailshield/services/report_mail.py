"""Report e-mails from the SMTP receiver and the IMAP poller: DKIM, then the intake pipeline,
then one verdict both map to their protocol.

=============  ==========================================  ==============  ====================
verdict        when                                        SMTP            IMAP
=============  ==========================================  ==============  ====================
accepted       a report was stored, or counted as a copy   250             move to done folder
quarantined    nothing readable: kept raw with the reason  250 (kept)      move to quarantine
refused        no policy domain served here; nothing kept  550 5.7.1       move to quarantine
too_large      over the size cap; nothing kept             552 5.3.4       move to quarantine
retry          storage failed, or anything unexpected      451 4.3.0       leave; next poll
=============  ==========================================  ==============  ====================

On ``retry`` the sender tries again later (RFC 8460 §5.5); the IMAP poller leaves the message
where it is. A message with several report parts is ``accepted`` when one part was kept and
none failed; one failed part makes it ``retry`` (parts already kept count as copies next time).
The DKIM verdict (:mod:`~mailshield.services.report_dkim`) is computed on the bytes as received
and stored with each part's arrival under ``dkim``; it never decides acceptance.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from mailshield.core.model import JSONValue
from mailshield.services.ingest import Arrival, Channel, Disposition, MessageOutcome
from mailshield.services.report_dkim import DkimVerdict, ReportDkim

__all__ = ["MailIntake", "MailResult", "MailVerdict", "MessageSink", "verdict_of"]

log = logging.getLogger(__name__)


class MailVerdict(enum.StrEnum):
    """What a receiver answers for one report message (see the module table)."""

    ACCEPTED = "accepted"
    QUARANTINED = "quarantined"
    REFUSED = "refused"
    TOO_LARGE = "too_large"
    RETRY = "retry"

    @property
    def durable(self) -> bool:
        """The message (or its report) is committed: the sender may be told so."""
        return self in (MailVerdict.ACCEPTED, MailVerdict.QUARANTINED)


@dataclass(frozen=True, slots=True)
class MailResult:
    """One message's verdict, why, and what the pipeline and DKIM said."""

    verdict: MailVerdict
    detail: str
    outcome: MessageOutcome | None = None
    dkim: DkimVerdict | None = None


class MessageSink(Protocol):
    """The intake pipeline's e-mail entry point (:meth:`ReportIntake.submit_message`)."""

    async def submit_message(self, message: bytes, arrival: Arrival) -> MessageOutcome: ...


class MailIntake:
    """DKIM verification plus the pipeline, for one channel's messages."""

    def __init__(self, sink: MessageSink, dkim: ReportDkim | None) -> None:
        self._sink = sink
        self._dkim = dkim

    async def receive(
        self,
        raw: bytes,
        channel: Channel,
        *,
        source: str | None = None,
        meta: Mapping[str, JSONValue] | None = None,
    ) -> MailResult:
        """Verify, store and judge message ``raw``; never raises (an error is ``retry``)."""
        try:
            verdict = await self._dkim.verify(raw) if self._dkim else None
            extra: dict[str, JSONValue] = dict(meta or {})
            if verdict is not None:
                extra["dkim"] = verdict.to_meta()
            arrival = Arrival(channel, source=source, content_type="message/rfc822", meta=extra)
            outcome = await self._sink.submit_message(raw, arrival)
        except Exception as exc:  # database down, driver errors: the sender must retry
            log.exception("report message from %s could not be stored", source)
            return MailResult(MailVerdict.RETRY, f"temporary failure: {type(exc).__name__}")
        kind, detail = verdict_of(outcome)
        return MailResult(kind, detail, outcome, verdict)


def verdict_of(outcome: MessageOutcome) -> tuple[MailVerdict, str]:
    """The verdict for a message from its parts' dispositions, and a one-line detail."""
    parts = outcome.outcomes
    dispositions = {part.disposition for part in parts}
    if not parts or Disposition.FAILED in dispositions:
        failed = next((p.detail for p in parts if p.disposition is Disposition.FAILED), "")
        return MailVerdict.RETRY, failed or "nothing was stored"
    if dispositions & {Disposition.STORED, Disposition.DUPLICATE}:
        kept = sum(p.disposition in (Disposition.STORED, Disposition.DUPLICATE) for p in parts)
        return MailVerdict.ACCEPTED, f"{kept} of {len(parts)} report(s) kept"
    if Disposition.QUARANTINED in dispositions:
        reasons = sorted({p.reason or "unreadable" for p in parts if p.reason})
        return MailVerdict.QUARANTINED, "kept for review: " + ", ".join(reasons or ["unreadable"])
    if dispositions == {Disposition.TOO_LARGE}:
        return MailVerdict.TOO_LARGE, parts[0].detail
    return MailVerdict.REFUSED, parts[0].detail
