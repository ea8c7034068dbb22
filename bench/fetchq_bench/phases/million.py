"""Many tasks held: 1,000,000 tasks (due in a day, so they stay queued) stored in jobs of 10,000;
then 1,000 of them read back one at a time, and 1,000 tasks due at once run behind them.

Per run, on a fresh fetchq: the submit rate, the supervisor's peak RSS, the database's size, the
p99 of the single reads, and how fast the 1,000 due tasks finish (which shows whether a claim has
to walk past what is not yet due).

On its own: `python -m fetchq_bench.phases.million` or `bench/run.sh --phase million`.
"""

import json
import os
import sys
import time

from ..common import BenchError, repeat, stats_of
from ..config import DELAY_A_DAY_MS, MILLION_BATCH
from ..procstat import peak_rss_mb
from ..service import on_fresh_fetchq

KEYS = ("submit_rate", "rss_peak_mb", "db_mb", "read_p99_ms", "due_rate")


def store_delayed(server, url, n):
    """Answers a sample of the stored tasks' ids (100 per job) and the POSTs' seconds."""
    ids, post_seconds = [], 0.0
    for start in range(0, n, MILLION_BATCH):
        tasks = [{"url": f"{url}?m={i}"} for i in range(start, min(n, start + MILLION_BATCH))]
        doc, seconds = server.submit(json.dumps({"tasks": tasks, "delay_ms": DELAY_A_DAY_MS}).encode())
        post_seconds += seconds
        ids.extend(doc["task_ids"][:: max(1, MILLION_BATCH // 100)])
    return ids, post_seconds


def read_p99_ms(server, ids):
    """GET each task once, one at a time; the p99 of the latencies in ms."""
    latencies = []
    for task_id in ids:
        t0 = time.perf_counter()
        status, answer = server.request("GET", f"/v1/tasks/{task_id}")
        latencies.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise BenchError(f"GET /v1/tasks/{task_id} answered {status}: {answer[:300]!r}")
    latencies.sort()
    return latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def due_rate(server, url):
    """1,000 tasks due at once, behind the delayed ones: tasks/s from their POST to their end."""
    tasks = [{"url": f"{url}?due={i}"} for i in range(1000)]
    t0 = time.perf_counter()
    job_id = server.submit(json.dumps({"tasks": tasks}).encode())[0]["id"]
    deadline = t0 + 600
    while True:
        status, answer = server.request("GET", f"/v1/jobs/{job_id}")
        if status == 200 and json.loads(answer)["state"] == "completed":
            break
        if time.perf_counter() > deadline:
            raise BenchError("1,000 due tasks behind the delayed ones did not finish within 600 s")
        time.sleep(0.01)
    return 1000 / (time.perf_counter() - t0)


def hold_many(server, url, n):
    """Store n tasks, read 1,000 of them back, run 1,000 due ones; the figures of the run."""
    ids, post_seconds = store_delayed(server, url, n)
    p99 = read_p99_ms(server, ids[:1000])
    rate = due_rate(server, url)
    db_bytes = sum(os.path.getsize(server.db + suffix) for suffix in ("", "-wal") if os.path.exists(server.db + suffix))
    return {
        "tasks": n,
        "submit_rate": n / post_seconds,
        "rss_peak_mb": peak_rss_mb(server.proc.pid),
        "db_mb": db_bytes / 1e6,
        "read_p99_ms": p99,
        "due_rate": rate,
    }


def describe(res):
    return (
        f"{res['tasks']:,} tasks stored at {res['submit_rate']:,.0f} tasks/s, "
        f"peak RSS {res['rss_peak_mb']:.1f} MB, database {res['db_mb']:.0f} MB, "
        f"status read p99 {res['read_p99_ms']:.2f} ms, 1,000 due tasks after them at {res['due_rate']:,.0f} tasks/s"
    )


def run_phase(ctx):
    n = ctx.settings.million_n
    runs = repeat(
        ctx, "million",
        lambda r: on_fresh_fetchq(ctx, f"fetchq-million-{r}", lambda server: hold_many(server, ctx.url, n)),
        describe,
    )
    if runs:
        ctx.results["million"] = stats_of(runs, KEYS)
        ctx.results["million"]["tasks"] = n


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("million"))
