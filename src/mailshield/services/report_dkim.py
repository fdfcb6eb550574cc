"""DKIM verification of a TLS report e-mail, on the bytes exactly as they arrived.

RFC 8460 §5.3: report messages MUST be signed with DKIM by the reporting domain, and the
``TLS-Report-Domain`` and ``TLS-Report-Submitter`` fields SHOULD be covered. MailShield records
the verdict with the report and does not refuse unsigned or badly signed reports (real senders
get this wrong; the analysis can weigh it). Rules applied on top of RFC 6376 (reference §3.6):

- the key is fetched through MailShield's own resolvers (:class:`~services.ports.DnsLookup`),
  never the host's; dkimpy then verifies with that key (its ``dnsfunc`` hook), off the event loop;
- a signature with ``l=`` (body length) is a ``fail``: content could be appended unsigned;
- a key whose ``s=`` service list names neither ``*`` nor ``tlsrpt`` still verifies, with the
  note ``key_service_excludes_tlsrpt`` (RFC 8460 §3 allows ignoring it; most keys carry none);
- ``aligned`` says whether ``d=`` is the ``TLS-Report-Submitter`` domain or a parent or child of
  it (RFC 8460 leaves "the reporting domain" open; reference §12 item 5);
- up to ``max_signatures`` signatures are tried; a passing aligned one wins, then any passing
  one, else the first signature's result.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dkim
import dkim.util

from mailshield.core.model import JSONValue
from mailshield.core.records.dkim import looks_like_dkim, parse_dkim
from mailshield.services.ports import DnsLookup

__all__ = ["DkimStatus", "DkimVerdict", "ReportDkim"]

log = logging.getLogger(__name__)

_REPORT_HEADERS = ("tls-report-domain", "tls-report-submitter")
_TLSRPT_SERVICES = frozenset({"*", "tlsrpt"})


class DkimStatus(enum.StrEnum):
    """A signature's result, as Authentication-Results names them (RFC 8601 §2.7.1)."""

    PASS = "pass"  # noqa: S105  (a result name, not a password)
    FAIL = "fail"  # the signature does not verify, or uses l=
    NONE = "none"  # the message is not signed
    TEMPERROR = "temperror"  # the key could not be fetched (DNS timeout, SERVFAIL)
    PERMERROR = "permerror"  # malformed signature, no key, unusable key


@dataclass(frozen=True, slots=True)
class DkimVerdict:
    """The DKIM result recorded with a report message."""

    status: DkimStatus
    domain: str | None = None  # d=
    selector: str | None = None  # s=
    aligned: bool | None = None  # d= related to TLS-Report-Submitter; None: no submitter
    detail: str = ""
    notes: tuple[str, ...] = ()

    def to_meta(self) -> dict[str, JSONValue]:
        """The verdict as stored in the arrival's metadata."""
        return {
            "result": self.status.value,
            "domain": self.domain,
            "selector": self.selector,
            "aligned": self.aligned,
            "detail": self.detail,
            "notes": list(self.notes),
        }


class ReportDkim:
    """Verifies report messages; ``dns`` makes a fresh lookup client per message (clients
    remember answers, and keys change)."""

    def __init__(
        self, dns: Callable[[], DnsLookup], *, max_signatures: int = 3, min_key_bits: int = 1024
    ) -> None:
        self._dns = dns
        self._max_signatures = max_signatures
        self._min_key_bits = min_key_bits

    async def verify(self, raw: bytes) -> DkimVerdict:
        """The verdict for message ``raw`` (never raises)."""
        try:
            message = dkim.DKIM(raw, logger=log, minkey=self._min_key_bits, tlsrpt=True)
        except Exception as exc:  # dkimpy raises more than DKIMException on hostile headers
            return DkimVerdict(DkimStatus.PERMERROR, detail=f"unreadable header: {exc!r}")
        signatures = [value for name, value in message.headers if name.lower() == b"dkim-signature"]
        if not signatures:
            return DkimVerdict(DkimStatus.NONE, detail="the message has no DKIM-Signature")
        submitter = _submitter(message.headers)
        lookup = self._dns()
        verdicts = []
        for index, value in enumerate(signatures[: self._max_signatures]):
            verdicts.append(await self._verify_one(raw, index, value, submitter, lookup))
        return _best(verdicts)

    async def _verify_one(
        self, raw: bytes, index: int, value: bytes, submitter: str | None, dns: DnsLookup
    ) -> DkimVerdict:
        try:
            tags = dkim.util.parse_tag_value(value)
        except Exception as exc:  # InvalidTagValueList, or worse on hostile input
            return DkimVerdict(DkimStatus.PERMERROR, detail=f"malformed signature: {exc!r}")
        domain = _text(tags.get(b"d"))
        selector = _text(tags.get(b"s"))
        if not domain or not selector:
            return DkimVerdict(DkimStatus.PERMERROR, domain, selector, detail="no d= or s= tag")
        base = DkimVerdict(
            DkimStatus.PERMERROR, domain, selector, _aligned(domain, submitter), "", _notes(tags)
        )
        if b"l" in tags:
            return _with(base, DkimStatus.FAIL, "l= (body length) is not accepted for reports")
        key = await _fetch_key(dns, f"{selector}._domainkey.{domain}")
        if isinstance(key, DkimVerdict):
            return _with(base, key.status, key.detail)
        notes = base.notes + _key_notes(key)
        base = DkimVerdict(base.status, domain, selector, base.aligned, "", notes)
        status, detail = await asyncio.to_thread(self._check, raw, index, key)
        return _with(base, status, detail)

    def _check(self, raw: bytes, index: int, key: bytes) -> tuple[DkimStatus, str]:
        """dkimpy's verification of signature ``index`` with the already fetched ``key``."""
        verifier = dkim.DKIM(raw, logger=log, minkey=self._min_key_bits, tlsrpt=True)
        try:
            valid = verifier.verify(idx=index, dnsfunc=lambda _name, timeout=5: key)
        except dkim.ValidationError as exc:
            return DkimStatus.FAIL, str(exc)
        except Exception as exc:  # DKIMException, or a dkimpy bug on hostile input
            return DkimStatus.PERMERROR, str(exc) or type(exc).__name__
        if valid:
            return DkimStatus.PASS, "signature verified"
        return DkimStatus.FAIL, "the signature does not verify"


async def _fetch_key(dns: DnsLookup, name: str) -> bytes | DkimVerdict:
    """The key record's text at ``name`` (RFC 6376 §3.6.2), or the verdict for its absence."""
    answer = await dns.query(name, "TXT")
    if answer.outcome.is_failure:
        detail = f"key lookup for {name} failed: {answer.outcome.value} {answer.detail}".strip()
        return DkimVerdict(DkimStatus.TEMPERROR, detail=detail)
    keys = [txt for txt in answer.txt() if looks_like_dkim(txt.decode("utf-8", "replace"))]
    if not keys:
        return DkimVerdict(DkimStatus.PERMERROR, detail=f"no DKIM key at {name}")
    record = parse_dkim(keys[0], name=name).record
    if record is not None and record.revoked:
        return DkimVerdict(DkimStatus.PERMERROR, detail=f"the key at {name} is revoked (p=)")
    return keys[0]


def _key_notes(key: bytes) -> tuple[str, ...]:
    """RFC 6376 §3.6.1 ``s=``: a key limited to other services than TLS-RPT (RFC 8460 §3)."""
    record = parse_dkim(key).record
    if record is not None and not _TLSRPT_SERVICES.intersection(record.services):
        return ("key_service_excludes_tlsrpt",)
    return ()


def _notes(tags: dict[bytes, bytes]) -> tuple[str, ...]:
    """RFC 8460 §5.3: the two report header fields SHOULD be signed."""
    signed = {name.strip().lower() for name in _text(tags.get(b"h")).split(":")}
    if all(header in signed for header in _REPORT_HEADERS):
        return ()
    return ("report_headers_unsigned",)


def _submitter(headers: Sequence[Sequence[bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"tls-report-submitter":
            text = " ".join(_text(value).split()).rstrip(".").lower()
            return text or None
    return None


def _aligned(domain: str, submitter: str | None) -> bool | None:
    if submitter is None:
        return None
    domain = domain.rstrip(".").lower()
    related = (domain == submitter, domain.endswith(f".{submitter}"))
    return any(related) or submitter.endswith(f".{domain}")


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("ascii", "replace").strip()


def _with(verdict: DkimVerdict, status: DkimStatus, detail: str) -> DkimVerdict:
    return DkimVerdict(
        status, verdict.domain, verdict.selector, verdict.aligned, detail, verdict.notes
    )


def _best(verdicts: list[DkimVerdict]) -> DkimVerdict:
    passing = [v for v in verdicts if v.status is DkimStatus.PASS]
    aligned = [v for v in passing if v.aligned is not False]
    return (aligned or passing or verdicts)[0]
