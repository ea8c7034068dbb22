"""What /proc says about fetchq: CPU seconds of the supervisor and its workers, and memory."""

import os
import subprocess
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read_cpu_seconds(pid):
    """(utime+stime, cutime+cstime) of a live process in seconds, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / CLK_TCK, (cutime + cstime) / CLK_TCK


def read_status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_mb(pid):
    """VmHWM of the process in MB (0 if it is gone)."""
    return (read_status_kb(pid, "VmHWM") or 0) / 1024


def worker_pids(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, timeout=10).stdout
    except subprocess.TimeoutExpired:
        return []
    pids = []
    for line in out.split():
        try:
            with open(f"/proc/{line}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"worker" in argv:
            pids.append(int(line))
    return pids


def cpu_snapshot(pid):
    own = read_cpu_seconds(pid)
    if own is None:
        return None
    workers = {w: read_cpu_seconds(w) for w in worker_pids(pid)}
    return {
        "supervisor": own[0],
        # live workers' own time plus what reaped children (restarted workers) left in cutime
        "workers": sum(c[0] for c in workers.values() if c) + own[1],
        "worker_count": len(workers),
    }


def rss_mb(pid):
    """VmRSS of the process in MB (None if it is gone)."""
    kb = read_status_kb(pid, "VmRSS")
    return None if kb is None else kb / 1024


class Sampler:
    """Samples read() (a number, or None to skip) every `interval` s on a thread of its own, between
    start() and stop(); `peak` is the largest sample, `samples` all of them as (seconds since start,
    value)."""

    def __init__(self, read, interval=0.1):
        self.read, self.interval = read, interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        t0 = time.perf_counter()
        while not self._stop.is_set():
            value = self.read()
            if value is not None:
                self.samples.append((time.perf_counter() - t0, value))
            self._stop.wait(self.interval)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self

    @property
    def peak(self):
        return max((value for _, value in self.samples), default=None)


def rss_sampler(pid, interval=0.1):
    """A Sampler of the process's VmRSS in MB."""
    return Sampler(lambda: rss_mb(pid), interval)


def file_mb(path):
    """The size of a file in MB, None if it is not there."""
    try:
        return os.path.getsize(path) / 1e6
    except OSError:
        return None
