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
#   bench/run.sh --phase https           fetchq and the tuned peer over https, interleaved, at N and
#                                        at --small-n (add `tuned,fetchq` for the http side too)
#
# Phases: limit, tuned, naive (peers: both), fetchq (end_to_end), https (tls), submit, status,
# million, concurrent, scaling, export, client, metrics, retention, postgres. Arguments go to
# bench/bench.py (`bench/bench.py --help`).
# Environment: BENCH_N, BENCH_SMALL_N, BENCH_RUNS, BENCH_SCALE_N, BENCH_QUICK, BENCH_SKIP, ... (see
# bench/bench.py); BENCH_NO_BUILD=1 uses the release binary as it is instead of running `swift build`.
#
# The side-by-side table (issue #15; bench/fetchq_bench/phases/versus.py) is fetchq beside the tuned
# peer (bench/peer_tuned.py) over http and over https, at N (100,000) and at BENCH_SMALL_N (20,000),
# each cell the median (min-max) of BENCH_RUNS runs interleaved peer, fetchq, peer, fetchq, ... in this
# one run. Every figure covers a run's timed window only (the peer: its pool.map, its processes
# already started; fetchq: the first POST to the last job seen completed, its workers running):
#   tasks/s          tasks / the window's seconds (fetchq: up to the last task's finished_at);
#                    the ratio is fetchq's median ÷ the peer's, each round's ratio beside it
#   connections      per 1,000 tasks: nginx stub_status `accepts` after the run less before (less
#                    the reading's own connection); requests/task likewise from `requests`
#   CPU per task     utime+stime from /proc/<pid>/stat, in µs: the peer's parent and its live children
#                    (pool workers, aiomultiprocess's manager), read by the peer itself; fetchq's
#                    supervisor and its workers (live ones, plus reaped ones' cutime); the ratio is
#                    fetchq's total ÷ the peer's (issue #15's target: <= 1/3)
#   idle, iowait     the share of all the cores' ticks in /proc/stat between the window's ends (what
#                    vmstat's id and wa columns show; the whole machine, so nginx and the bench's own
#                    polling are in it, and so are other processes on a shared machine)
#   storage writes   per task: write_bytes - cancelled_write_bytes of /proc/<pid>/io (the page-cache
#                    pages dirtied, i.e. what is sent to the disk) of fetchq's supervisor (its reaped
#                    workers included) and live workers, and of the peer's processes; beside it the
#                    device writes: sectors written x 512 in /proc/diskstats for the device of the
#                    bench's temporary directory, by the whole machine (journal included)
# https: the same nginx and file on a second port, TLSv1.2/1.3, a shared session cache, the same
# keep-alive settings (keepalive_requests 10,000,000), HTTP/1.1; an ECDSA P-256 certificate for
# IP:127.0.0.1 and DNS:localhost signed by a CA that the bench makes with openssl in the run's
# temporary directory. fetchq trusts it through `fetchq serve --ca-file`, the peer through
# ssl.create_default_context(cafile=...) (`peer_tuned.py --ca-file`).
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench_dir")"
cd "$root"

# System packages: nginx (the target, over http and https), openssl (its certificates) and wrk (the
# limit and the status reads), plus fetchq's own build dependencies.
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
command -v openssl >/dev/null 2>&1 || need+=(openssl)  # the https target's CA and certificate
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
