"""Scaling: fetchq end to end at N = 20,000 over `--processes` 1, 2, 4 and `--concurrency` 16, 64,
256 (the other setting at its default), `--per-host-concurrency` lifted to processes × concurrency
(twice, for the orders queued in the workers; at least the main runs' figure) so that the cap does not hide the point.

On its own: `python -m fetchq_bench.phases.scaling` or `bench/run.sh --phase scaling`.
"""

import os
import sys

from ..common import repeat, stats
from ..service import on_fresh_fetchq
from . import end_to_end


def points(settings):
    """(kind, value, fetchq's arguments) of each point, processes first."""
    out = [("processes", p, {"processes": p}) for p in settings.scale_processes]
    out += [("concurrency", c, {"concurrency": c}) for c in settings.scale_concurrency]
    return out


def measure_point(ctx, kind, value, kwargs):
    s = ctx.settings
    processes = kwargs.get("processes", os.cpu_count() or 1)
    concurrency = kwargs.get("concurrency", 64)
    # Lift the per-host cap to what the point puts in flight, so the cap does not hide it.
    # Orders queued in the workers count against the host's limit: room for as many as run.
    per_host = max(s.per_host, 2 * processes * concurrency)
    label = f"scaling --{kind} {value}"
    runs = repeat(
        ctx, label,
        lambda r: on_fresh_fetchq(
            ctx, f"fetchq-{kind}-{value}-{r}",
            lambda server: end_to_end.run_figures(server, ctx.url, s.scale_n, s.run_timeout(s.scale_n)),
            per_host=per_host, **kwargs,
        ),
        lambda res: f"{res['e2e_rate']:,.0f} tasks/s, counts {res['counts']}",
    )
    failed = sum(res["counts"].get("failed", 0) + res["counts"].get("canceled", 0) for res in runs)
    if failed:
        ctx.results["errors"].append(f"{label}: {failed} tasks failed or were canceled")
    return {"kind": kind, "value": value, "per_host": per_host, "e2e_rate": stats([res["e2e_rate"] for res in runs]), "failed": failed}


def run_phase(ctx):
    ctx.results["scaling"] = [measure_point(ctx, *point) for point in points(ctx.settings)]
    if ctx.flags["per_host"]:
        ctx.results["notes"].append("Scaling runs lift `--per-host-concurrency` to 2 × processes × concurrency (running and queued; at least the main runs' figure).")


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("scaling"))
