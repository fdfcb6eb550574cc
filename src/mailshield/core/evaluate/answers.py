"""DNS answers gathered for an evaluation, keyed by normalised ``(name, type)``.

Evaluators that walk DNS (the SPF include tree, the DMARC tree walk, report-destination checks)
are pure: they read what was gathered and say which further lookups they need. A service loops
— gather the needed lookups concurrently, re-ask — until nothing is missing, then evaluates.
Each name/type is therefore looked up once per check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mailshield.core.observations import DnsAnswer

Query = tuple[str, str]
"""A lookup: normalised name (lower case, no trailing dot) and upper-case record type."""

AnswerMap = Mapping[Query, DnsAnswer]


def query(name: str, rdtype: str) -> Query:
    """The normalised key of a lookup of ``name``/``rdtype``."""
    bare = name[:-1] if name.endswith(".") else name
    return bare.lower(), rdtype.upper()


def answers_by_query(answers: Iterable[DnsAnswer]) -> dict[Query, DnsAnswer]:
    """An :data:`AnswerMap` of ``answers``, each under the key of the lookup it answers."""
    return {query(a.name, a.rdtype): a for a in answers}
