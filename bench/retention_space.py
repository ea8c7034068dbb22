#!/usr/bin/env python3
"""How the space of deleted jobs is reused: fetchq's schema (migrations/*.sql), jobs of tasks with
2 KiB bodies, the retention sweep's own DELETE statements in 500-row transactions, then as many
new jobs again. Prints the file size and free pages at each step.

    python3 bench/retention_space.py [jobs] [tasks_per_job]
"""
import glob, os, sqlite3, sys, tempfile, time

JOBS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
TASKS = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def open_db(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def add_jobs(db, first, count, finished_at):
    for job in range(first, first + count):
        db.execute("BEGIN")
        db.execute("INSERT INTO jobs (seq, id, task_count, timeout_ms, created_at, finished_at)"
                   " VALUES (?, ?, ?, 1000, 0, ?)", (job, f"job{job}", TASKS, finished_at))
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {TASKS - 1})
            INSERT INTO tasks (id, job_seq, position, url, host, method, timeout_ms, state,
                next_attempt_at, created_at, updated_at, finished_at, status_code, body_bytes)
            SELECT printf('task-%d-%d', ?1, i), ?1, i, printf('http://example.test/%d/%d', ?1, i),
                'example.test', 'GET', 1000, 'succeeded', 0, 0, 0, ?2, 200, 2048 FROM n""", (job, finished_at))
        db.execute("INSERT INTO task_bodies (task_seq, content_type, body)"
                   " SELECT seq, 'text/plain', randomblob(2048) FROM tasks WHERE job_seq = ?", (job,))
        db.execute("COMMIT")


def sweep(db, cutoff, limit=500):
    """The statements of Store.deleteExpired, one transaction per batch."""
    durations = []
    while True:
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        expired = [r[0] for r in db.execute(
            "SELECT seq FROM jobs j WHERE finished_at IS NOT NULL AND finished_at < ?1 AND NOT EXISTS"
            " (SELECT 1 FROM deliveries d WHERE d.job_seq = j.seq AND d.state = 'pending')"
            " ORDER BY finished_at LIMIT ?2", (cutoff, limit))]
        jobs = "[" + ",".join(map(str, expired)) + "]"
        rows = db.execute("DELETE FROM tasks WHERE seq IN (SELECT t.seq FROM json_each(?1) e"
                          " JOIN tasks t ON t.job_seq = e.value LIMIT ?2)", (jobs, limit)).rowcount
        rows += db.execute("DELETE FROM jobs WHERE seq IN (SELECT value FROM json_each(?1))"
                           " AND NOT EXISTS (SELECT 1 FROM tasks WHERE job_seq = jobs.seq)", (jobs,)).rowcount
        db.execute("COMMIT")
        durations.append((time.perf_counter() - started) * 1000)
        if rows < limit:
            print(f"  sweep: {len(durations)} transactions of <= {limit} rows, median"
                  f" {sorted(durations)[len(durations) // 2]:.1f} ms, longest {max(durations):.1f} ms")
            return


def report(db, path, step):
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    tasks = db.execute("SELECT count(*) FROM tasks").fetchone()[0]
    print(f"{step:<44} {os.path.getsize(path) / 1e6:8.1f} MB  {pages:7d} pages  {free:7d} free  {tasks:8d} tasks")


with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "fetchq.db")
    db = open_db(path)
    for migration in sorted(glob.glob(os.path.join(ROOT, "migrations", "*.sql"))):
        db.executescript(open(migration).read())
    add_jobs(db, 1, JOBS, finished_at=1)
    report(db, path, f"{JOBS} jobs x {TASKS} tasks")
    sweep(db, cutoff=2)
    report(db, path, f"after the sweep deleted all {JOBS}")
    add_jobs(db, JOBS + 1, JOBS, finished_at=3)
    report(db, path, f"after {JOBS} new jobs (free pages reused)")
    sweep(db, cutoff=4)
    add_jobs(db, 2 * JOBS + 1, JOBS, finished_at=5)
    report(db, path, f"after a second sweep and {JOBS} more")
