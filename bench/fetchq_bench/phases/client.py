"""The command-line client end to end (issue #14): 100,000 URLs of the local nginx in a file, then
`JOB=$(fetchq submit urls.txt --wait)` and `fetchq results $JOB > out.ndjson`, the real binary
against a fresh `fetchq serve` (the bench's settings).

The figures: seconds from the start of the submit to its exit (the job completed), seconds of the
results, their sum (submit to results), and the supervisor's VmRSS before and after the results.

One run (not `--runs`). On its own: `python -m fetchq_bench.phases.client` or
`bench/run.sh --phase client`.
"""

import os
import subprocess
import sys
import time

from ..common import BenchError, attempt, communicate, log, spawn
from ..procstat import rss_mb
from ..service import on_fresh_fetchq


def client_environment(server):
    """This process's environment without FETCHQ_* variables, pointed at the server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FETCHQ_")}
    env["FETCHQ_SERVER"] = server.base_url()
    return env


def run_client(server, binary, url, n, timeout):
    urls = os.path.join(server.dir, "urls.txt")
    with open(urls, "w") as f:
        f.writelines(f"{url}?c={i}\n" for i in range(n))
    env = client_environment(server)
    stderr_path = os.path.join(server.dir, "client.log")
    with open(stderr_path, "ab") as stderr:
        t0 = time.perf_counter()
        proc = spawn([binary, "submit", urls, "--wait"], stdout=subprocess.PIPE, stderr=stderr, env=env)
        out, _ = communicate(proc, timeout, f"fetchq submit --wait did not finish within {timeout} s")
        submit_seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise BenchError(f"fetchq submit --wait exited with {proc.returncode} (see {stderr_path})")
        job = out.decode().strip()
        rss_before = rss_mb(server.proc.pid)
        ndjson = os.path.join(server.dir, "out.ndjson")
        with open(ndjson, "wb") as results:
            t1 = time.perf_counter()
            proc = spawn([binary, "results", job], stdout=results, stderr=stderr, env=env)
            communicate(proc, timeout, f"fetchq results did not finish within {timeout} s")
            results_seconds = time.perf_counter() - t1
    if proc.returncode != 0:
        raise BenchError(f"fetchq results exited with {proc.returncode} (see {stderr_path})")
    with open(ndjson, "rb") as f:
        lines = sum(1 for _ in f)
    size = os.path.getsize(ndjson)
    if lines != n:
        raise BenchError(f"fetchq results wrote {lines:,} lines for {n:,} URLs")
    return {
        "urls": n,
        "submit_seconds": submit_seconds,
        "results_seconds": results_seconds,
        "total_seconds": submit_seconds + results_seconds,
        "results_mb": size / 1e6,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_mb(server.proc.pid),
    }


def describe(res):
    return (
        f"{res['urls']:,} URLs: submit --wait {res['submit_seconds']:.1f} s, results {res['results_seconds']:.1f} s "
        f"({res['results_mb']:.0f} MB), submit to results {res['total_seconds']:.1f} s; supervisor RSS "
        f"{res['rss_before_mb']:.1f} -> {res['rss_after_mb']:.1f} MB"
    )


def run_phase(ctx):
    s = ctx.settings
    res = attempt(
        ctx.results, "client",
        lambda: on_fresh_fetchq(
            ctx, "fetchq-client", lambda server: run_client(server, s.fetchq, ctx.url, s.client_n, s.run_timeout(s.client_n))
        ),
    )
    if res:
        log(f"client: {describe(res)}")
        ctx.results["client"] = res


def render(res):
    return [
        "| Measurement | Value |",
        "| --- | ---: |",
        f"| `JOB=$(fetchq submit urls.txt --wait)`, {res['urls']:,} URLs, until it exits (job completed), s | {res['submit_seconds']:.1f} |",
        f"| `fetchq results $JOB > out.ndjson` ({res['urls']:,} lines, {res['results_mb']:.0f} MB), s | {res['results_seconds']:.1f} |",
        f"| Submit to results, s (tasks/s) | {res['total_seconds']:.1f} ({res['urls'] / res['total_seconds']:,.0f}) |",
        f"| Supervisor VmRSS before → after the results, MB | {res['rss_before_mb']:.1f} → {res['rss_after_mb']:.1f} |",
    ]


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("client"))
