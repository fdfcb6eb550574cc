"""The checker benchmark: ``mailshield check`` against checkdmarc on the same lab, same resolver.

Run it with ``bench/checker/run.sh`` (it prepares a private network namespace and checkdmarc's
venv, then runs ``python -m bench.checker``). Modules:

- :mod:`bench.checker.world`: the lab scenarios (1,000 bulk domains; one domain with two MX hosts)
  and the lab running them, with a recorder of DNS query arrival times;
- :mod:`bench.checker.tools`: the two tools' command lines, timed runs, and output verification;
- :mod:`bench.checker.critical_path`: the single-domain timing against its critical path;
- :mod:`bench.checker.one_check`: the program the single-domain timing runs (one process);
- :mod:`bench.checker.report`: tables and the JSON summary.
"""
