"""One bench run: the target up, the chosen phases in the order of a full run, then the report.

The order: the limit (wrk); the main rounds, each the peers' runs, one fetchq end-to-end run (with
its status reads), then the tuned peer and fetchq over https (the https phase), so that drift in
the machine's speed falls on both sides of the ratios; the same side by side at the second size
(`--small-n`); then the million tasks held, the concurrent submits and the scaling points.
"""

import datetime
import os
import shlex
import shutil
import sys
import tempfile

from . import machine, report
from .common import BenchError, Context, log, stop_all
from .config import BATCH, NGINX
from .peers import Peers
from .phases import client, concurrent, end_to_end, export, limit, metrics, million, postgres, retention, scaling, submit, versus
from .service import prepare
from .target import Nginx

# The phases after the main rounds, in their order.
LATER_PHASES = (
    ("million", million),
    ("concurrent", concurrent),
    ("scaling", scaling),
    ("export", export),
    ("client", client),
    ("metrics", metrics),
    ("retention", retention),
    ("postgres", postgres),
)


def new_results(settings):
    s = settings
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine.machine(),
        "settings": {"n": s.n, "small_n": s.small_n, "sizes": s.sizes(), "runs": s.runs, "scale_n": s.scale_n, "wrk_seconds": s.wrk_seconds, "quick": s.quick, "batch": BATCH},
        "commit": machine.git_commit(),
        "command": command_line(),
        "notes": [],
        "errors": [],
    }


def command_line():
    """The command as a user would type it: the BENCH_* variables set, then bench/run.sh and its arguments."""
    env = [f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_") and v]
    return " ".join(env + ["bench/run.sh"] + [shlex.quote(a) for a in sys.argv[1:]])


def main_rounds(ctx, peers):
    """fetchq's main runs, each after a round of the peers' runs and before the round over https:
    end to end (with the status reads) if either phase is on, else the submissions alone if that
    phase is, else the peers' and the https rounds alone; then the side-by-side rounds at the
    second size."""
    s = ctx.settings
    after = lambda r: versus.https_round(ctx, r)
    if s.wants("fetchq") or s.wants("status"):
        end_to_end.run_phase(ctx, before=peers.round, after=after)
    elif s.wants("submit"):
        submit.run_phase(ctx, before=peers.round, after=after)
    elif s.wants("https"):
        versus.run_phase(ctx, before=peers.round)
        return
    versus.small_rounds(ctx)


def run_phases(ctx):
    s = ctx.settings
    if s.wants("limit"):
        limit.run_phase(ctx)
    peers = Peers(ctx)
    if not s.needs_fetchq() or not prepare(ctx):
        peers.finish()
        versus.summarize(ctx)
        return
    main_rounds(ctx, peers)
    peers.finish()
    versus.summarize(ctx)
    for name, phase in LATER_PHASES:
        if s.wants(name):
            phase.run_phase(ctx)


def describe_settings(s):
    line = f"N={s.n} runs={s.runs} scale N={s.scale_n} wrk {s.wrk_seconds} s{' (quick)' if s.quick else ''}; skipping: {sorted(s.skip) or 'nothing'}"
    return line + (f"; phases: {', '.join(sorted(s.phases))}" if s.only_phases else "")


def run(settings):
    """The whole run; answers the exit status (0, 1 on errors, 130 when interrupted)."""
    results = new_results(settings)
    log(describe_settings(settings))
    workdir = tempfile.mkdtemp(prefix="fetchq-bench-", dir=settings.tmp_parent)
    os.chmod(workdir, 0o755)
    nginx = Nginx(workdir)
    interrupted = False
    try:
        nginx.start()
        results["versions"] = {"nginx": machine.version_of([NGINX, "-v"]), "wrk": machine.version_of(["wrk", "--version"])}
        run_phases(Context(settings, workdir, nginx.url(), results, nginx=nginx))
    except KeyboardInterrupt:
        interrupted = True
        results["errors"].append("interrupted")
    except BenchError as error:
        results["errors"].append(str(error))
        log(f"ERROR: {error}")
    finally:
        nginx.stop()
        stop_all()
        if os.environ.get("BENCH_KEEP_TMP"):
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if interrupted:
        log("interrupted; nothing written")
        return 130
    report.report(results, settings)
    return 1 if results["errors"] else 0
