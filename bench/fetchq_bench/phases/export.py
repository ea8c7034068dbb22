"""The bulk export (issue #14): one open job of 1,000,000 tasks (`POST /v1/jobs` with `"open": true`,
appends of 10,000, `/seal`), fetched from the local nginx to the end, then exported twice through
`GET /v1/jobs/{id}/results` while the supervisor's VmRSS is sampled every 100 ms:

  1. read as fast as this client reads: lines/s and MB/s;
  2. read slowly: about 1.6 MB/s for 15 s (or half the lines), then not at all for 10 s (a stalled
     client; meanwhile 3 jobs of 1,000 tasks are submitted, to see whether the writer is held), then
     the rest at full speed. The same 3 submissions are timed before and after the exports.

The figures: the supervisor's RSS before the exports, the largest sample during each, after them,
and its VmHWM before and after (a flat export leaves VmHWM where the fetching left it); and the
size of the write-ahead log (sampled every 250 ms), whose reset after a big run makes one write slow.

One run on a fresh fetchq (not `--runs`: building and fetching the job takes minutes).
On its own: `python -m fetchq_bench.phases.export` or `bench/run.sh --phase export`.
"""

import http.client
import json
import sys
import time

from ..common import BenchError, attempt, log
from ..config import DELAY_A_DAY_MS, EXPORT_BATCH
from ..procstat import file_mb, peak_rss_mb, rss_mb, rss_sampler, Sampler
from ..service import on_fresh_fetchq

SLOW_CHUNK = 16 * 1024
SLOW_PAUSE = 0.01  # s between two slow reads: at most 1.6 MB/s
SLOW_SECONDS = 15
STALL_SECONDS = 10


def build_job(server, url, n):
    """The open job, its appends and its seal; answers the job id and the seconds the appends took."""
    job_id = server.post_json("/v1/jobs", {"open": True}, expect=(201,))["id"]
    t0 = time.perf_counter()
    for start in range(0, n, EXPORT_BATCH):
        tasks = [{"url": f"{url}?x={i}"} for i in range(start, min(n, start + EXPORT_BATCH))]
        server.post_json(f"/v1/jobs/{job_id}/tasks", {"tasks": tasks}, expect=(201,))
    append_seconds = time.perf_counter() - t0
    status, answer = server.request("POST", f"/v1/jobs/{job_id}/seal")
    if status != 200:
        raise BenchError(f"POST /v1/jobs/{job_id}/seal answered {status}: {answer[:300]!r}")
    return job_id, append_seconds, t0


def wait_completed(server, job_id, timeout):
    """Long-polls the job until it is completed; answers its counts."""
    deadline = time.perf_counter() + timeout
    while True:
        doc = server.get_json(f"/v1/jobs/{job_id}?wait=30")
        if doc["state"] == "completed":
            return doc["counts"]
        if time.perf_counter() > deadline:
            raise BenchError(f"the export job was not completed after {timeout} s: {doc['counts']}")
        if server.proc.poll() is not None:
            raise BenchError(f"fetchq exited with {server.proc.returncode}:\n{server.tail()}")


def timed_submit(server, url):
    """A job of 1,000 tasks due in a day, POSTed while the export is stalled: its round trip in ms."""
    tasks = [{"url": f"{url}?stall={i}"} for i in range(1000)]
    return server.submit(json.dumps({"tasks": tasks, "delay_ms": DELAY_A_DAY_MS}).encode())[1] * 1000


def export(server, job_id, url, n, slow):
    """Reads the whole export of n lines; answers lines, bytes, seconds, the peak RSS sampled and,
    when slow, the round trips of 3 submissions made while the reader stalled (after SLOW_SECONDS or
    half the lines, whichever comes first)."""
    sampler = rss_sampler(server.proc.pid).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    lines = size = 0
    stalled_submit_ms = None
    try:
        t0 = time.perf_counter()
        conn.request("GET", f"/v1/jobs/{job_id}/results")
        response = conn.getresponse()
        if response.status != 200:
            raise BenchError(f"GET /v1/jobs/{job_id}/results answered {response.status}")
        slow_until = t0 + SLOW_SECONDS if slow else t0
        while True:
            now = time.perf_counter()
            if slow and now < slow_until and lines < n // 2:
                chunk = response.read1(SLOW_CHUNK)
                time.sleep(SLOW_PAUSE)
            else:
                if slow and stalled_submit_ms is None:
                    stall_end = time.perf_counter() + STALL_SECONDS
                    stalled_submit_ms = [timed_submit(server, url) for _ in range(3)]
                    time.sleep(max(0.0, stall_end - time.perf_counter()))
                chunk = response.read1(256 * 1024)
            if not chunk:
                break
            lines += chunk.count(b"\n")
            size += len(chunk)
        seconds = time.perf_counter() - t0
    finally:
        conn.close()
        sampler.stop()
    return {"lines": lines, "bytes": size, "seconds": seconds, "rss_peak_mb": sampler.peak, "stalled_submit_ms": stalled_submit_ms}


def measure(server, url, n, timeout):
    # The write-ahead log's size, from the first append to the end of the exports.
    wal = Sampler(lambda: file_mb(server.db + "-wal"), interval=0.25).start()
    try:
        return measure_with_wal(server, url, n, timeout, wal)
    finally:
        wal.stop()


def measure_with_wal(server, url, n, timeout, wal):
    job_id, append_seconds, t0 = build_job(server, url, n)
    log(f"export: {n:,} tasks appended in {append_seconds:.1f} s ({n / append_seconds:,.0f} tasks/s); fetching")
    counts = wait_completed(server, job_id, timeout)
    fetch_seconds = time.perf_counter() - t0
    wal_at_completion = file_mb(server.db + "-wal")
    log(f"export: the write-ahead log is {wal_at_completion or 0:,.0f} MB, at most {wal.peak or 0:,.0f} MB so far")
    log(f"export: job completed {fetch_seconds:.0f} s after its first append ({n / fetch_seconds:,.0f} tasks/s): {counts}")
    # The same submission with nothing else going on, to compare with the one made during the stall.
    idle_submit_ms = [timed_submit(server, url) for _ in range(3)]
    res = {
        "idle_submit_ms": idle_submit_ms,
        "wal_peak_mb": max(v for v in (wal.peak, wal_at_completion, 0) if v is not None),
        "wal_completed_mb": wal_at_completion,
        "tasks": n,
        "append_rate": n / append_seconds,
        "fetch_seconds": fetch_seconds,
        "fetch_rate": n / fetch_seconds,
        "counts": counts,
        "rss_before_mb": rss_mb(server.proc.pid),
        "hwm_before_mb": peak_rss_mb(server.proc.pid),
    }
    fast = export(server, job_id, url, n, slow=False)
    if fast["lines"] != n:
        raise BenchError(f"the export gave {fast['lines']:,} lines for {n:,} tasks")
    res.update(
        fast_seconds=fast["seconds"],
        lines_per_s=fast["lines"] / fast["seconds"],
        mb_per_s=fast["bytes"] / 1e6 / fast["seconds"],
        export_mb=fast["bytes"] / 1e6,
        rss_fast_peak_mb=fast["rss_peak_mb"],
    )
    log(f"export, full speed: {fast['lines']:,} lines in {fast['seconds']:.1f} s, peak RSS {fast['rss_peak_mb']:.1f} MB")
    slow = export(server, job_id, url, n, slow=True)
    if slow["lines"] != n:
        raise BenchError(f"the slow export gave {slow['lines']:,} lines for {n:,} tasks")
    res.update(
        slow_seconds=slow["seconds"],
        rss_slow_peak_mb=slow["rss_peak_mb"],
        stalled_submit_ms=slow["stalled_submit_ms"],
        after_submit_ms=[timed_submit(server, url) for _ in range(3)],
        rss_after_mb=rss_mb(server.proc.pid),
        wal_after_mb=file_mb(server.db + "-wal"),
        hwm_after_mb=peak_rss_mb(server.proc.pid),
    )
    log(f"export, slow reader: {slow['seconds']:.1f} s, peak RSS {slow['rss_peak_mb']:.1f} MB, "
        f"1,000-task submits while it stalled {ms_list(slow['stalled_submit_ms'])} ms")
    return res


def ms_list(values):
    return ", ".join(f"{v:,.1f}" for v in values)


def describe(res):
    return (
        f"{res['tasks']:,} tasks fetched in {res['fetch_seconds']:.0f} s; export {res['lines_per_s']:,.0f} lines/s, "
        f"{res['mb_per_s']:.1f} MB/s; RSS before {res['rss_before_mb']:.1f} MB, peak during {res['rss_fast_peak_mb']:.1f} / "
        f"{res['rss_slow_peak_mb']:.1f} MB (fast / slow), after {res['rss_after_mb']:.1f} MB; "
        f"VmHWM {res['hwm_before_mb']:.1f} -> {res['hwm_after_mb']:.1f} MB"
    )


def run_phase(ctx):
    n = ctx.settings.export_n
    res = attempt(
        ctx.results, "export",
        lambda: on_fresh_fetchq(ctx, "fetchq-export", lambda server: measure(server, ctx.url, n, ctx.settings.run_timeout(n))),
    )
    if res:
        log(f"export: {describe(res)}")
        ctx.results["export"] = res


def render(res):
    """The section's table."""
    mb = lambda v: "—" if v is None else f"{v:.1f}"
    return [
        "| Measurement | Value |",
        "| --- | ---: |",
        f"| Job built: {res['tasks']:,} tasks appended in batches of {EXPORT_BATCH:,}, tasks/s | {res['append_rate']:,.0f} |",
        f"| Job fetched from the local nginx: first append to completed, s (tasks/s) | {res['fetch_seconds']:,.0f} ({res['fetch_rate']:,.0f}) |",
        f"| Export, full speed: {res['tasks']:,} lines ({res['export_mb']:,.0f} MB) in s | {res['fast_seconds']:.1f} |",
        f"| Export, full speed: lines/s | {res['lines_per_s']:,.0f} |",
        f"| Export, full speed: MB/s | {res['mb_per_s']:.1f} |",
        f"| Supervisor VmRSS before the exports, MB | {mb(res['rss_before_mb'])} |",
        f"| Supervisor VmRSS during the full-speed export, largest sample, MB | {mb(res['rss_fast_peak_mb'])} |",
        f"| Supervisor VmRSS during the slow export (1.6 MB/s for {SLOW_SECONDS} s, a {STALL_SECONDS} s stall, then full speed), largest sample, MB | {mb(res['rss_slow_peak_mb'])} |",
        f"| Supervisor VmRSS after the exports, MB | {mb(res['rss_after_mb'])} |",
        f"| Supervisor VmHWM before → after the exports, MB | {mb(res['hwm_before_mb'])} → {mb(res['hwm_after_mb'])} |",
        f"| Jobs of 1,000 tasks (due in a day) submitted one after another before the exports, the service idle, round trips, ms | {ms_list(res['idle_submit_ms'])} |",
        f"| … the same while the slow reader stalled, ms | {ms_list(res['stalled_submit_ms'])} |",
        f"| … the same after the exports, ms | {ms_list(res['after_submit_ms'])} |",
        f"| The write-ahead log (`bench.db-wal`): largest, when the job completed, after the exports, MB | {mb(res['wal_peak_mb'])}, {mb(res['wal_completed_mb'])}, {mb(res['wal_after_mb'])} |",
    ]


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("export"))
