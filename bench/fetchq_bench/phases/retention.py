"""Retention off the hot path (issue #16, part 3: "so fetching does not notice (measure it)"): fetchq
end to end (N URLs in jobs of 1,000) on a database that already holds a backlog of finished jobs
(400,000 tasks with 1 KiB bodies, finished two days ago), with

  sweeping  `--retention 1d`: the whole backlog has expired, and the sweeper, which starts with the
            service, deletes it in its 500-row transactions during the whole run;
  idle      `--retention 7d` (the default): nothing has expired, the sweeper finds nothing;

interleaved sweeping, idle, sweeping, idle, ... (`--pairs`, default 3 of each), each run on its
own copy of the same database. The figures: tasks/s end to end of each side and the ratios per
pair, and how much of the backlog the sweeper deleted during each sweeping run (counted when the
run's last task is final; a run whose sweep ended before that is marked).

The backlog is written straight into the database with Python's sqlite3, in fetchq's schema (a
fresh `fetchq serve` migrates the file first): fetching 400,000 tasks for real would take minutes
and give the same rows.

On its own: `python -m fetchq_bench.phases.retention` or `bench/run.sh --phase retention`.
"""

import os
import random
import shutil
import sqlite3
import sys
import time

from .. import ab
from ..common import BenchError, log, remove
from ..service import Fetchq, on_fresh_fetchq
from . import end_to_end

ARMS = ("sweeping", "idle")
RETENTION = {"sweeping": "1d", "idle": "7d"}
BACKLOG_JOB = 10_000  # tasks per backlog job
BODY_BYTES = 1024
TWO_DAYS_MS = 2 * 86_400_000
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(millis, rng):
    """A ULID of that time, as fetchq makes them: 10 characters of time, 16 of randomness."""
    value = (millis << 80) | rng.getrandbits(80)
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def fill_backlog(db_path, tasks, url):
    """Completed jobs of BACKLOG_JOB succeeded tasks, each with a 1 KiB body, finished two days ago;
    answers the last backlog job's seq (every later job is the bench's)."""
    rng = random.Random(16)
    finished = int(time.time() * 1000) - TWO_DAYS_MS
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        seq = 0
        for start in range(0, tasks, BACKLOG_JOB):
            count = min(BACKLOG_JOB, tasks - start)
            db.execute("BEGIN")
            seq = db.execute(
                "INSERT INTO jobs (id, task_count, timeout_ms, created_at, finished_at, n_succeeded)"
                " VALUES (?, ?, 30000, ?, ?, ?)",
                (ulid(finished, rng), count, finished - 60_000, finished, count),
            ).lastrowid
            db.executemany(
                "INSERT INTO tasks (id, job_seq, position, url, host, method, timeout_ms, state, attempts,"
                " next_attempt_at, created_at, updated_at, finished_at, status_code, body_bytes)"
                " VALUES (?, ?, ?, ?, '127.0.0.1', 'GET', 30000, 'succeeded', 1, ?, ?, ?, ?, 200, ?)",
                (
                    (ulid(finished, rng), seq, i, f"{url}?old={start + i}", finished, finished, finished, finished, BODY_BYTES)
                    for i in range(count)
                ),
            )
            db.execute(
                "INSERT INTO task_bodies (task_seq, content_type, body)"
                " SELECT seq, 'text/plain', randomblob(?) FROM tasks WHERE job_seq = ?",
                (BODY_BYTES, seq),
            )
            db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return seq
    finally:
        db.close()


def prepare(ctx):
    """The backlog database, once per bench run: migrated by a fetchq started and stopped on it,
    then filled; answers its path, its size in MB and the last backlog job's seq."""
    s = ctx.settings
    base = Fetchq(s.fetchq, ctx.workdir, "fetchq-retention-base", ctx.flags, extra_args=["--retention", "0"])
    base.start()
    base.stop()
    t0 = time.perf_counter()
    last_seq = fill_backlog(base.db, s.backlog, ctx.url)
    size = os.path.getsize(base.db) / 1e6
    log(f"retention: backlog of {s.backlog:,} tasks written in {time.perf_counter() - t0:.0f} s ({size:,.0f} MB)")
    return base.db, size, last_seq


def backlog_left(db_path, last_seq):
    """Tasks of the backlog still in the database (a read-only look beside the running service)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute("SELECT count(*) FROM tasks WHERE job_seq <= ?", (last_seq,)).fetchone()[0]
    finally:
        db.close()


def one_run(ctx, base, arm, pair):
    base_db, _, last_seq = base
    s = ctx.settings
    name = f"fetchq-retention-{arm}-{pair}"
    run_dir = os.path.join(ctx.workdir, name)
    os.makedirs(run_dir, exist_ok=True)
    db = os.path.join(run_dir, "bench.db")
    shutil.copyfile(base_db, db)

    def work(server):
        res = end_to_end.run_figures(server, ctx.url, s.retention_n, s.run_timeout(s.retention_n))
        left = backlog_left(server.db, last_seq)
        res["backlog_deleted"] = s.backlog - left
        res["sweep_outlasted_run"] = left > 0
        if arm == "idle" and left != s.backlog:
            raise BenchError(f"the idle run deleted {s.backlog - left} backlog tasks")
        return res

    return on_fresh_fetchq(ctx, name, work, db=db, extra_args=["--retention", RETENTION[arm]])


def describe(res):
    swept = f", backlog tasks deleted during the run {res['backlog_deleted']:,}"
    if res["backlog_deleted"] and not res["sweep_outlasted_run"]:
        swept += " (the sweep ended before the run did)"
    return f"{res['e2e_rate']:,.0f} tasks/s ({res['e2e_seconds']:.1f} s){swept}"


def run_phase(ctx):
    if not ctx.flags.get("retention"):
        ctx.results["errors"].append("retention: this fetchq has no --retention flag")
        log("ERROR: this fetchq has no --retention flag; the retention phase is skipped")
        return
    base = prepare(ctx)
    try:
        runs = ab.interleave(ctx, "retention", ARMS, lambda arm, pair: one_run(ctx, base, arm, pair), describe)
    finally:
        remove(os.path.dirname(base[0]))
    if not any(runs["sweeping"]) or not any(runs["idle"]):
        return
    sweeping = [r for r in runs["sweeping"] if r]
    ctx.results["retention"] = {
        "n": ctx.settings.retention_n,
        "backlog": ctx.settings.backlog,
        "db_mb": base[1],
        "rate": ab.summary(runs, "sweeping", "idle", "e2e_rate"),
        "deleted": [r["backlog_deleted"] for r in sweeping],
        "deleted_per_s": [r["backlog_deleted"] / r["e2e_seconds"] for r in sweeping],
        "outlasted": all(r["sweep_outlasted_run"] for r in sweeping),
    }


def render(res):
    r = res["rate"]
    med = lambda arm: "—" if not r[arm] else f"{r[arm]['median']:,.0f}"
    deleted = ", ".join(f"{d:,}" for d in res["deleted"])
    per_s = ", ".join(f"{d:,.0f}" for d in res["deleted_per_s"])
    lines = [
        "| Measurement | Sweeping (`--retention 1d`) | Idle (`--retention 7d`) | Ratio sweeping ÷ idle per pair, median |",
        "| --- | ---: | ---: | --- |",
        f"| End to end, {res['n']:,} URLs, tasks/s (median) | {med('sweeping')} | {med('idle')} | {ab.ratio_text(r)} |",
        f"| … each run, in the order they ran (sweeping, idle, sweeping, …) | {ab.runs_text(r, 'sweeping')} | {ab.runs_text(r, 'idle')} | |",
        f"| Backlog tasks the sweeper deleted during each run (of {res['backlog']:,}) | {deleted} | 0 | |",
        f"| … per second of the run | {per_s} | — | |",
    ]
    if not res["outlasted"]:
        lines.append("")
        lines.append("**In at least one sweeping run the sweep ended before the run did**: raise `--backlog`.")
    return lines


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("retention"))
