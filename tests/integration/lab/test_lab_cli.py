"""`mailshield lab up | status | down` as a user runs them, in separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest
from tests.support.lab import require_binary

from mailshield.lab.background import LabState, Process, read_state
from mailshield.lab.scenarios import find_scenario

# The lab DNS server on a test address and a free port; hosts on free ports of their addresses.
LISTEN = ["--dns", "127.0.1.70:0", "--smtp-port", "0", "--https-port", "0"]


def mailshield(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the mailshield command in a new process; with ``check``, it must succeed."""
    argv = [sys.executable, "-c", "from mailshield.interfaces.cli.main import main; main()"]
    done = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=120, check=False)
    if check:
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stderr}"
    return done


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A state folder; whatever lab is recorded there is stopped after the test, pass or fail."""
    folder = tmp_path / "state"
    yield folder
    if read_state(folder) is not None:
        mailshield("lab", "down", "x", "--state-dir", str(folder), "--grace", "2")


def ask(summary: dict[str, Any], name: str, rdtype: str = "SOA") -> dns.message.Message:
    host, _, port = summary["resolvers"][0].rpartition(":")
    query = dns.message.make_query(name, rdtype, want_dnssec=True)
    return dns.query.udp(query, host, port=int(port), timeout=5)


def recorded(folder: Path) -> LabState:
    state = read_state(folder)
    assert state is not None
    return state


def test_up_status_down_demo(state_dir: Path) -> None:
    """`up demo` serves every demo domain, `status` sees it, `down` ends what `up` started."""
    up = mailshield("lab", "up", "demo", "--state-dir", str(state_dir), *LISTEN, "--json")
    assert up.returncode == 0, up.stderr
    summary = json.loads(up.stdout)
    state = recorded(state_dir)
    assert state.process.running
    for domain in find_scenario("demo").domains:
        assert ask(summary, domain.name).rcode() == dns.rcode.NOERROR, domain.name
    assert Path(summary["ca"]).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")

    status = mailshield("lab", "status", "demo", "--state-dir", str(state_dir), "--json")
    assert status.returncode == 0
    [report] = json.loads(status.stdout)
    assert report["running"]
    assert report["pid"] == state.process.pid

    down = mailshield("lab", "down", "demo", "--state-dir", str(state_dir))
    assert down.returncode == 0
    assert f"pid {state.process.pid}" in down.stdout
    assert not state.process.running
    assert read_state(state_dir) is None
    after = mailshield("lab", "status", "demo", "--state-dir", str(state_dir))
    assert after.returncode == 3
    assert "not running" in after.stdout


def test_up_prints_a_check_command_and_refuses_a_second_start(state_dir: Path) -> None:
    """`up` prints the resolver, the CA and a check command; a second `up` names the running lab."""
    up = mailshield("lab", "up", "demo", "--state-dir", str(state_dir), *LISTEN, check=True)
    state = recorded(state_dir)
    resolver, ca = state.summary["resolvers"][0], state.summary["ca"]
    assert f"resolver   {resolver}" in up.stdout
    assert (
        f"mailshield check excellent.test --resolver {resolver} --ca-bundle {ca} --allow-private"
        in up.stdout
    )
    assert "mailshield lab down demo" in up.stdout
    again = mailshield("lab", "up", "demo", "--state-dir", str(state_dir), *LISTEN)
    assert again.returncode == 1
    assert f"already running (pid {state.process.pid})" in again.stderr


def test_invalid_scenario_is_reported_before_anything_starts(tmp_path: Path) -> None:
    """A scenario error names the domain and key, and no state folder is created."""
    scenario = tmp_path / "broken.toml"
    scenario.write_text('[domains."a.test"]\nmx = [{ name = "mx", behaviour = "shiny" }]\n')
    folder = tmp_path / "state"
    up = mailshield("lab", "up", str(scenario), "--state-dir", str(folder))
    assert up.returncode == 1
    assert "domain 'a.test', key 'mx[0]': key 'behaviour': 'shiny' is not one of" in up.stderr
    assert not folder.exists()


def test_failure_to_listen_is_explained_and_leaves_no_process(tmp_path: Path) -> None:
    """When the DNS address is taken, `up` fails with the lab's reason and no lab keeps running."""
    scenario = tmp_path / "tiny.toml"
    scenario.write_text('[domains."tiny.test"]\nrecords = [\'@ TXT "x"\']\n')
    first = tmp_path / "first"
    mailshield("lab", "up", str(scenario), "--state-dir", str(first), *LISTEN, check=True)
    try:
        taken = recorded(first).summary["dns"]
        second = tmp_path / "second"
        up = mailshield("lab", "up", str(scenario), "--state-dir", str(second), "--dns", taken)
        assert up.returncode == 1
        assert f"cannot listen on DNS {taken}: address in use" in up.stderr
        assert read_state(second) is None
    finally:
        mailshield("lab", "down", "tiny", "--state-dir", str(first), check=True)


def test_down_when_nothing_runs_says_so(tmp_path: Path) -> None:
    """`down` for a lab that is not running changes nothing and says so."""
    down = mailshield("lab", "down", "demo", "--state-dir", str(tmp_path))
    assert down.returncode == 0
    assert "not running" in down.stdout


def test_down_stops_knot_and_unbound_of_a_signed_lab(state_dir: Path) -> None:
    """A DNSSEC lab's daemons are recorded, validate, and are gone after `down`."""
    require_binary("knotd")
    require_binary("unbound")
    up = mailshield("lab", "up", "dnssec", "--state-dir", str(state_dir), *LISTEN, "--json")
    assert up.returncode == 0, up.stderr
    summary = json.loads(up.stdout)
    state = recorded(state_dir)
    assert len(state.daemons) == 2
    assert ask(summary, "secure.test").flags & dns.flags.AD
    mailshield("lab", "down", "dnssec", "--state-dir", str(state_dir), check=True)
    for process in (state.process, *state.daemons):
        assert not process.running


def test_list_names_the_bundled_scenarios() -> None:
    """`lab list` shows demo and dnssec with their descriptions."""
    listing = mailshield("lab", "list", "--json", check=True)
    names = [entry["name"] for entry in json.loads(listing.stdout)]
    assert names == ["demo", "dnssec"]


def test_process_identity_survives_pid_reuse() -> None:
    """A recorded process with another start time is not the running one (no stray signals)."""
    me = Process.of(os.getpid())
    assert me is not None
    assert me.running
    assert not Process(me.pid, me.started + 1).running
