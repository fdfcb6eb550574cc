"""The TLS-RPT intake pipeline: one way in for every channel (HTTPS, SMTP, IMAP, files).

Per arrival (RFC 8460 §5, reference §3.6)::

    size cap → parse (sans-IO, bounded) → domain gate → commit → outcome
                                      ↘ unparseable → quarantine (raw bytes + reason) → commit

The raw bytes and the report rows are committed together by one write transaction, and the
outcome is returned only after that commit: a receiver that answers from the outcome never
acknowledges a report that is not durably stored. Concurrent arrivals are group-committed
(:class:`~mailshield.services.ingest_batch.GroupCommit`): one transaction for many reports.

Receivers map the :class:`Disposition` to their protocol: ``stored``/``duplicate``/
``quarantined`` are durable (HTTP 2xx, SMTP 250, IMAP: move the message); ``refused`` and
``too_large`` are permanent refusals, nothing kept (HTTP 403/413, SMTP 550/552); ``failed``
means storage failed and nothing is acknowledged (HTTP 503, SMTP 451: the sender retries,
RFC 8460 §5.5).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from mailshield.core.documents.report_email import ParsedReportEmail
from mailshield.core.documents.report_email import parse_report_email as _parse_email
from mailshield.core.documents.tls_report import (
    ReportLimits,
    TlsReport,
    TlsReportParse,
    parse_tls_report,
)
from mailshield.core.model import JSONValue
from mailshield.services.ingest_batch import GroupCommit
from mailshield.services.ingest_hints import served_hints
from mailshield.services.ingest_model import (
    Arrival,
    Channel,
    Disposition,
    IngestOptions,
    IngestOutcome,
    KnownDomains,
    MessageOutcome,
)
from mailshield.services.ingest_prepared import kept_outcome, prepared_outcome
from mailshield.storage.report_prepared import PreparedReport
from mailshield.storage.reports import (
    KeepReport,
    Quarantine,
    RawArrival,
    RawRecord,
    ReportStore,
    Split,
    Written,
)

__all__ = [
    "Arrival",
    "Channel",
    "Disposition",
    "IngestOptions",
    "IngestOutcome",
    "KnownDomains",
    "MessageOutcome",
    "ReportIntake",
]

THREAD_THRESHOLD = 64 * 1024  # bytes: larger inputs are parsed off the event loop


class ReportIntake:
    """The pipeline. Create one per process; ``await aclose()`` when done."""

    def __init__(
        self,
        store: ReportStore,
        known: KnownDomains,
        options: IngestOptions | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._store = store
        self._known = known
        self._options = options or IngestOptions()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._commit = GroupCommit(store, self._options.batch_size)
        self._served: dict[str, float] = {}

    @property
    def store(self) -> ReportStore:
        return self._store

    async def submit_report(self, data: bytes, arrival: Arrival) -> IngestOutcome:
        """Take one report's bytes (gzip or JSON, RFC 8460 §5.2) and return what became of it."""
        arrival = self._stamped(arrival)
        if len(data) > self._options.max_bytes:
            return _too_large(len(data), self._options.max_bytes)
        parsed = await self._parse(data)
        return await self._decide(parsed, _raw(data, arrival))

    async def submit_parsed(
        self, data: bytes, parsed: TlsReportParse, arrival: Arrival
    ) -> IngestOutcome:
        """Like :meth:`submit_report` for bytes already parsed with :attr:`limits` (e.g. by a
        pool of worker processes during a bulk import)."""
        arrival = self._stamped(arrival)
        if len(data) > self._options.max_bytes:
            return _too_large(len(data), self._options.max_bytes)
        return await self._decide(parsed, _raw(data, arrival))

    async def submit_parsed_many(
        self, items: Sequence[tuple[bytes, TlsReportParse, Arrival]]
    ) -> list[IngestOutcome]:
        """:meth:`submit_parsed` for many reports (a bulk import), in order.

        New reports from ungated channels (the common case) are queued for the group commit
        in one go, without a task per report; the rest (gated, unparseable, oversize) take
        the one-by-one path. Every outcome is returned only after its commit.
        """
        kept: list[KeepReport] = []
        slots: list[IngestOutcome | None] = []
        for data, parsed, arrival in items:
            stamped = self._stamped(arrival)
            report = parsed.report
            if (
                report is None
                or stamped.channel in self._options.gated
                or len(data) > self._options.max_bytes
            ):
                slots.append(await self.submit_parsed(data, parsed, stamped))
                continue
            raw = _raw(data, stamped)
            kept.append(KeepReport(report, raw.channel, raw.received_at, raw=raw))
            slots.append(None)
        results = iter(zip(await self._commit.submit_many(kept), kept, strict=True))
        return [slot or _kept(*next(results)) for slot in slots]

    async def submit_prepared_many(self, items: Sequence[PreparedReport]) -> list[IngestOutcome]:
        """Store reports whose rows were built ahead by ``prepare_arrival`` (in a bulk
        import's worker processes, :mod:`~mailshield.services.ingest_prepared`), in order.

        SQLite only (:attr:`takes_prepared`). Each is stored or counted as a copy like a
        :meth:`submit_parsed` of the same report; every outcome only after its commit.
        """
        written = await self._commit.submit_many(items)
        return [prepared_outcome(w, item) for w, item in zip(written, items, strict=True)]

    @property
    def takes_prepared(self) -> bool:
        """Whether :meth:`submit_prepared_many` can store prepared rows (SQLite storage)."""
        return self._store.database.dialect == "sqlite"

    @property
    def options(self) -> IngestOptions:
        """The limits and policy of this intake."""
        return self._options

    @property
    def limits(self) -> ReportLimits:
        """The parsing limits reports are held to."""
        return self._options.limits

    async def submit_message(self, message: bytes, arrival: Arrival) -> MessageOutcome:
        """Take one report e-mail (RFC 8460 §5.3): each report part is one report; a message
        without a usable report part is quarantined whole."""
        arrival = self._stamped(arrival)
        limit = self._options.email_limits.max_message_bytes
        if len(message) > limit:
            return MessageOutcome((_too_large(len(message), limit),))
        parsed = await self._parse_email(message)
        found = parsed.email
        if found.failure is not None:
            raw = _raw(message, arrival, kind="message")
            reason = f"email_{found.failure.reason.value}"
            domains = await served_hints(raw, self._known, self.limits, found.report_domain)
            decision = Quarantine(reason, found.failure.detail, raw=raw, domains=domains)
            return MessageOutcome((await self._commit_one(decision),))
        meta = dict(arrival.meta) | _email_meta(parsed)
        outcomes = []
        for attachment, report in zip(found.attachments, parsed.reports, strict=True):
            part_meta = meta | _file_meta(attachment.filename)
            part = replace(arrival, content_type=attachment.content_type, meta=part_meta)
            outcomes.append(self._decide(report, _raw(attachment.content, part)))
        return MessageOutcome(tuple(await asyncio.gather(*outcomes)))

    async def reprocess(self, raw_id: int) -> IngestOutcome:
        """Parse quarantined arrival ``raw_id`` again (after a parser or limit fix).

        The domain gate does not apply: the bytes were already accepted into quarantine.
        """
        raw = await self._store.raw(raw_id)
        if raw is None:
            return IngestOutcome(Disposition.FAILED, f"no raw arrival {raw_id}", raw_id=raw_id)
        if raw.state != "quarantined":
            disposition = Disposition(raw.state)
            return IngestOutcome(
                disposition,
                "not in quarantine",
                report_id=raw.report_id,
                raw_id=raw.id,
                copies=raw.copies,
            )
        if raw.kind == "message":
            return await self._reprocess_message(raw)
        parsed = await self._parse(raw.data)
        if parsed.report is None:
            assert parsed.failure is not None
            decision: KeepReport | Quarantine = Quarantine(
                parsed.failure.reason.value, parsed.failure.detail, raw_id=raw.id
            )
            return await self._commit_one(decision)
        keep = KeepReport(parsed.report, raw.channel, raw.received_at, raw_id=raw.id)
        return await self._commit_one(keep, parsed.report)

    async def aclose(self) -> None:
        """Finish pending writes and stop the writer."""
        await self._commit.aclose()

    # --- steps ---------------------------------------------------------------------------------

    def _stamped(self, arrival: Arrival) -> Arrival:
        return arrival if arrival.received_at else replace(arrival, received_at=self._clock())

    async def _parse(self, data: bytes) -> TlsReportParse:
        if len(data) <= THREAD_THRESHOLD:
            return parse_tls_report(data, self._options.limits)
        return await asyncio.to_thread(parse_tls_report, data, self._options.limits)

    async def _parse_email(self, message: bytes) -> ParsedReportEmail:
        options = self._options
        if len(message) <= THREAD_THRESHOLD:
            return _parse_email(message, options.email_limits, options.limits)
        return await asyncio.to_thread(_parse_email, message, options.email_limits, options.limits)

    async def _decide(self, parsed: TlsReportParse, raw: RawArrival) -> IngestOutcome:
        report = parsed.report
        if report is None:
            return await self._quarantine(parsed, raw)
        channel = Channel(raw.channel)
        if channel in self._options.gated:
            refusal = await self._refusal(report)
            if refusal is not None:
                return refusal
        keep = KeepReport(report, raw.channel, raw.received_at, raw=raw)
        return await self._commit_one(keep, report)

    async def _quarantine(self, parsed: TlsReportParse, raw: RawArrival) -> IngestOutcome:
        """Keep ``raw`` in quarantine with the parser's reason and the served domains it was
        sent for (:mod:`~mailshield.services.ingest_hints`)."""
        failure = parsed.failure
        assert failure is not None
        domains = await served_hints(raw, self._known, self.limits)
        decision = Quarantine(failure.reason.value, failure.detail, raw=raw, domains=domains)
        return await self._commit_one(decision)

    async def _refusal(self, report: TlsReport) -> IngestOutcome | None:
        """``None`` when some policy domain of ``report`` is served here, else the refusal."""
        names = report.policy_domains
        if names and await self._any_served(names):
            return None
        shown = ", ".join(names) or "none given"
        return IngestOutcome(
            Disposition.REFUSED,
            f"no policy domain of this report is served here ({shown})",
            organization=report.organization_name,
            report_key=report.report_id,
            domains=names,
        )

    async def _any_served(self, names: Sequence[str]) -> bool:
        now = asyncio.get_running_loop().time()
        if any(self._served.get(name, 0.0) > now for name in names):
            return True
        served = await self._known.served(names)
        for name in served:
            self._served[name] = now + self._options.known_ttl
        return bool(served)

    async def _commit_one(
        self, decision: KeepReport | Quarantine, report: TlsReport | None = None
    ) -> IngestOutcome:
        written = await self._commit.submit(decision)
        if isinstance(written, Exception):
            return IngestOutcome(Disposition.FAILED, f"storage failed: {written}")
        return _outcome(written, decision, report)

    async def _reprocess_message(self, raw: RawRecord) -> IngestOutcome:
        parsed = await self._parse_email(raw.data)
        found = parsed.email
        if found.failure is not None:
            reason = f"email_{found.failure.reason.value}"
            return await self._commit_one(Quarantine(reason, found.failure.detail, raw_id=raw.id))
        arrival = Arrival(Channel(raw.channel), raw.source, None, raw.received_at)
        outcomes = []
        for attachment, report in zip(found.attachments, parsed.reports, strict=True):
            meta = _email_meta(parsed) | _file_meta(attachment.filename)
            part = replace(arrival, content_type=attachment.content_type, meta=meta)
            outcomes.append(await self._decide_ungated(report, _raw(attachment.content, part)))
        detail = "report parts kept as raw " + ", ".join(str(o.raw_id) for o in outcomes)
        await self._commit.submit(Split(raw.id, detail))
        return outcomes[0]

    async def _decide_ungated(self, parsed: TlsReportParse, raw: RawArrival) -> IngestOutcome:
        if parsed.report is None:
            return await self._quarantine(parsed, raw)
        keep = KeepReport(parsed.report, raw.channel, raw.received_at, raw=raw)
        return await self._commit_one(keep, parsed.report)


def _raw(data: bytes, arrival: Arrival, kind: str = "report") -> RawArrival:
    assert arrival.received_at is not None
    return RawArrival(
        data=data,
        channel=arrival.channel.value,
        received_at=arrival.received_at,
        kind=kind,
        source=arrival.source,
        content_type=arrival.content_type,
        meta=dict(arrival.meta) or None,
    )


def _email_meta(parsed: ParsedReportEmail) -> dict[str, JSONValue]:
    found = parsed.email
    meta: dict[str, JSONValue] = {
        "message-id": found.message_id,
        "subject": found.subject,
        "tls-report-domain": found.report_domain,
        "tls-report-submitter": found.report_submitter,
    }
    return {key: value for key, value in meta.items() if value is not None}


def _file_meta(filename: str | None) -> dict[str, JSONValue]:
    """The attachment's file name (a hint only, RFC 8460 §5.6) as receiver metadata."""
    return {"filename": filename} if filename else {}


def _too_large(size: int, limit: int) -> IngestOutcome:
    return IngestOutcome(
        Disposition.TOO_LARGE, f"{size} bytes, more than the limit of {limit}", reason="too_large"
    )


def _kept(written: Written | Exception, decision: KeepReport) -> IngestOutcome:
    if isinstance(written, Exception):
        return IngestOutcome(Disposition.FAILED, f"storage failed: {written}")
    return _outcome(written, decision, decision.report)


def _outcome(
    written: Written, decision: KeepReport | Quarantine, report: TlsReport | None
) -> IngestOutcome:
    if isinstance(decision, Quarantine):
        ids = (written.report_id, written.raw_id, written.copies)
        return IngestOutcome(Disposition(written.state), decision.detail, decision.reason, *ids)
    assert report is not None
    return kept_outcome(written, report.organization_name, report.report_id, report.policy_domains)
