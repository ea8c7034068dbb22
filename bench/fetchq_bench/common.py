"""What every phase shares: logging, the error type, processes, ports, and the run statistics.

Every process started goes through `spawn` and is registered, so that `stop_all` can stop it in a
`finally`, even when a phase fails half-way.
"""

import dataclasses
import os
import shutil
import signal
import socket
import statistics
import subprocess
import time


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class BenchError(Exception):
    pass


@dataclasses.dataclass
class Context:
    """One run of the bench: its settings, its temporary directory, the target and the results."""

    settings: object  # config.Settings
    workdir: str
    url: str  # the target's page
    results: dict
    flags: dict = None  # the optional flags of `fetchq serve`, once known
    nginx: object = None  # target.Nginx: its https URL, its CA, its connection counters


# --------------------------------------------------------------------------------------------
# Processes

_started = []  # Popen objects, each the leader of its own process group


def spawn(args, **kwargs):
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    _started.append(proc)
    return proc


def stop(proc, sig=signal.SIGTERM, grace=30.0):
    """Signal the process, wait up to `grace` s, then SIGKILL its whole process group."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log(f"pid {proc.pid} still up {grace:.0f} s after signal {sig}; killing its group")
    # Leftovers in the group (workers of a killed supervisor, nginx workers) go too.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if proc in _started:
        _started.remove(proc)
    return proc.returncode


def stop_all():
    for proc in list(_started):
        stop(proc, grace=15.0)


def communicate(proc, timeout, what):
    """The output of a spawned process that must finish within `timeout` s; stopped in any case."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc, grace=5)
        raise BenchError(what)
    finally:
        stop(proc, grace=5)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def remove(path):
    if not os.environ.get("BENCH_KEEP_TMP"):
        shutil.rmtree(path, ignore_errors=True)


def write_text(path, text):
    """Write a small file (a wrk script, a job body) and answer its path."""
    with open(path, "w") as f:
        f.write(text)
    return path


# --------------------------------------------------------------------------------------------
# Runs and their figures


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def stats_of(runs, keys):
    """{key: stats of that key over the runs} for each key."""
    return {key: stats([run.get(key) for run in runs]) for key in keys}


def attempt(results, label, fn):
    """Run one measurement; a failure is recorded and the run goes on to the next one."""
    try:
        return fn()
    except BenchError as error:
        log(f"ERROR in {label}: {error}")
        results["errors"].append(f"{label}: {str(error).splitlines()[0] if str(error) else error}")
        return None


def repeat(ctx, label, one_run, describe=None, error_label=None, before=None, after=None):
    """`settings.runs` runs of one_run(r), each logged as "<label> run <r>: <describe(result)>"
    (unless describe is None), preceded by before(r) and followed by after(r) if given; answers
    the results of those that did not fail."""
    runs = []
    for r in range(ctx.settings.runs):
        if before:
            before(r)
        res = attempt(ctx.results, f"{error_label or label} run {r + 1}", lambda r=r: one_run(r))
        if res:
            if describe:
                log(f"{label} run {r + 1}: {describe(res)}")
            runs.append(res)
        if after:
            after(r)
    return runs
