#!/usr/bin/env python3
"""The fetchq benchmark (issue #6): one run, one local nginx target, four contenders.

The phases live in the package fetchq_bench (one module each, see fetchq_bench/__init__.py); this
script runs them all in order, or those named with `--phase`. Run through bench/run.sh
(`make bench`), which installs nginx, wrk and the Python peers' venv and builds the release binary
first. Only the standard library is used here; the peers run under bench/.venv/bin/python.

Environment:
  BENCH_N           URLs per main run                         (default 100000)
  BENCH_SMALL_N     the side-by-side table's second N, run when smaller than BENCH_N (default
                    20000; 200 when quick; 0: none)
  BENCH_RUNS        runs per figure; the median is reported   (default 3)
  BENCH_SCALE_N     URLs per scaling run                      (default 20000)
  BENCH_QUICK=1     smoke run: N=500, 1 run, wrk 2 s, one scaling point each; the report goes to
                    bench/out/BENCHMARKS-quick.md instead of BENCHMARKS.md
  BENCH_WRK_SECONDS wrk duration                              (default 10; 2 when quick)
  BENCH_PER_HOST    --per-host-concurrency, when fetchq has it (default 256: 2 × 64 running and as many queued)
  BENCH_SKIP        comma list of phases to leave out:
                    limit,tuned,naive,fetchq,https,status,scaling,million,concurrent,export,client,
                    metrics,retention,postgres
  BENCH_MILLION_N   tasks held in the database for the memory phase (default 1000000; 20000 quick)
  BENCH_EXPORT_N    tasks of the job the export phase builds and exports (default 1000000; 20000 quick)
  BENCH_CLIENT_N    URLs of the client phase's `fetchq submit --wait` run (default 100000; 2000 quick)
  BENCH_PAIRS       A/B pairs of the metrics, retention and postgres phases (default 3; 1 quick)
  BENCH_BACKLOG     expired tasks the retention phase's sweeper deletes (default 400000; 60000 quick)
  BENCH_RETENTION_N URLs per retention run (default 40000; 2000 quick)
  BENCH_PG_N        URLs per end-to-end run of the postgres phase (default 20000; 500 quick)
  BENCH_PG_SUBMIT_N URLs per submit run of the postgres phase, jobs of 10,000 (default 100000; 20000 quick)
  BENCH_FETCHQ      the fetchq binary                         (default .build/release/fetchq)
  BENCH_OUTPUT      the Markdown file to write                (default BENCHMARKS.md)
  BENCH_RUN_TIMEOUT seconds one fetchq or peer run may take   (default 120 + N/100)
  BENCH_TMPDIR      where the temporary directories go        (default: the system's)
  BENCH_KEEP_TMP=1  keep the temporary directories

Command line (on top of the environment; `bench.py --help`): --phase NAME[,NAME], --quick, --n,
--small-n, --runs, --scale-n, --million-n, --export-n, --client-n, --pairs, --backlog, --retention-n,
--pg-n, --pg-submit-n, --wrk-seconds, --output, --needs-fetchq, --needs-postgres. The metrics phase
(N = BENCH_N), the retention phase and the postgres phase (SQLite, PostgreSQL, two nodes on
PostgreSQL) run their sides interleaved, A, B, A, B, and report the ratios per pair.
"""

import sys

from fetchq_bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
