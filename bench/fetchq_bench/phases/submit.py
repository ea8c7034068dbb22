"""Durable submissions from one client: N URLs POSTed in jobs of 1,000, one after another, to a
fetchq whose engine starts on them at once.

A full run times these POSTs inside the end-to-end runs (fetchq_bench.phases.end_to_end calls
`submit_all`); on its own (`--phase submit`) the phase makes the same submissions to a fresh
fetchq per run and stops it without waiting for the tasks.
"""

import dataclasses
import json
import sys
import time

from ..common import BenchError, repeat, stats
from ..config import BATCH
from ..procstat import cpu_snapshot, device_written_bytes, fetchq_write_bytes, system_cpu
from ..service import on_fresh_fetchq


@dataclasses.dataclass
class Submission:
    jobs: list
    task_ids: list
    cpu_before: dict  # the service's CPU seconds just before the first POST
    first_post_wall: float  # time.time() at the first POST
    first_post: float  # time.perf_counter() at the first POST
    submitted: float  # time.perf_counter() after the last POST
    post_seconds: float  # the POSTs' round trips added up
    window_before: dict = None  # /proc/stat, the service's storage writes, nginx's counters: before the first POST


def job_bodies(url, n):
    bodies = []
    for start in range(0, n, BATCH):
        tasks = [{"url": f"{url}?i={i}"} for i in range(start, min(n, start + BATCH))]
        bodies.append(json.dumps({"tasks": tasks}).encode())
    return bodies


def window_snapshot(server, nginx=None):
    """What end_to_end compares at the end of a run: the cores' ticks (/proc/stat), the bytes the
    supervisor and its workers caused to be written to storage, the bytes written to the device of
    the database, nginx's counters (if given)."""
    return {
        "stat": system_cpu(),
        "write_bytes": fetchq_write_bytes(server.proc.pid),
        "device": device_written_bytes(server.dir),
        "nginx": nginx.counters() if nginx is not None else None,
    }


def submit_all(server, url, n, nginx=None):
    """POST n URLs in jobs of BATCH, one after another; answers what the clocks read."""
    bodies = job_bodies(url, n)
    jobs, task_ids = [], []
    window_before = window_snapshot(server, nginx)
    cpu_before = cpu_snapshot(server.proc.pid)
    post_seconds = 0.0
    first_post_wall = time.time()
    first_post = time.perf_counter()
    for body in bodies:
        doc, seconds = server.submit(body)
        post_seconds += seconds
        jobs.append(doc["id"])
        task_ids.extend(doc["task_ids"])
    submitted = time.perf_counter()
    if len(task_ids) != n:
        raise BenchError(f"submitted {n} tasks, got {len(task_ids)} ids back")
    return Submission(jobs, task_ids, cpu_before, first_post_wall, first_post, submitted, post_seconds, window_before)


def rate(n, seconds):
    return n / seconds if seconds > 0 else None


def measure(server, url, n):
    sub = submit_all(server, url, n)
    return {"tasks": n, "submit_rate": rate(n, sub.post_seconds), "submit_seconds": sub.post_seconds}


def one_run(ctx, r):
    return on_fresh_fetchq(ctx, f"fetchq-submit-{r}", lambda server: measure(server, ctx.url, ctx.settings.n))


def describe(res):
    return f"{res['submit_rate']:,.0f} tasks/s accepted ({res['tasks']:,} tasks, {res['submit_seconds']:.2f} s of POSTs)"


def summarize(ctx, runs):
    if runs:
        ctx.results["fetchq"] = {"submit_rate": stats([run["submit_rate"] for run in runs])}


def run_phase(ctx, before=None, after=None):
    """The phase's runs, before(r) ahead of each (the peers' round in a run with peers), after(r)
    after each."""
    summarize(ctx, repeat(ctx, "submit", lambda r: one_run(ctx, r), describe, before=before, after=after))


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("submit"))
