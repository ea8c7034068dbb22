"""The command line of the bench (bench/bench.py, `python -m fetchq_bench`, and each phase's
`python -m fetchq_bench.phases.NAME`), on top of the BENCH_* environment (see bench/run.sh).

  --phase NAME[,NAME]  run only these phases (repeatable; --only is the same): limit, tuned, naive, peers, fetchq
                       (end_to_end), https (tls), submit, status, million, concurrent, scaling, export,
                       client, metrics, retention, postgres. Prints their figures; writes no Markdown
                       unless --output (or BENCH_OUTPUT) names a file, except that export, client,
                       metrics, retention and postgres each rewrite their own section of BENCHMARKS.md
                       (not in --quick).
  --quick              the smoke run's sizes (as BENCH_QUICK=1)
  --n, --small-n, --runs, --scale-n, --million-n, --wrk-seconds, --export-n, --client-n, --pairs, --backlog,
  --retention-n, --pg-n, --pg-submit-n
                       override one size
  --needs-fetchq       exit 0 if the chosen phases run fetchq, 1 if not (bench/run.sh asks this)
  --needs-postgres     exit 0 if the chosen phases run PostgreSQL (the postgres phase), 1 if not
"""

import argparse
import os
import signal
import sys
import traceback

from . import config
from .common import stop_all


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench", description="The fetchq benchmark (issue #6).")
    p.add_argument("--phase", "--only", action="append", metavar="NAME[,NAME]", help="run only these phases")
    p.add_argument("--quick", action="store_true", default=None, help="smoke-run sizes (BENCH_QUICK=1)")
    p.add_argument("--n", type=int, help="URLs per main run (BENCH_N)")
    p.add_argument("--small-n", type=int, help="the side-by-side table's second N, run when smaller than --n (BENCH_SMALL_N; 0: none)")
    p.add_argument("--runs", type=int, help="runs per figure (BENCH_RUNS)")
    p.add_argument("--scale-n", type=int, help="URLs per scaling run (BENCH_SCALE_N)")
    p.add_argument("--million-n", type=int, help="tasks held by the million phase (BENCH_MILLION_N)")
    p.add_argument("--export-n", type=int, help="tasks of the export phase's job (BENCH_EXPORT_N)")
    p.add_argument("--client-n", type=int, help="URLs of the client phase's run (BENCH_CLIENT_N)")
    p.add_argument("--pairs", type=int, help="A/B pairs of the metrics and retention phases (BENCH_PAIRS)")
    p.add_argument("--backlog", type=int, help="expired tasks the retention phase sweeps (BENCH_BACKLOG)")
    p.add_argument("--retention-n", type=int, help="URLs per retention run (BENCH_RETENTION_N)")
    p.add_argument("--pg-n", type=int, help="URLs per end-to-end run of the postgres phase (BENCH_PG_N)")
    p.add_argument("--pg-submit-n", type=int, help="URLs per submit run of the postgres phase (BENCH_PG_SUBMIT_N)")
    p.add_argument("--wrk-seconds", type=int, help="wrk's duration (BENCH_WRK_SECONDS)")
    p.add_argument("--output", help="the Markdown file to write (BENCH_OUTPUT)")
    p.add_argument("--needs-fetchq", action="store_true", help="exit 0 if the chosen phases run fetchq")
    p.add_argument("--needs-postgres", action="store_true", help="exit 0 if the chosen phases run PostgreSQL")
    args = p.parse_args(argv)
    if args.phase:
        args.phase = [name for value in args.phase for name in value.split(",")]
    return p, args


def settings_from(argv):
    parser, args = parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if k not in ("needs_fetchq", "needs_postgres")}
    try:
        return config.load(os.environ, overrides), args
    except ValueError as error:
        parser.error(str(error))


def main(argv=None):
    settings, args = settings_from(sys.argv[1:] if argv is None else argv)
    if args.needs_fetchq:
        return 0 if settings.needs_fetchq() else 1
    if args.needs_postgres:
        return 0 if settings.wants("postgres") else 1

    # SIGTERM (e.g. from a CI timeout) goes through the same cleanup as Ctrl-C.
    def on_sigterm(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_sigterm)
    from .runner import run

    try:
        return run(settings)
    except Exception:
        traceback.print_exc()
        stop_all()
        return 1


def main_for(phase):
    """A phase module's `python -m` entry: this phase, with the rest of the command line."""
    return main(["--phase", phase, *sys.argv[1:]])
