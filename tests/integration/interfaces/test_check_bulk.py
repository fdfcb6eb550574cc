"""`mailshield check -f` over worker processes, as a user runs it (a separate process against a
lab): every domain once, resume, the CSV header once, exit codes, a crashed worker reported,
Ctrl-C stopping every worker and leaving a resumable file, and both event loops.

Slow domains (an MX that never greets, probed with a 3 s timeout) keep a worker busy long
enough to crash or interrupt it mid-check; the test waits for the worker's connection to the lab
MX, not for time to pass.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.checker.checker_lab import running_lab

from mailshield.interfaces.cli.render import csv_header
from mailshield.lab.runner import Lab
from mailshield.lab.scenario import parse_scenario

FAST = ("good.test", "bad.test", "untested.test")
SLOW = tuple(f"slow{index}.test" for index in range(1, 5))
SCENARIO = """
name = "check-bulk-workers"
description = "A healthy, a failing and an untestable domain, and four whose MX never greets"

[lab]
network = "127.13.19.0/24"

[domains."test"]

[domains."good.test"]
records = [
  '@ TXT "v=spf1 mx -all"',
  '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"',
  '_mta-sts TXT "v=STSv1; id=20240501"',
  '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"',
]
mx = [{ name = "mx1" }, { name = "mx2" }]
mta_sts = { mode = "enforce", max_age = 604800 }

[domains."bad.test"]
records = [
  '@ TXT "v=spf1 mx +all"',
  '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@bad.test"',
  '_mta-sts TXT "v=STSv1; id=1"',
  '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@bad.test"',
]
mx = [{ name = "mx1" }, { name = "backup" }]
mta_sts = { mx = ["mx1.bad.test"] }

[domains."untested.test"]
records = [
  '@ TXT "v=spf1 mx -all"',
  '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@untested.test"',
  '_mta-sts TXT "v=STSv1; id=1"',
  '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@untested.test"',
]
mx = [{ name = "mx", behaviour = "refused" }]
mta_sts = {}
""" + "".join(
    f'\n[domains."{name}"]\nrecords = [\'@ TXT "v=spf1 mx -all"\']\n'
    'mx = [{ name = "mx", behaviour = "tarpit" }]\n'
    for name in SLOW
)
WAIT = 60.0  # seconds to wait for a condition before the test fails (never a pass condition)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(parse_scenario(SCENARIO), tmp_path_factory.mktemp("bulk")) as running:
        yield running


@pytest.fixture(scope="module")
def options(lab: Lab) -> list[str]:
    """The options pointing the command at the lab, with a short probe timeout."""
    return [
        *("--resolver", lab.resolvers[0], "--ca-bundle", str(lab.ca_path), "--allow-private"),
        *("--smtp-port", str(lab.ports.smtp), "--timeout", "3", "--dnssec-validation", "yes"),
    ]


def argv(*args: str) -> list[str]:
    return [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()", *args]


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "200", **extra}
    env.pop("MAILSHIELD_CONFIG", None)
    return env


def check(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``mailshield check ARGS`` run to its end in a new process."""
    return subprocess.run(
        argv("check", *args),
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(**env),
        check=False,
    )


def listing(folder: Path, *names: str) -> Path:
    """A domain list with ``names``, a comment, a blank line and an invalid name."""
    path = folder / "domains.txt"
    path.write_text("# lab\n\n" + "".join(f"{n}\n" for n in names) + "not a domain!\n", "utf-8")
    return path


def jsonl_domains(path: Path) -> list[str]:
    """The domain of every complete report line of a JSON Lines file (cut lines ignored)."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            found.append(json.loads(line)["domain"])
    return found


# -- what a user sees is the same as with one process -----------------------------------------


def test_each_domain_written_once(options: list[str], tmp_path: Path) -> None:
    """Two workers write one report per listed domain, skip the invalid name, and exit with the
    worst domain's code and the usual summary."""
    output = tmp_path / "results.jsonl"
    done = check(*options, "-f", str(listing(tmp_path, *FAST)), "-o", str(output), "--workers", "2")
    assert done.returncode == 1, done.stderr
    assert sorted(jsonl_domains(output)) == sorted(FAST)
    assert (
        "3 checked, 0 skipped (already in output). 1 with failures, 1 with untested" in done.stderr
    )
    assert "not a domain!" in done.stderr


def test_resume_after_a_partial_run(options: list[str], tmp_path: Path) -> None:
    """A file cut mid-line is resumed by two workers: the cut line goes, only the missing
    domains are checked, and each domain ends up with one complete line."""
    output = tmp_path / "results.jsonl"
    names = listing(tmp_path, *FAST)
    first = check(*options, "-f", str(names), "-o", str(output), "--workers", "2")
    assert first.returncode == 1, first.stderr
    lines = output.read_text(encoding="utf-8").splitlines(keepends=True)
    output.write_text(lines[0] + lines[1][:40], encoding="utf-8")  # as a killed run leaves it
    again = check(*options, "-f", str(names), "-o", str(output), "--workers", "2")
    assert "2 checked, 1 skipped" in again.stderr
    assert sorted(jsonl_domains(output)) == sorted(FAST)
    assert output.read_text(encoding="utf-8").startswith(lines[0])


def test_csv_header_once(options: list[str], tmp_path: Path) -> None:
    """CSV output from two workers has one header and a row per domain, also after a resume
    of a cut row and after a run with nothing left to do."""
    output = tmp_path / "results.csv"
    names = listing(tmp_path, *FAST)
    check(*options, "-f", str(names), "-o", str(output), "--workers", "2")
    text = output.read_text(encoding="utf-8")
    output.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 10], encoding="utf-8")
    resumed = check(*options, "-f", str(names), "-o", str(output), "--workers", "2")
    assert "1 checked, 2 skipped" in resumed.stderr
    idle = check(*options, "-f", str(names), "-o", str(output), "--workers", "2")
    assert idle.returncode == 0, idle.stderr
    rows = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert rows[0] == csv_header()
    assert sorted(row[0] for row in rows[1:]) == sorted(FAST)


def test_stdout_without_output_file(options: list[str], tmp_path: Path) -> None:
    """Without ``-o`` the rows go to stdout: one header, one row per domain, nothing twice."""
    done = check(*options, "-f", str(listing(tmp_path, *FAST)), "--format", "csv", "--workers", "2")
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == csv_header()
    assert sorted(row[0] for row in rows[1:]) == sorted(FAST)


@pytest.mark.parametrize(
    ("names", "code"),
    [
        pytest.param(("good.test",), 0, id="no-failure-0"),
        pytest.param(("good.test", "bad.test"), 1, id="a-failure-1"),
        pytest.param(("good.test", "untested.test"), 3, id="untested-3"),
        pytest.param(("bad.test", "untested.test"), 1, id="failure-beats-untested-1"),
    ],
)
def test_exit_codes(options: list[str], tmp_path: Path, names: tuple[str, ...], code: int) -> None:
    """The exit code comes from the worst domain, whichever worker checked it."""
    output = tmp_path / "results.jsonl"
    done = check(
        *options, "-f", str(listing(tmp_path, *names)), "-o", str(output), "--workers", "2"
    )
    assert done.returncode == code, done.stderr


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_either_event_loop(options: list[str], tmp_path: Path, loop: str) -> None:
    """``MAILSHIELD_EVENT_LOOP`` picks the loop; one domain and a list give the same results."""
    output = tmp_path / "results.jsonl"
    names = listing(tmp_path, *FAST)
    bulk = check(
        *options, "-f", str(names), "-o", str(output), "--workers", "2", MAILSHIELD_EVENT_LOOP=loop
    )
    assert bulk.returncode == 1, bulk.stderr
    assert sorted(jsonl_domains(output)) == sorted(FAST)
    one = check(*options, "bad.test", "--json", MAILSHIELD_EVENT_LOOP=loop)
    assert one.returncode == 1, one.stderr
    assert json.loads(one.stdout)["status"] == "fail"


# -- when a run is cut short ---------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def connected_to(pid: int, port: int) -> bool:
    """Whether process ``pid`` has a TCP connection open to ``port`` (on any address)."""
    with contextlib.suppress(OSError):
        sockets = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == port and f"socket:[{fields[9]}]" in sockets:
                return True
    return False


def busy_worker(command: subprocess.Popen[str], smtp_port: int, *, itself: bool = False) -> int:
    """A worker of ``command`` (or ``itself``) that is in the middle of probing an MX (waits
    for one)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert command.poll() is None, "the command ended before any worker was busy"
        for pid in [command.pid] if itself else children(command.pid):
            if connected_to(pid, smtp_port):
                return pid
        time.sleep(0.01)  # polling /proc: there is no event to wait on
    raise AssertionError("no worker connected to the lab MX in time")


def start(*args: str) -> subprocess.Popen[str]:
    """``mailshield check ARGS`` started in its own process group (as a terminal runs it)."""
    return subprocess.Popen(
        argv("check", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
        start_new_session=True,
    )


def test_a_crashed_worker_is_reported(lab: Lab, options: list[str], tmp_path: Path) -> None:
    """A worker killed mid-check is reported with the domains it held; the run exits 4, no
    domain is written twice, and running again checks exactly the missing ones."""
    output = tmp_path / "results.jsonl"
    names = listing(tmp_path, *SLOW)
    args = (*options, "-f", str(names), "-o", str(output), "--workers", "2", "--concurrency", "2")
    command = start(*args)
    os.kill(busy_worker(command, lab.ports.smtp), signal.SIGKILL)
    _, stderr = command.communicate(timeout=WAIT)
    assert command.returncode == 4, stderr
    assert "ended unexpectedly (exit code -9)" in stderr
    assert "Run the same command again" in stderr
    written = jsonl_domains(output)
    assert len(written) == len(set(written)) < len(SLOW)
    again = check(*args)
    assert again.returncode == 1, again.stderr  # the slow domains have no DMARC record
    assert f"{len(SLOW) - len(written)} checked, {len(written)} skipped" in again.stderr
    assert sorted(jsonl_domains(output)) == sorted(SLOW)


def test_ctrl_c_stops_workers_and_leaves_a_resumable_file(
    lab: Lab, options: list[str], tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT to the process group) mid-run ends the command and every worker; the
    output holds only complete lines, and running again completes it, each domain once."""
    output = tmp_path / "results.jsonl"
    names = listing(tmp_path, *FAST, *SLOW)
    args = (*options, "-f", str(names), "-o", str(output), "--workers", "2", "--concurrency", "4")
    command = start(*args)
    busy_worker(command, lab.ports.smtp)
    workers = children(command.pid)
    os.killpg(command.pid, signal.SIGINT)
    _, stderr = command.communicate(timeout=WAIT)
    assert command.returncode == 130  # 128 + SIGINT, not 1 ("a check failed")
    assert "Interrupted. Run the same command again" in stderr
    assert "Traceback" not in stderr
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    text = output.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    again = check(*args)
    assert again.returncode == 1, again.stderr
    assert sorted(jsonl_domains(output)) == sorted(FAST + SLOW)


def test_ctrl_c_on_one_domain_says_interrupted(lab: Lab, options: list[str]) -> None:
    """Ctrl-C during a one-domain check exits 130 with a word, not 1 as if a check failed."""
    command = start(*options, SLOW[0])
    busy_worker(command, lab.ports.smtp, itself=True)
    os.killpg(command.pid, signal.SIGINT)
    _, stderr = command.communicate(timeout=WAIT)
    assert command.returncode == 130
    assert "Interrupted." in stderr
    assert "Traceback" not in stderr
