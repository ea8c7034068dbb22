"""The target's limit: wrk alone against the local nginx (2 threads, 64 connections), requests/s.

On its own: `python -m fetchq_bench.phases.limit` or `bench/run.sh --phase limit`.
"""

import sys

from ..common import repeat, stats
from ..target import run_wrk


def run_phase(ctx):
    seconds = ctx.settings.wrk_seconds
    runs = repeat(
        ctx, "limit (wrk)",
        lambda r: run_wrk(ctx.url + "?i=0", seconds),
        lambda res: f"{res['rps']:,.0f} req/s, p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms",
        error_label="wrk limit",
    )
    ctx.results["limit"] = stats([res["rps"] for res in runs])


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("limit"))
