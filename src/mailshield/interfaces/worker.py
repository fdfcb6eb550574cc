"""The periodic jobs, assembled from Settings: run by ``mailshield worker`` and, in the embedded
default, inside ``mailshield serve``.

| job | every | what |
|---|---|---|
| hosting-verify | 15 min | check hosted domains' records, publish delegated ids, MX drift |
| certificates | 10 min | order and renew policy-host certificates (when a policy host is set) |
| checks-recheck | 1 h | re-check registered domains not checked for a day; keeps history |
| reports-retention | 1 day | delete raw TLS-RPT reports past the retention period |
"""

from __future__ import annotations

import datetime as dt

from mailshield.interfaces.assembly import build_checker
from mailshield.interfaces.hosting_assembly import build_hosting, verification_job
from mailshield.services.rechecks import recheck_due
from mailshield.services.report_analysis import prune_raw_reports
from mailshield.services.scheduler import Job, Scheduler
from mailshield.services.settings import Settings
from mailshield.storage.database import Database
from mailshield.storage.jobs import JobLeases
from mailshield.storage.reports import ReportStore

RECHECK_EVERY = dt.timedelta(hours=1)
RECHECK_INTERVAL = dt.timedelta(days=1)
CERTIFICATES_EVERY = dt.timedelta(minutes=10)


def build_jobs(settings: Settings, db: Database) -> list[Job]:
    checker = build_checker(settings)
    jobs = [verification_job(build_hosting(settings, db, checker=checker))]
    if settings.policy_host:
        from mailshield.interfaces.policy_server_main import certificate_job
        from mailshield.storage.certificates import CertificateStore

        every = CERTIFICATES_EVERY.total_seconds()
        jobs.append(certificate_job(settings, CertificateStore(db), db, every))

    async def recheck() -> int:
        now = dt.datetime.now(dt.UTC)
        return await recheck_due(db, checker.check, interval=RECHECK_INTERVAL, now=now)

    async def retention() -> int:
        return await prune_raw_reports(ReportStore(db), settings.report_retention_days)

    jobs.append(Job("checks-recheck", RECHECK_EVERY, recheck, lease=dt.timedelta(hours=1)))
    jobs.append(Job("reports-retention", dt.timedelta(days=1), retention))
    return jobs


def build_scheduler(settings: Settings, db: Database) -> Scheduler:
    return Scheduler(build_jobs(settings, db), JobLeases(db))
