"""fetchq end to end: N URLs submitted in jobs of 1,000 (fetchq_bench.phases.submit), then waited
for until every task is final, on a fresh fetchq per run whose workers are already running.

Per run: tasks/s end to end and submitted, the supervisor's and the workers' CPU seconds, and the
supervisor's peak RSS. In a full run each run follows a round of the peers' runs, and the status
reads (fetchq_bench.phases.status) run on the same service once its tasks are final.

On its own: `python -m fetchq_bench.phases.end_to_end` or `bench/run.sh --phase fetchq`.
"""

import datetime
import sys
import time

from ..common import BenchError, log, repeat, stats_of
from ..procstat import cpu_snapshot, idle_share, peak_rss_mb
from ..service import on_fresh_fetchq
from ..target import connections_between
from . import status, submit, versus


def parse_timestamp(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def wait_until_final(server, jobs, deadline, timeout):
    """Polls the oldest unfinished job only, so the polling itself costs the server little;
    answers the jobs' finished_at and their tasks' counts by state."""
    finished_at, counts = [], {}
    pending = list(jobs)
    while pending:
        if time.perf_counter() > deadline:
            raise BenchError(f"{len(pending)} of {len(jobs)} jobs still pending after {timeout} s")
        if server.proc.poll() is not None:
            raise BenchError(f"fetchq exited with {server.proc.returncode} mid-run:\n{server.tail()}")
        doc = server.get_json(f"/v1/jobs/{pending[0]}")
        if doc["state"] == "completed":
            pending.pop(0)
            for key, value in doc["counts"].items():
                counts[key] = counts.get(key, 0) + value
            if doc.get("finished_at"):
                finished_at.append(doc["finished_at"])
        else:
            time.sleep(0.02)
    return finished_at, counts


def end_to_end_seconds(sub, observed_end, finished_at):
    """The end is when the last task became final: the jobs' finished_at (the server's clock, the
    same machine's), unless that is missing or implausible; then when we saw it."""
    e2e = observed_end - sub.first_post
    if len(finished_at) == len(sub.jobs):
        try:
            last = max(parse_timestamp(t) for t in finished_at)
            server_e2e = last - sub.first_post_wall
            if 0 < server_e2e <= e2e + 0.01:
                e2e = max(server_e2e, sub.submitted - sub.first_post)
        except ValueError:
            pass
    return e2e


def run(server, url, n, timeout, nginx=None):
    """Submit n URLs in batches, wait until all are final; returns the figures of the run. With
    nginx (the target), also the connections it accepted and the requests it served meanwhile."""
    sub = submit.submit_all(server, url, n, nginx)
    finished_at, counts = wait_until_final(server, sub.jobs, sub.first_post + timeout, timeout)
    observed_end = time.perf_counter()
    cpu_after = cpu_snapshot(server.proc.pid)
    window_after = submit.window_snapshot(server, nginx)
    e2e = end_to_end_seconds(sub, observed_end, finished_at)
    result = {
        "tasks": n,
        "submit_rate": submit.rate(n, sub.post_seconds),
        "submit_seconds": sub.post_seconds,
        "e2e_seconds": e2e,
        "e2e_rate": n / e2e,
        "counts": counts,
        "rss_peak_mb": peak_rss_mb(server.proc.pid),
        "task_ids": sub.task_ids,
    }
    if sub.cpu_before and cpu_after:
        result["cpu_supervisor"] = cpu_after["supervisor"] - sub.cpu_before["supervisor"]
        result["cpu_workers"] = cpu_after["workers"] - sub.cpu_before["workers"]
        result["worker_count"] = cpu_after["worker_count"]
    # From just before the first POST to when the last job was seen completed.
    share = idle_share(sub.window_before["stat"], window_after["stat"])
    result["idle_pct"], result["iowait_pct"] = share["idle"], share["iowait"]
    result["write_bytes"] = window_after["write_bytes"] - sub.window_before["write_bytes"]
    before_dev, after_dev = sub.window_before["device"], window_after["device"]
    result["device_write_bytes"] = None if before_dev is None or after_dev is None else after_dev - before_dev
    result["nginx"] = connections_between(sub.window_before["nginx"], window_after["nginx"])
    if counts.get("succeeded", 0) != n:
        log(f"WARNING: not every task succeeded: {counts}")
    return result


def run_figures(server, url, n, timeout):
    """run(), without the task ids: what scaling keeps of a run."""
    res = run(server, url, n, timeout)
    res.pop("task_ids")
    return res


def describe(res):
    return (
        f"end to end {res['e2e_rate']:,.0f} tasks/s ({res['e2e_seconds']:.2f} s), "
        f"submit {res['submit_rate']:,.0f} tasks/s, cpu supervisor {res.get('cpu_supervisor', 0):.1f} s, "
        f"workers {res.get('cpu_workers', 0):.1f} s ({res.get('worker_count')} workers), "
        f"peak RSS {res['rss_peak_mb']:.1f} MB, counts {res['counts']}"
    )


def one_run(ctx, r, reads):
    """One main run on a fresh fetchq; then the status reads on it (reads may be None)."""

    def work(server):
        s = ctx.settings
        res = run(server, ctx.url, s.n, s.run_timeout(s.n), nginx=ctx.nginx)
        log(f"fetchq run {r + 1}: {describe(res)}")
        versus.record(ctx, "http", s.n, "fetchq", versus.fetchq_figures(res))
        if reads:
            reads.measure(server, res["task_ids"], r)
        # VmHWM again just before stopping: the peak over the service's whole life.
        res["rss_peak_mb"] = max(res["rss_peak_mb"], peak_rss_mb(server.proc.pid))
        res.pop("task_ids")
        return res

    return on_fresh_fetchq(ctx, f"fetchq-main-{r}", work)


def summarize(ctx, runs):
    if not runs:
        return
    results = ctx.results
    fq = results["fetchq"] = stats_of(runs, ("e2e_rate", "submit_rate", "cpu_supervisor", "cpu_workers", "rss_peak_mb"))
    fq["failed"] = sum(run["counts"].get("failed", 0) + run["counts"].get("canceled", 0) for run in runs)
    fq["succeeded_all"] = all(run["counts"].get("succeeded", 0) == ctx.settings.n for run in runs)
    if not fq["succeeded_all"]:
        results["errors"].append("fetchq: not every task succeeded (see the counts above)")


def run_phase(ctx, before=None, after=None):
    """The main runs (and the status reads, when that phase is on), before(r) ahead of each and
    after(r) after it."""
    reads = status.Reads(ctx) if ctx.settings.wants("status") else None
    summarize(ctx, repeat(ctx, "fetchq", lambda r: one_run(ctx, r, reads), before=before, after=after))
    if reads:
        reads.summarize()


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("fetchq"))
