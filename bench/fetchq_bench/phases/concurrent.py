"""Concurrent submits: 16 clients at once (wrk, 16 connections) POSTing jobs of 1 task, then of
100, due in a day so the engine stays idle: how many jobs and tasks the API accepts durably.

On its own: `python -m fetchq_bench.phases.concurrent` or `bench/run.sh --phase concurrent`.
"""

import json
import os
import sys

from ..common import BenchError, repeat, stats_of, write_text
from ..config import CONCURRENT_CONNECTIONS, CONCURRENT_SIZES, DELAY_A_DAY_MS
from ..service import on_fresh_fetchq
from ..target import run_wrk

SUBMIT_LUA = r"""-- wrk script: POST /v1/jobs with the job in the file given after `--`.
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
"""

KEYS = ("jobs", "tasks", "p50_ms", "p99_ms")


def concurrent_submits(server, url, workdir, seconds):
    """wrk POSTing jobs of each size in turn; per size jobs/s, tasks/s, p50 and p99 in ms."""
    script = write_text(os.path.join(workdir, "submit.lua"), SUBMIT_LUA)
    result = {}
    for size in CONCURRENT_SIZES:
        job = {"tasks": [{"url": f"{url}?c={i}"} for i in range(size)], "delay_ms": DELAY_A_DAY_MS}
        body_path = write_text(os.path.join(workdir, f"job-{size}.json"), json.dumps(job))
        res = run_wrk(
            f"http://127.0.0.1:{server.port}/v1/jobs", seconds, script=script, script_args=[body_path],
            connections=CONCURRENT_CONNECTIONS,
        )
        if res["non2xx"] or res["socket_errors"]:
            raise BenchError(f"concurrent submits of {size}-task jobs: {res['non2xx']} non-2xx, {res['socket_errors']}")
        result[size] = {"jobs": res["rps"], "tasks": res["rps"] * size, "p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"]}
    return result


def describe(res):
    return ", ".join(
        f"{size}-task jobs {v['jobs']:,.0f}/s ({v['tasks']:,.0f} tasks/s, p50 {v['p50_ms']} ms, p99 {v['p99_ms']} ms)"
        for size, v in res.items()
    )


def run_phase(ctx):
    seconds = ctx.settings.wrk_seconds
    runs = repeat(
        ctx, "concurrent submit",
        lambda r: on_fresh_fetchq(
            ctx, f"fetchq-concurrent-{r}", lambda server: concurrent_submits(server, ctx.url, server.dir, seconds)
        ),
        describe,
    )
    if runs:
        ctx.results["concurrent"] = {size: stats_of([run[size] for run in runs], KEYS) for size in CONCURRENT_SIZES}


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("concurrent"))
