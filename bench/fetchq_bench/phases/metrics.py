"""What recording metrics costs (issue #13: "recording a metric must not show in `make bench`"):
fetchq end to end (N URLs in jobs of 1,000, as the fetchq phase) with `--metrics on` (the default)
and `--metrics off` (every metric made by swift-metrics' no-op handler), interleaved on, off, on,
off, ... (`--pairs`, default 3 of each), each on a fresh fetchq.

The figures: tasks/s end to end and CPU per task (supervisor and workers, µs) of each side, and
the ratios per pair. After each run `/metrics` is read once, outside the timing, to check that `on`
recorded the run's attempts and `off` recorded nothing.

On its own: `python -m fetchq_bench.phases.metrics` or `bench/run.sh --phase metrics`.
"""

import sys

from .. import ab
from ..common import BenchError, log
from ..service import on_fresh_fetchq
from . import end_to_end

ARMS = ("on", "off")


def one_run(ctx, arm, pair):
    s = ctx.settings

    def work(server):
        res = end_to_end.run_figures(server, ctx.url, s.n, s.run_timeout(s.n))
        cpu = res.get("cpu_supervisor", 0) + res.get("cpu_workers", 0)
        res["cpu_us_per_task"] = cpu / s.n * 1e6
        res["supervisor_us_per_task"] = res.get("cpu_supervisor", 0) / s.n * 1e6
        status, page = server.request("GET", "/metrics")
        recorded = b"fetchq_attempts_total" in page
        if status != 200 or recorded != (arm == "on"):
            raise BenchError(f"--metrics {arm}: /metrics answered {status} with attempts {'' if recorded else 'not '}recorded")
        return res

    return on_fresh_fetchq(ctx, f"fetchq-metrics-{arm}-{pair}", work, extra_args=["--metrics", arm])


def describe(res):
    return (
        f"{res['e2e_rate']:,.0f} tasks/s, CPU {res['cpu_us_per_task']:.0f} µs/task "
        f"(supervisor {res['supervisor_us_per_task']:.0f}), counts {res['counts']}"
    )


def run_phase(ctx):
    if not ctx.flags.get("metrics"):
        ctx.results["errors"].append("metrics: this fetchq has no --metrics flag")
        log("ERROR: this fetchq has no --metrics flag; the metrics phase is skipped")
        return
    runs = ab.interleave(ctx, "metrics", ARMS, lambda arm, pair: one_run(ctx, arm, pair), describe)
    if not any(runs["on"]) or not any(runs["off"]):
        return
    ctx.results["metrics"] = {
        "n": ctx.settings.n,
        "rate": ab.summary(runs, "off", "on", "e2e_rate"),
        "cpu": ab.summary(runs, "on", "off", "cpu_us_per_task"),
        "supervisor": ab.summary(runs, "on", "off", "supervisor_us_per_task"),
    }


def render(res):
    r, c, sv = res["rate"], res["cpu"], res["supervisor"]
    med = lambda s, arm, d=0: "—" if not s[arm] else f"{s[arm]['median']:,.{d}f}"
    return [
        "| Measurement | `--metrics on` (median) | `--metrics off` (median) | Ratio per pair, median |",
        "| --- | ---: | ---: | --- |",
        f"| End to end, tasks/s (ratio: off ÷ on) | {med(r, 'on')} | {med(r, 'off')} | {ab.ratio_text(r)} |",
        f"| … each run, in the order they ran (on, off, on, off, …) | {ab.runs_text(r, 'on')} | {ab.runs_text(r, 'off')} | |",
        f"| CPU per task, supervisor + workers, µs (ratio: on ÷ off) | {med(c, 'on')} | {med(c, 'off')} | {ab.ratio_text(c)} |",
        f"| CPU per task, supervisor alone, µs (ratio: on ÷ off) | {med(sv, 'on')} | {med(sv, 'off')} | {ab.ratio_text(sv)} |",
    ]


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("metrics"))
