"""An in-memory :class:`~mailshield.services.ports.DnsLookup` built from readable text.

    dns = FakeDns({
        "example.com TXT": ["v=spf1 include:_spf.example.net -all"],
        "example.com MX": ["10 mx1.example.com.", "20 mx2.example.com."],
        "_spf.example.net TXT": TIMEOUT,          # the lookup times out
        "broken.example *": SERVFAIL,             # every type at this name fails
        "www.example.com CNAME": ["example.com"], # followed for other types, chain recorded
        "*._report._dmarc.example.net TXT": ["v=DMARC1"],  # wildcard (RFC 4592, simplified)
    })
    answer = await dns.query("example.com", "TXT")

Rules: names are case-insensitive and a trailing dot is ignored; a name that appears under no
key, and has no name under it, is NXDOMAIN; a name that has other types (or an empty list), or
only names under it (an empty non-terminal, RFC 8020 §2), is NODATA; a wildcard covers only
names that do not exist (RFC 4592 §2.2.1). Values are lists of
record texts in presentation form (TXT: one string per RR, or a tuple of strings joined with no
separator; MX: ``"10 host."``; TLSA: ``"3 1 1 <hex>"``; A/AAAA/CNAME/NS/PTR: text) or a
:class:`DnsOutcome` (``TIMEOUT``, ``SERVFAIL``, ``NXDOMAIN`` …). ``dns.queries`` lists every
``(name, rdtype)`` asked, in order, so tests can assert that each name is queried once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeAlias

from mailshield.core.observations import (
    DnsAnswer,
    DnsOutcome,
    DnsRecord,
    Dnssec,
    MxRecord,
    TlsaRecord,
)

NXDOMAIN = DnsOutcome.NXDOMAIN
NODATA = DnsOutcome.NODATA
SERVFAIL = DnsOutcome.SERVFAIL
TIMEOUT = DnsOutcome.TIMEOUT
REFUSED = DnsOutcome.REFUSED
ERROR = DnsOutcome.ERROR

RecordText: TypeAlias = str | bytes | tuple[str, ...]
Entry: TypeAlias = Sequence[RecordText] | DnsOutcome
_MAX_CNAMES = 8


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _record(rdtype: str, text: RecordText) -> DnsRecord:
    """One record in the form :class:`DnsAnswer` carries for ``rdtype``."""
    if rdtype == "TXT":
        if isinstance(text, tuple):
            return "".join(text).encode()
        return text if isinstance(text, bytes) else text.encode()
    if isinstance(text, bytes | tuple):
        raise TypeError(f"{rdtype} records are written as text")
    if rdtype == "MX":
        preference, exchange = text.split()
        return MxRecord(int(preference), _norm(exchange))
    if rdtype == "TLSA":
        usage, selector, mtype, data = text.split(maxsplit=3)
        hexdata = data.replace(" ", "")
        return TlsaRecord(int(usage), int(selector), int(mtype), bytes.fromhex(hexdata))
    if rdtype in ("CNAME", "NS", "PTR"):
        return _norm(text)
    return text


class FakeDns:
    """Answers lookups from a mapping of ``"name TYPE"`` (or ``"name *"``) to records/outcomes."""

    def __init__(
        self,
        zone: Mapping[str, Entry] | None = None,
        *,
        dnssec: Mapping[str, Dnssec] | None = None,
    ) -> None:
        self._zone: dict[tuple[str, str], Entry] = {}
        for key, entry in (zone or {}).items():
            name, rdtype = key.rsplit(maxsplit=1)
            if isinstance(entry, str | bytes) and not isinstance(entry, DnsOutcome):
                raise TypeError(f"{key}: give a list of records, not a single string")
            self._zone[(_norm(name), rdtype.upper())] = entry
        self._names = {name for name, _ in self._zone}
        self._above = {
            ".".join(name.split(".")[i:])
            for name in self._names
            for i in range(1, name.count(".") + 1)
        }
        self._dnssec = {_norm(k): v for k, v in (dnssec or {}).items()}
        self.queries: list[tuple[str, str]] = []

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        """The answer for ``name``/``rdtype``, recorded in :attr:`queries`."""
        self.queries.append((name, rdtype))
        return self.answer(name, rdtype)

    def answer(self, name: str, rdtype: str) -> DnsAnswer:
        """The same answer :meth:`query` gives, synchronously (for pure-core tests)."""
        rdtype = rdtype.upper()
        chain: list[str] = []
        current = _norm(name)
        for _ in range(_MAX_CNAMES + 1):
            owner = self._owner(current)
            entry = self._entry(owner, rdtype)
            if entry is not None or rdtype == "CNAME":
                return self._build(name, rdtype, entry, owner, chain)
            target = self._entry(owner, "CNAME")
            if isinstance(target, DnsOutcome):
                return self._build(name, rdtype, target, owner, chain)
            if not target:
                return self._build(name, rdtype, None, owner, chain)
            current = _norm(str(target[0]))
            if current in chain:
                break
            chain.append(current)
        return DnsAnswer(name, rdtype, ERROR, cname_chain=tuple(chain), detail="CNAME loop")

    def gather(
        self, plan: Callable[[Mapping[tuple[str, str], DnsAnswer]], Iterable[tuple[str, str]]]
    ) -> dict[tuple[str, str], DnsAnswer]:
        """Answer whatever a pure planner asks for until it asks for nothing (sync, for core)."""
        answers: dict[tuple[str, str], DnsAnswer] = {}
        for _ in range(32):
            needed = set(plan(answers)) - answers.keys()
            if not needed:
                break
            answers.update({q: self.answer(*q) for q in needed})
        return answers

    def _owner(self, name: str) -> str | None:
        """The zone name answering for ``name``: itself, a covering wildcard, or ``None``."""
        if name in self._names or name in self._above:
            return name
        labels = name.split(".")
        for i in range(1, len(labels)):
            wildcard = ".".join(["*", *labels[i:]])
            if wildcard in self._names:
                return wildcard
        return None

    def _entry(self, owner: str | None, rdtype: str) -> Entry | None:
        if owner is None:
            return None
        any_entry = self._zone.get((owner, "*"))
        return any_entry if any_entry is not None else self._zone.get((owner, rdtype))

    def _build(
        self, name: str, rdtype: str, entry: Entry | None, owner: str | None, chain: list[str]
    ) -> DnsAnswer:
        security = self._dnssec.get(chain[-1] if chain else _norm(name), Dnssec.UNKNOWN)
        if isinstance(entry, DnsOutcome):
            detail = "" if entry.is_negative else f"injected {entry.value}"
            return DnsAnswer(name, rdtype, entry, (), tuple(chain), security, detail)
        if owner is None:
            return DnsAnswer(name, rdtype, NXDOMAIN, (), tuple(chain), security)
        if not entry:
            return DnsAnswer(name, rdtype, NODATA, (), tuple(chain), security)
        records = tuple(_record(rdtype, text) for text in entry)
        return DnsAnswer(name, rdtype, DnsOutcome.OK, records, tuple(chain), security)
