"""fetchq beside the tuned peer, side by side (issue #15): end to end over http and over https, at
N and at a smaller N (`--small-n`, default 20,000), each figure from runs interleaved in one bench
run (peer, fetchq, peer, fetchq, ...), medians of `--runs`.

The cells of the table are (scheme, N). The http cell at N is the main rounds' own runs (the tuned
peer's runs of fetchq_bench.peers and fetchq's of fetchq_bench.phases.end_to_end, which call
`record`); the others are run here: `https_round` after each main round (the `https` phase: the
tuned peer, then fetchq, over https), and `small_rounds` after the main rounds (http when the fetchq
phase is on, https when the https phase is, each round peer then fetchq).

Per run and side, over the same window as the run's clock (the peer: its timed `pool.map`; fetchq:
the first POST to the last job seen completed):
  - tasks/s end to end;
  - connections nginx accepted, per 1,000 tasks (`stub_status`'s `accepts` before and after the run,
    less the reading's own), and the requests it served per task (1.000 when nothing was retried);
  - CPU per task, utime+stime from /proc: the peer's parent process and its live children (the pool's
    workers and aiomultiprocess's manager), fetchq's supervisor and its workers (live ones, plus what
    reaped ones left in the supervisor's cutime), in µs;
  - the share of all the cores' time that was idle (and iowait), from /proc/stat at both ends (what
    `vmstat`'s `id` and `wa` columns show, over the run);
  - bytes written to storage per task: /proc/<pid>/io `write_bytes` less `cancelled_write_bytes`, of
    fetchq's supervisor (with its reaped workers) and live workers, and of the peer's processes (the
    page-cache pages they dirtied, written back later or not: what the disk is sent).

fetchq trusts the bench's CA over https through `fetchq serve --ca-file`; the peer through an
ssl.SSLContext loaded with it (bench/peer_common.py). A fetchq without `--ca-file` runs no https
runs (an error says so); the peer's still run.

On its own: `bench/run.sh --phase https` (the https rounds only; add `fetchq,tuned` for http too).
"""

import sys

from .. import peers as peers_module
from ..common import attempt, log, stats
from ..service import on_fresh_fetchq
from . import end_to_end

SCHEMES = ("http", "https")
SIDES = ("tuned", "fetchq")
FIGURES = (
    "rate", "cpu_us", "cpu_parent_us", "cpu_children_us", "cpu_supervisor_us", "cpu_workers_us",
    "conn_per_1000", "requests_per_task", "idle_pct", "iowait_pct", "write_bytes_per_task", "device_bytes_per_task",
)


def cell_key(scheme, n):
    return f"{scheme} {n}"


def record(ctx, scheme, n, side, figures):
    """Files one run's figures under its cell and side."""
    cells = ctx.results.setdefault("versus_runs", {})
    cell = cells.setdefault(cell_key(scheme, n), {"scheme": scheme, "n": n, "tuned": [], "fetchq": []})
    cell[side].append(figures)


def per_task(value, tasks, scale=1.0):
    return None if value is None or not tasks else value / tasks * scale


def nginx_figures(nginx, tasks):
    if not nginx:
        return {"conn_per_1000": None, "requests_per_task": None, "connections": None}
    return {
        "connections": nginx["connections"],
        "conn_per_1000": per_task(nginx["connections"], tasks, 1000.0),
        "requests_per_task": per_task(nginx["requests"], tasks),
    }


def shared_figures(res, tasks):
    """The figures both sides measure the same way: the cores' idle share, writes, nginx's counts."""
    out = {
        "idle_pct": res.get("idle_pct"),
        "iowait_pct": res.get("iowait_pct"),
        "write_bytes_per_task": per_task(res.get("write_bytes"), tasks),
        "device_bytes_per_task": per_task(res.get("device_write_bytes"), tasks),
    }
    out.update(nginx_figures(res.get("nginx"), tasks))
    return out


def peer_figures(res):
    """The side-by-side figures of one peer run (run_peer's answer)."""
    tasks = res["tasks"]
    parent, children = res.get("cpu_parent"), res.get("cpu_children")
    out = {
        "tasks": tasks,
        "rate": res["rate"],
        "failed": res.get("failed", 0),
        "cpu_parent_us": per_task(parent, tasks, 1e6),
        "cpu_children_us": per_task(children, tasks, 1e6),
        "cpu_us": per_task(None if parent is None else parent + children, tasks, 1e6),
    }
    out.update(shared_figures(res, tasks))
    return out


def fetchq_figures(res):
    """The side-by-side figures of one fetchq end-to-end run (end_to_end.run's answer)."""
    tasks = res["tasks"]
    sup, workers = res.get("cpu_supervisor"), res.get("cpu_workers")
    out = {
        "tasks": tasks,
        "rate": res["e2e_rate"],
        "failed": tasks - res["counts"].get("succeeded", 0),
        "cpu_supervisor_us": per_task(sup, tasks, 1e6),
        "cpu_workers_us": per_task(workers, tasks, 1e6),
        "cpu_us": per_task(None if sup is None else sup + workers, tasks, 1e6),
    }
    out.update(shared_figures(res, tasks))
    return out


def describe(fig):
    parts = [f"{fig['rate']:,.0f} tasks/s"]
    if fig.get("cpu_us") is not None:
        if fig.get("cpu_supervisor_us") is not None:
            parts.append(
                f"CPU {fig['cpu_us']:.0f} µs/task (supervisor {fig['cpu_supervisor_us']:.0f}, workers {fig['cpu_workers_us']:.0f})"
            )
        else:
            parts.append(f"CPU {fig['cpu_us']:.0f} µs/task (parent {fig['cpu_parent_us']:.0f}, children {fig['cpu_children_us']:.0f})")
    if fig.get("connections") is not None:
        parts.append(f"{fig['connections']} connections ({fig['conn_per_1000']:.2f} per 1,000), {fig['requests_per_task']:.3f} requests/task")
    if fig.get("idle_pct") is not None:
        parts.append(f"cores {fig['idle_pct']:.1f} % idle, {fig['iowait_pct']:.1f} % iowait")
    if fig.get("write_bytes_per_task") is not None:
        parts.append(f"{fig['write_bytes_per_task']:,.0f} B written/task")
    if fig.get("device_bytes_per_task") is not None:
        parts.append(f"device {fig['device_bytes_per_task']:,.0f} B/task")
    if fig.get("failed"):
        parts.append(f"{fig['failed']} failed")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------
# The runs


def peer_run(ctx, scheme, n, r):
    s = ctx.settings
    ca = ctx.nginx.tls.ca_cert if scheme == "https" else None
    res = attempt(
        ctx.results, f"tuned peer {scheme} N={n} run {r + 1}",
        lambda: peers_module.run_peer(
            "peer_tuned.py", ctx.nginx.url(scheme), n, s.run_timeout(n), ca_file=ca, nginx=ctx.nginx, disk_of=ctx.workdir
        ),
    )
    if res:
        fig = peer_figures(res)
        log(f"tuned peer {scheme} N={n:,} run {r + 1}: {describe(fig)}")
        if res["failed"]:
            ctx.results["errors"].append(f"tuned peer {scheme} N={n} run {r + 1}: {res['failed']} fetches failed: {res['errors']}")
        record(ctx, scheme, n, "tuned", fig)


def fetchq_run(ctx, scheme, n, r):
    s = ctx.settings
    extra = []
    if scheme == "https":
        if not ctx.flags.get("ca_file"):
            return  # said once, by run_phase's check
        extra = ["--ca-file", ctx.nginx.tls.ca_cert]

    def work(server):
        res = end_to_end.run(server, ctx.nginx.url(scheme), n, s.run_timeout(n), nginx=ctx.nginx)
        res.pop("task_ids")
        return res

    res = attempt(
        ctx.results, f"fetchq {scheme} N={n} run {r + 1}",
        lambda: on_fresh_fetchq(ctx, f"fetchq-{scheme}-{n}-{r}", work, extra_args=extra),
    )
    if res:
        fig = fetchq_figures(res)
        log(f"fetchq {scheme} N={n:,} run {r + 1}: {describe(fig)}")
        if fig["failed"]:
            ctx.results["errors"].append(f"fetchq {scheme} N={n} run {r + 1}: not every task succeeded: {res['counts']}")
        record(ctx, scheme, n, "fetchq", fig)


def one_round(ctx, scheme, n, r, sides=SIDES):
    for side in sides:
        (peer_run if side == "tuned" else fetchq_run)(ctx, scheme, n, r)


def check_https(ctx):
    """False (with an error filed) when this fetchq cannot trust the bench's CA."""
    if ctx.flags is not None and not ctx.flags.get("ca_file"):
        message = "https: this fetchq has no `--ca-file` flag; its https runs are skipped (the peer's still run)"
        if message not in ctx.results["errors"]:
            ctx.results["errors"].append(message)
            log(f"ERROR: {message}")
        return False
    return True


def https_round(ctx, r):
    """The https phase's round at N: the tuned peer, then fetchq (after the main round r)."""
    if ctx.settings.wants("https"):
        check_https(ctx)
        one_round(ctx, "https", ctx.settings.n, r)


def small_rounds(ctx):
    """The rounds at the second size: for each run, http (if the fetchq phase is on; the tuned peer
    too if its phase is) then https (if the https phase is on)."""
    s = ctx.settings
    plan = []
    if s.wants("fetchq"):
        plan.append(("http", ("tuned", "fetchq") if s.wants("tuned") else ("fetchq",)))
    if s.wants("https"):
        plan.append(("https", SIDES))
    for n in s.sizes()[1:]:
        for r in range(s.runs):
            for scheme, sides in plan:
                one_round(ctx, scheme, n, r, sides)


# --------------------------------------------------------------------------------------------
# The figures


def ratio_of_medians(a, b):
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


def round_ratios(cell, key, num, den):
    """num ÷ den of key per round (the i-th run of each side), where both ran."""
    out = []
    for x, y in zip(cell[num], cell[den]):
        if x.get(key) is not None and y.get(key):
            out.append(x[key] / y[key])
    return out


def summarize(ctx):
    """results["versus"]: per cell, each side's stats of every figure and the two ratios."""
    cells = ctx.results.get("versus_runs") or {}
    out = []
    for key, cell in cells.items():
        summary = {"scheme": cell["scheme"], "n": cell["n"], "runs": {side: len(cell[side]) for side in SIDES}}
        for side in SIDES:
            summary[side] = {f: stats([run.get(f) for run in cell[side]]) for f in FIGURES}
            summary[side]["failed"] = sum(run.get("failed", 0) for run in cell[side])
        summary["rate_ratio"] = ratio_of_medians(summary["fetchq"]["rate"], summary["tuned"]["rate"])
        summary["rate_ratios"] = round_ratios(cell, "rate", "fetchq", "tuned")
        summary["cpu_ratio"] = ratio_of_medians(summary["fetchq"]["cpu_us"], summary["tuned"]["cpu_us"])
        summary["cpu_ratios"] = round_ratios(cell, "cpu_us", "fetchq", "tuned")
        out.append(summary)
    order = {scheme: i for i, scheme in enumerate(SCHEMES)}
    out.sort(key=lambda c: (-c["n"], order.get(c["scheme"], 9)))
    if out:
        ctx.results["versus"] = out


# --------------------------------------------------------------------------------------------
# The table


def cell_text(s, digits=0, unit=""):
    """median (min–max) of a figure's stats, or "—"."""
    if not s:
        return "—"
    f = lambda v: f"{v:,.{digits}f}"
    if len(s["runs"]) == 1 or f(s["min"]) == f(s["max"]):
        return f(s["median"]) + unit
    return f"{f(s['median'])}{unit} ({f(s['min'])}–{f(s['max'])})"


def ratio_text(value, each, digits=2):
    if value is None:
        return "—"
    text = f"**{value:.{digits}f} ×**"
    if len(each) > 1:
        text += " (rounds: " + ", ".join(f"{v:.{digits}f}" for v in each) + ")"
    return text


def cell_ratio(cells, scheme, n, key="rate_ratio"):
    for cell in cells or ():
        if cell["scheme"] == scheme and cell["n"] == n:
            return cell[key]
    return None


# (label, side, figure, digits)
ROWS = (
    ("Tuned peer, tasks/s", "tuned", "rate", 0),
    ("fetchq, tasks/s", "fetchq", "rate", 0),
    ("**fetchq ÷ tuned peer**, tasks/s (ratio of the medians)", None, "rate_ratio", 2),
    ("Connections opened per 1,000 tasks, tuned peer", "tuned", "conn_per_1000", 2),
    ("Connections opened per 1,000 tasks, fetchq", "fetchq", "conn_per_1000", 2),
    ("Requests nginx served per task, tuned peer", "tuned", "requests_per_task", 3),
    ("Requests nginx served per task, fetchq", "fetchq", "requests_per_task", 3),
    ("CPU per task, tuned peer (parent + children), µs", "tuned", "cpu_us", 0),
    ("… of which the parent process, µs", "tuned", "cpu_parent_us", 0),
    ("… of which its children (the pool's workers, aiomultiprocess's manager), µs", "tuned", "cpu_children_us", 0),
    ("CPU per task, fetchq supervisor, µs", "fetchq", "cpu_supervisor_us", 0),
    ("CPU per task, fetchq workers, µs", "fetchq", "cpu_workers_us", 0),
    ("CPU per task, fetchq total, µs", "fetchq", "cpu_us", 0),
    ("**CPU per task, fetchq total ÷ tuned peer** (target ≤ 0.33)", None, "cpu_ratio", 2),
    ("Cores idle during the tuned peer's run (`/proc/stat`), %", "tuned", "idle_pct", 1),
    ("Cores idle during fetchq's run, %", "fetchq", "idle_pct", 1),
    ("Cores in iowait during the tuned peer's run, %", "tuned", "iowait_pct", 1),
    ("Cores in iowait during fetchq's run, %", "fetchq", "iowait_pct", 1),
    ("Storage writes per task, fetchq (supervisor + workers, `/proc/<pid>/io`), bytes", "fetchq", "write_bytes_per_task", 0),
    ("Storage writes per task, tuned peer (parent + children), bytes", "tuned", "write_bytes_per_task", 0),
    ("Device writes per task during fetchq's run (`/proc/diskstats`, whole machine), bytes", "fetchq", "device_bytes_per_task", 0),
    ("Device writes per task during the tuned peer's run (the same), bytes", "tuned", "device_bytes_per_task", 0),
)

NOTE = (
    "Each column is one scheme and N, its runs interleaved in this bench run (the tuned peer, then fetchq, "
    "round after round; at the first N the http runs are the main table's own runs, and the https runs follow "
    "each of its rounds). "
    "Each cell: the median of the runs (min–max). Over each run's timed window (the peer: its `pool.map`; "
    "fetchq: first POST to the last job seen completed): connections = nginx `stub_status` `accepts` after "
    "less before (less the reading's own); CPU = utime+stime from `/proc/<pid>/stat`, the peer's parent and "
    "its live children, fetchq's supervisor and its workers (live, plus reaped ones' cutime); idle and "
    "iowait = the share of all cores' ticks in `/proc/stat` (vmstat's `id` and `wa`; the whole machine, "
    "nginx and the bench's own polling included); storage writes = `write_bytes` − `cancelled_write_bytes` "
    "of `/proc/<pid>/io` (page-cache pages the processes dirtied, which is what is sent to the disk; the "
    "database is in the bench's temporary directory); device writes = sectors written × 512 in `/proc/diskstats` "
    "for the block device of that directory, by every process on the machine (the file system's journal "
    "included; pages written back after the window are not), so the peer's row is the machine's background. https: nginx with TLSv1.2/1.3, an ECDSA P-256 "
    "certificate for 127.0.0.1 from a CA made by the bench with openssl, HTTP/1.1 (no ALPN h2), keep-alive "
    "as over http; fetchq trusts the CA with `--ca-file`, the peer with `ssl.create_default_context(cafile=…)`."
)


def render(cells):
    """The side-by-side table: a column per (scheme, N), a row per figure."""
    if not cells:
        return []
    heads = [f"{c['scheme']}, N = {c['n']:,}" for c in cells]
    lines = [
        "End to end beside the tuned peer, http and https (issue #15):",
        "",
        "| Measurement | " + " | ".join(heads) + " |",
        "| --- |" + " ---: |" * len(cells),
    ]
    for label, side, figure, digits in ROWS:
        values = []
        for c in cells:
            if side is None:
                each = c["rate_ratios"] if figure == "rate_ratio" else c["cpu_ratios"]
                values.append(ratio_text(c[figure], each, digits))
            else:
                values.append(cell_text(c[side].get(figure), digits))
        if any(v != "—" for v in values):
            lines.append(f"| {label} | " + " | ".join(values) + " |")
    runs = "; ".join(f"{h}: {c['runs']['tuned']} + {c['runs']['fetchq']}" for h, c in zip(heads, cells))
    failed = [f"{h}: {c[side]['failed']} {side} fetches failed" for h, c in zip(heads, cells) for side in SIDES if c[side]["failed"]]
    lines += ["", f"Runs (tuned peer + fetchq): {runs}; how each figure is measured: see the notes below."]
    if failed:
        lines[-1] += " **" + "; ".join(failed) + ".**"
    return lines + [""]


def run_phase(ctx, before=None):
    """The https rounds without fetchq's http runs (runner.main_rounds runs them after each main
    round otherwise), before(r) ahead of each, then the rounds at the second size; runner.run_phases
    files the figures (summarize)."""
    for r in range(ctx.settings.runs):
        if before:
            before(r)
        https_round(ctx, r)
    small_rounds(ctx)


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("https"))
