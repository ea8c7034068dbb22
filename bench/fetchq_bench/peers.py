"""The Python peers: the seed article's aiomultiprocess approach, tuned (bench/peer_tuned.py) and
naive (bench/peer_naive.py), run under bench/.venv/bin/python against the same target.

A full run interleaves their runs with fetchq's (peer, peer, fetchq, then again): `Peers.round`
runs one round, `Peers.finish` the rounds not run yet and files the figures. The tuned peer's runs
are also filed for the side-by-side table (fetchq_bench.phases.versus) with what the peer measured
over its timed window (its CPU, the cores' idle share, its storage writes) and the connections
nginx accepted meanwhile.

On its own: `python -m fetchq_bench.peers` (both) or `bench/run.sh --phase tuned`.
"""

import json
import os
import subprocess
import sys

from .common import BenchError, attempt, communicate, log, spawn, stats
from .config import BENCH_DIR, VENV_PYTHON
from .target import connections_between
from .phases import versus

PEERS = (("tuned", "peer_tuned.py"), ("naive", "peer_naive.py"))


def run_peer(script, url, n, timeout, ca_file=None, nginx=None, disk_of=None):
    """One peer run; with nginx (the target), "nginx" in the answer is the connections it accepted
    and the requests it served during the run (the peer's start-up included: it opens none then);
    with disk_of, the writes to that path's device during the peer's timed window."""
    args = [VENV_PYTHON, os.path.join(BENCH_DIR, script), "--url", url, "--n", str(n)]
    if ca_file:
        args += ["--ca-file", ca_file]
    if disk_of:
        args += ["--disk-of", disk_of]
    before = nginx.counters() if nginx is not None else None
    proc = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=BENCH_DIR)
    out, err = communicate(proc, timeout, f"{script} did not finish within {timeout} s")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise BenchError(f"{script} printed no result (exit {proc.returncode}):\n{err[-2000:]}")
    result = json.loads(lines[-1])
    result["nginx"] = connections_between(before, nginx.counters()) if nginx is not None else None
    if result["failed"]:
        log(f"WARNING {script}: {result['failed']} of {result['tasks']} fetches failed: {result['errors']}")
    return result


def describe(res):
    text = f"{res['rate']:,.0f} tasks/s ({res['tasks']} in {res['seconds']:.2f} s, {res['failed']} failed)"
    if res.get("cpu_parent") is not None:
        cpu = (res["cpu_parent"] + res["cpu_children"]) / max(1, res["tasks"]) * 1e6
        text += f", CPU {cpu:.0f} µs/task"
    if res.get("nginx"):
        text += f", {res['nginx']['connections']} connections"
    if res.get("idle_pct") is not None:
        text += f", cores {res['idle_pct']:.1f} % idle"
    return text


class Peers:
    """The peers this run measures, their runs so far, and how many rounds are done."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.peers = [(name, script) for name, script in PEERS if ctx.settings.wants(name)]
        self.runs = {name: {"runs": [], "failed": 0} for name, _ in self.peers}
        self.done = 0

    def round(self, r):
        s = self.ctx.settings
        for name, script in self.peers:
            res = attempt(
                self.ctx.results, f"{name} peer run {r + 1}",
                lambda: run_peer(script, self.ctx.url, s.n, s.run_timeout(s.n), nginx=self.ctx.nginx, disk_of=self.ctx.workdir),
            )
            if res:
                log(f"{name} peer run {r + 1}: {describe(res)}")
                self.runs[name]["runs"].append(res["rate"])
                self.runs[name]["failed"] += res["failed"]
                if name == "tuned":
                    versus.record(self.ctx, "http", s.n, "tuned", versus.peer_figures(res))
        self.done = r + 1

    def finish(self):
        results = self.ctx.results
        for r in range(self.done, self.ctx.settings.runs):
            self.round(r)
        for name, _ in self.peers:
            results[name] = stats(self.runs[name]["runs"])
            failed = self.runs[name]["failed"]
            if results[name] is not None:
                results[name]["failed"] = failed
            if failed:
                results["errors"].append(f"{name} peer: {failed} fetches failed")


if __name__ == "__main__":
    from .cli import main_for

    sys.exit(main_for("peers"))
