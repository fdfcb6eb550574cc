"""Time full checks of one domain in one process: ``python -m bench.checker.one_check``.

The checker is assembled as ``mailshield check`` assembles it (SMTP probing on, lab CA trusted,
private addresses allowed), then checks the domain ``--repeat`` times in a row. Each check starts
from nothing (fresh probes, no answers remembered). One JSON line per check on stdout:
``{"start": <time.monotonic()>, "seconds": <duration>, "statuses": {check: status}}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from mailshield.interfaces.assembly import build_checker
from mailshield.services.checker import Checker
from mailshield.services.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("domain")
    parser.add_argument("--resolver", required=True, help="IP[:PORT] of the lab DNS server")
    parser.add_argument("--ca", type=Path, required=True, help="the lab CA (PEM)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(
        resolvers=[args.resolver], ca_bundle=args.ca, allow_private=True, smtp_probe=True
    )
    asyncio.run(_checks(build_checker(settings), args.domain, args.repeat))


async def _checks(checker: Checker, domain: str, repeat: int) -> None:
    for _ in range(repeat):
        start = time.monotonic()
        report = await checker.check(domain)
        seconds = time.monotonic() - start
        statuses = {result.check: result.status.value for result in report.results}
        print(json.dumps({"start": start, "seconds": seconds, "statuses": statuses}), flush=True)


if __name__ == "__main__":
    main()
