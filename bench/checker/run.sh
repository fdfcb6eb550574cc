#!/usr/bin/env bash
# The checker benchmark: `mailshield check` against checkdmarc on the same lab, same resolver.
#
#   bench/checker/run.sh [--domains 1000] [--workdir DIR] [other options of python -m bench.checker]
#
# What it does (see bench/README.md, section "Checker", for the results and how to read them):
#   1. syncs the project environment (uv) and installs checkdmarc (PyPI, version $CHECKDMARC_VERSION,
#      default 6.0.4) into its own venv under the scratch folder (default
#      ${TMPDIR:-/tmp}/mailshield-bench-checker; kept between runs);
#   2. enters a private network namespace (only loopback exists: nothing can leave 127.0.0.0/8)
#      and a private mount namespace whose /etc/resolv.conf names the lab DNS server 127.0.12.53
#      (checkdmarc resolves the MTA-STS policy host and MX hosts through the system resolver);
#   3. runs `python -m bench.checker`, which for 0 ms and 20 ms per DNS answer starts the lab
#      (1,000 domains from the lab's bulk generator; the lab's DNS server in a thread on
#      127.0.12.53:53, Debian's Postfix as every MX on 127.0.12.25:25, nginx as every MTA-STS
#      policy host on 127.0.12.80:443) and times both tools without and with SMTP; then times
#      one full check of a domain with 2 MX hosts at 50 ms per DNS answer against its critical
#      path (on the lab's own Python servers).
#
# Needs root (network and mount namespaces, ports 25, 53 and 443) and the Debian packages
# postfix and nginx-light. Takes about 10 minutes.
# Useful options: --latencies 0 (skip the 20 ms round), --skip-single, --skip-bulk,
# --checkdmarc-sample N (with latency, checkdmarc checks the first N domains; 0: all),
# --concurrency N and --workers N (mailshield), --repeat N (single-domain checks).
set -euo pipefail
cd "$(dirname "$0")/../.."

workdir="${TMPDIR:-/tmp}/mailshield-bench-checker"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --workdir) workdir="$2"; shift 2 ;;
    --workdir=*) workdir="${1#--workdir=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh needs root: it uses network and mount namespaces and ports 25, 53 and 443" >&2
  exit 2
fi

. scripts/_uv.sh
uv sync --frozen --quiet
mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"

venv="$workdir/checkdmarc-venv"
version="${CHECKDMARC_VERSION:-6.0.4}"
if [ ! -x "$venv/bin/checkdmarc" ] || [ "$("$venv/bin/checkdmarc" --version)" != "$version" ]; then
  echo "installing checkdmarc $version into $venv" >&2
  uv venv --quiet --allow-existing "$venv"
  uv pip install --quiet --python "$venv/bin/python" "checkdmarc==$version"
fi

resolv="$workdir/resolv.conf"
echo "nameserver 127.0.12.53" > "$resolv"

exec unshare --net --mount -- /bin/sh -c '
  set -e
  ip link set lo up
  mount --bind "$1" /etc/resolv.conf
  shift
  exec "$@"
' sh "$resolv" .venv/bin/python -m bench.checker \
  --workdir "$workdir" --checkdmarc "$venv/bin/checkdmarc" ${args[@]+"${args[@]}"}
