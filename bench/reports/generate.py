"""Generate N distinct gzip TLS reports (RFC 8460 §4.4, named per §5.1) for the benchmarks.

    python bench/reports/generate.py OUT_DIR [--count 10000] [--domains 50]

Reports look like what large reporters send: one ``sts`` policy (sometimes with a
``no-policy-found`` entry beside it), a few failure-details rows, policy domains
``d0001.example`` … spread over the domains. Deterministic for a given count.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

RESULT_TYPES = (
    "certificate-host-mismatch",
    "certificate-expired",
    "starttls-not-supported",
    "validation-failure",
    "sts-policy-fetch-error",
)
REPORTERS = (
    ("Google Inc.", "smtp-tls-reporting@google.com"),
    ("Microsoft Corporation", "tlsrpt-noreply@microsoft.com"),
    ("Mail.ru", "tls_support@corp.mail.ru"),
    ("Example Reporter", "tlsrpt@reporter.example"),
)
DAY = 1714521600  # 2024-05-01T00:00:00Z


def domain_name(index: int) -> str:
    return f"d{index:04d}.example"


def report(index: int, domains: int, rng: random.Random) -> tuple[str, bytes]:
    """The file name and gzip bytes of report number ``index``."""
    organization, contact = REPORTERS[index % len(REPORTERS)]
    domain = domain_name(index % domains + 1)
    day = DAY + 86400 * (index // (domains * len(REPORTERS)) % 14)
    failures = [
        {
            "result-type": rng.choice(RESULT_TYPES),
            "sending-mta-ip": f"198.51.100.{rng.randrange(1, 255)}",
            "receiving-mx-hostname": f"mx{rng.randrange(1, 3)}.{domain}",
            "receiving-ip": f"203.0.113.{rng.randrange(1, 255)}",
            "failed-session-count": rng.randrange(1, 20),
        }
        for _ in range(rng.randrange(0, 4))
    ]
    policies: list[dict[str, object]] = [
        {
            "policy": {
                "policy-type": "sts",
                "policy-string": [
                    "version: STSv1",
                    "mode: testing",
                    f"mx: mx1.{domain}",
                    f"mx: mx2.{domain}",
                    "max_age: 604800",
                ],
                "policy-domain": domain,
                "mx-host": [f"mx1.{domain}", f"mx2.{domain}"],
            },
            "summary": {
                "total-successful-session-count": rng.randrange(100, 5000),
                "total-failure-session-count": sum(
                    int(f["failed-session-count"]) for f in failures
                ),
            },
            "failure-details": failures,
        }
    ]
    if index % 3 == 0:
        policies.append(
            {
                "policy": {"policy-type": "no-policy-found", "policy-domain": domain},
                "summary": {
                    "total-successful-session-count": rng.randrange(0, 50),
                    "total-failure-session-count": 0,
                },
            }
        )
    document = {
        "organization-name": organization,
        "date-range": {
            "start-datetime": _iso(day),
            "end-datetime": _iso(day + 86399),
        },
        "contact-info": contact,
        "report-id": f"{_iso(day)}_{domain}_{index:06d}",
        "policies": policies,
    }
    sender = contact.rpartition("@")[2]
    name = f"{sender}!{domain}!{day}!{day + 86399}!{index:06d}.json.gz"
    return name, gzip.compress(json.dumps(document).encode(), mtime=0)


def _iso(epoch: int) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--domains", type=int, default=50)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(8460)
    for index in range(args.count):
        name, data = report(index, args.domains, rng)
        (args.out / name).write_bytes(data)
    print(f"{args.count} reports in {args.out}")


if __name__ == "__main__":
    main()
