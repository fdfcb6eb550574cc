"""Level-by-level DNS gathering for pure evaluators that say which lookups they still need.

An evaluator's planner looks at the answers gathered so far and names the missing lookups
(:mod:`mailshield.core.evaluate.answers`); this loop performs each level concurrently and asks
again until nothing is missing. Every name/type is looked up at most once per gathering.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection

from mailshield.core.evaluate.answers import AnswerMap, Query
from mailshield.core.observations import DnsAnswer
from mailshield.services.ports import DnsLookup

Planner = Callable[[AnswerMap], Collection[Query]]
MAX_LEVELS = 16  # planners stop by themselves (SPF: depth 11); this only guards against bugs


async def gather_answers(dns: DnsLookup, plan: Planner) -> dict[Query, DnsAnswer]:
    """Look up whatever ``plan`` needs, one concurrent level at a time, until it needs nothing."""
    answers: dict[Query, DnsAnswer] = {}
    for _ in range(MAX_LEVELS):
        needed = sorted(set(plan(answers)) - answers.keys())
        if not needed:
            break
        if len(needed) == 1:  # no task needed to wait for one answer
            (name, rdtype), *_ = needed
            answers[name, rdtype] = await dns.query(name, rdtype)
            continue
        found = await asyncio.gather(*(dns.query(name, rdtype) for name, rdtype in needed))
        answers.update(zip(needed, found, strict=True))
    return answers
