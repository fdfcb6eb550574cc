"""Running the policy server as a process: wiring from Settings, the certificate job, workers.

:func:`run` assembles one policy server on the database named by the settings: hosting answers
policies and the gate (:func:`~mailshield.interfaces.hosting_assembly.build_hosted_policies`),
certificates come from :class:`~mailshield.storage.certificates.CertificateStore`, and — unless
switched off — the certificate manager runs as a periodic job under the shared job lease (so of
several replicas, one runs it at a time). :func:`run_workers` forks N such processes that share
the listening ports through SO_REUSEPORT.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

from mailshield.interfaces.hosting_assembly import build_hosted_policies
from mailshield.interfaces.policy_server import Limits, PolicyServer, PolicyServerConfig
from mailshield.services.certificates import CertificateManager
from mailshield.services.certificates_acme import HTTP_01, AcmeIssuer
from mailshield.services.issuance_snapshot import AllowedNames
from mailshield.services.scheduler import Job, Scheduler
from mailshield.services.settings import Settings
from mailshield.storage.certificates import CertificateStore
from mailshield.storage.database import Database
from mailshield.storage.jobs import JobLeases

log = logging.getLogger(__name__)

CERTIFICATE_JOB = "certificates"


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How the process runs, beyond Settings."""

    http: bool = True
    proxy_port: int | None = None
    refresh_every: float = 30.0
    certificates_every: float = 300.0  # 0: never (a separate worker orders certificates)
    acme_challenge: str = HTTP_01
    context_cache: int = 512
    reuse_port: bool = False


Ready = Callable[[PolicyServer], None]


def server_config(settings: Settings, options: RunOptions) -> PolicyServerConfig:
    """The listener configuration from Settings and the run options."""
    return PolicyServerConfig(
        listen=settings.policy_listen,
        https_port=settings.policy_https_port,
        http_port=settings.policy_http_port if options.http else None,
        proxy_port=options.proxy_port,
        limits=Limits(),
        refresh_interval=options.refresh_every,
        context_capacity=options.context_cache,
        reuse_port=options.reuse_port,
    )


def certificate_job(
    settings: Settings,
    store: CertificateStore,
    db: Database,
    every: float,
    challenge: str = HTTP_01,
) -> Job:
    """The periodic job that issues and renews certificates through ACME."""
    hosted = build_hosted_policies(db)
    issuer = AcmeIssuer(
        settings.acme_directory,
        store,
        email=settings.acme_email,
        ca_bundle=settings.acme_ca_bundle,
        challenge=challenge,
    )
    manager = CertificateManager(store, hosted, hosted, issuer)
    return Job(CERTIFICATE_JOB, dt.timedelta(seconds=every), manager.run_once)


async def run(
    settings: Settings, options: RunOptions, stop: asyncio.Event, ready: Ready | None = None
) -> None:
    """Serve until ``stop`` is set; ``ready`` is called once the server listens."""
    async with Database(settings.effective_database_url) as db:
        store = CertificateStore(db)
        hosted = build_hosted_policies(db)
        ask = AllowedNames(hosted, hosted)
        server = PolicyServer(
            server_config(settings, options), policies=hosted, certificates=store, ask=ask
        )
        async with server:
            if ready is not None:
                ready(server)
            tasks = []
            if options.certificates_every > 0:
                every, challenge = options.certificates_every, options.acme_challenge
                job = certificate_job(settings, store, db, every, challenge)
                scheduler = Scheduler([job], JobLeases(db))
                tasks.append(asyncio.create_task(scheduler.run_forever(stop)))
            await stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


_STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def run_in_process(settings: Settings, options: RunOptions, ready: Ready | None = None) -> None:
    """:func:`run` on a new event loop, stopped by SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in _STOP_SIGNALS:
            loop.add_signal_handler(signum, stop.set)
        # A forked worker starts with the stop signals blocked (see run_workers): only now that
        # they stop the loop cleanly may they arrive.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        await run(settings, options, stop, ready)

    asyncio.run(main())


def run_workers(settings: Settings, options: RunOptions, workers: int, ready: Ready) -> int:
    """Fork ``workers`` processes sharing the ports (SO_REUSEPORT); only the first runs the
    certificate job. Returns the exit status once every worker has ended."""
    first = dataclasses.replace(options, reuse_port=True)
    shared = dataclasses.replace(first, certificates_every=0)
    context = multiprocessing.get_context("fork")  # before any event loop exists in this process
    processes = [
        context.Process(
            target=run_in_process,
            args=(settings, first if index == 0 else shared, ready if index == 0 else None),
            name=f"policy-server-{index}",
        )
        for index in range(workers)
    ]
    # Block the stop signals while forking, so neither this process nor a worker can be killed
    # by one before its handler is in place; each side unblocks once it is.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    for process in processes:
        process.start()

    def forward(signum: int, _frame: object) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signum)

    for signum in _STOP_SIGNALS:
        signal.signal(signum, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    for process in processes:
        process.join()
    return 0 if all(process.exitcode == 0 for process in processes) else 1
