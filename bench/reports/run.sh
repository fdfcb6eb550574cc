#!/usr/bin/env bash
# TLS-RPT intake benchmark: `mailshield reports import` against parsedmarc on the same files, then
# HTTPS ingest with concurrent posting clients. Not a test; prints figures for bench/README.md.
#
#   bench/reports/run.sh [--count 10000] [--clients 128] [--workers 2] [--seconds 10] [--skip-https]
#
# 1. generates COUNT distinct gzip TLS reports (bench/reports/generate.py) in a scratch folder;
# 2. creates a venv for parsedmarc (PyPI) in the scratch folder and installs it there;
# 3. compiles both tools' bytecode first (so neither pays for compiling its imports);
# 4. runs `parsedmarc --offline -s -o OUT FOLDER` and `mailshield reports import --quiet FOLDER`
#    (fresh SQLite database) under /usr/bin/time -v: reports/s and peak memory of each;
# 5. runs bench/reports/https_ingest.py: `mailshield serve --workers WORKERS` with TLS on SQLite,
#    Debian's wrk (installed with apt-get when missing) posting distinct reports over CLIENTS
#    keep-alive connections for SECONDS; then the same with one worker and over plain HTTP
#    (left out with --skip-https).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/_uv.sh

count=10000
clients=128
workers=2
seconds=10
skip_https=0
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --skip-https) skip_https=1; shift ;;
    *) echo "usage: $0 [--count N] [--clients N] [--workers N] [--seconds N] [--skip-https]" >&2
       exit 2 ;;
  esac
done

scratch="${BENCH_SCRATCH:-$(mktemp -d /tmp/mailshield-bench-reports.XXXXXX)}"
mkdir -p "$scratch"
echo "scratch folder: $scratch"
uv sync --frozen --quiet

if [ ! -x "$scratch/parsedmarc/bin/parsedmarc" ]; then
  uv venv --quiet --python python3 "$scratch/parsedmarc"
  VIRTUAL_ENV="$scratch/parsedmarc" uv pip install --quiet parsedmarc
fi
"$scratch/parsedmarc/bin/python" -m compileall -q -j 0 "$scratch/parsedmarc/lib" >/dev/null 2>&1 || true
uv run --frozen python -m compileall -q -j 0 .venv/lib src >/dev/null 2>&1 || true

rm -rf "$scratch/reports"
uv run --frozen python bench/reports/generate.py "$scratch/reports" --count "$count"

measure() {  # name, command...: wall seconds, peak RSS (KiB), CPU seconds (user + system,
  local name="$1"; shift  # worker processes included) from GNU time
  /usr/bin/time -v "$@" > "$scratch/$name.out" 2> "$scratch/$name.time"
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$scratch/$name.time" \
    | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$scratch/$name.time")
  cpu=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {print s}' "$scratch/$name.time")
  echo "$name $wall $rss $cpu"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$scratch/parsedmarc-out"
pm=$(measure parsedmarc "$scratch/parsedmarc/bin/parsedmarc" --offline -s -o "$scratch/parsedmarc-out" "$scratch/reports")
rm -rf "$scratch/mailshield-data"
ms=$(MAILSHIELD_DATA_DIR="$scratch/mailshield-data" MAILSHIELD_AUTO_MIGRATE=true \
  measure mailshield .venv/bin/mailshield reports import --quiet "$scratch/reports")
cat "$scratch/mailshield.out"
python3 - "$count" "$pm" "$ms" <<'PY'
import sys
count = int(sys.argv[1])
rows = [line.split() for line in sys.argv[2:]]
speed = {}
cpu = {}
for name, wall, rss, seconds in rows:
    speed[name] = count / float(wall)
    cpu[name] = float(seconds)
    print(
        f"{name:>10}: {float(wall):6.2f} s  {speed[name]:7.0f} reports/s"
        f"  CPU {cpu[name]:6.2f} s  peak RSS {int(rss) / 1024:6.0f} MiB"
    )
print(f"mailshield / parsedmarc: {speed['mailshield'] / speed['parsedmarc']:.1f}x reports/s,"
      f" {cpu['parsedmarc'] / cpu['mailshield']:.1f}x less CPU")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$skip_https" = 1 ] && exit 0
echo "load average before HTTPS: $(cut -d' ' -f1-3 /proc/loadavg)"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
https=(uv run --frozen python bench/reports/https_ingest.py --clients "$clients" --seconds "$seconds"
       --scratch "$scratch/https")
"${https[@]}" --workers "$workers"
"${https[@]}" --workers 1
"${https[@]}" --workers "$workers" --plain
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
