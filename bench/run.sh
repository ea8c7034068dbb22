#!/usr/bin/env bash
# `make bench`: install what the benchmark needs, build fetchq (release), run bench/bench.py
# (the package bench/fetchq_bench, one module per phase).
#
#   bench/run.sh                         the full run; writes BENCHMARKS.md
#   BENCH_QUICK=1 bench/run.sh           a smoke run (N=500, 1 run); writes bench/out/BENCHMARKS-quick.md
#   bench/run.sh --quick                 the same
#   bench/run.sh --phase submit [--quick | --n 2000 --runs 1]
#                                        one phase (or a comma list) on its own: prints its figures,
#                                        writes no Markdown unless --output names a file
#
#   bench/run.sh --phase export          one of the phases with a BENCHMARKS.md section of its own
#                                        (export, client, metrics, retention, postgres): rewrites that
#                                        section only, leaving the main table as it is
#   bench/run.sh --phase postgres        SQLite against PostgreSQL (a server of its own, started and
#                                        stopped by the bench), one node and two, interleaved
#
# Phases: limit, tuned, naive (peers: both), fetchq (end_to_end), submit, status, million,
# concurrent, scaling, export, client, metrics, retention, postgres. Arguments go to bench/bench.py
# (`bench/bench.py --help`).
# Environment: BENCH_N, BENCH_RUNS, BENCH_SCALE_N, BENCH_QUICK, BENCH_SKIP, ... (see bench/bench.py);
# BENCH_NO_BUILD=1 uses the release binary as it is instead of running `swift build` first.
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench_dir")"
cd "$root"

# System packages: nginx (the target) and wrk (the limit and the status reads), plus fetchq's
# own build dependencies.
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
# PostgreSQL 15 (Debian's server, with pg_stat_statements) for the postgres phase, when it runs.
# bench.py uses only the standard library, so the system's python3 can answer before the venv exists.
if python3 "$bench_dir/bench.py" --needs-postgres "$@" && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    need+=(postgresql)
fi
if [ -x scripts/install-deps.sh ]; then
    scripts/install-deps.sh "${need[@]}"
elif [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

# The Python peers' virtual environment.
venv="$bench_dir/.venv"
if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv"
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import aiohttp, aiomultiprocess' >/dev/null 2>&1; then
    echo "installing the Python peers' packages into $venv"
    timeout 600 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$bench_dir/requirements.txt"
fi

# fetchq, release build (incremental: quick when up to date). Skipped when no chosen phase runs it.
if [ -z "${BENCH_NO_BUILD:-}" ] && [ -z "${BENCH_FETCHQ:-}" ] &&
    "$venv/bin/python" "$bench_dir/bench.py" --needs-fetchq "$@"; then
    echo "building fetchq (release)"
    swift build -c release --product fetchq
fi

exec "$venv/bin/python" "$bench_dir/bench.py" "$@"
