"""What /proc says: CPU seconds of fetchq's supervisor and its workers (and of any process and its
children), bytes written to storage (/proc/<pid>/io), the cores' idle share (/proc/stat), memory.

bench/peer_common.py imports this module too (the peers run from bench/), so that both sides of a
comparison are measured by the same code."""

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


# --------------------------------------------------------------------------------------------
# Any process and its children (the peers), storage writes, the cores' idle share


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        return int(data[data.rindex(")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def children_of(parent):
    """Every live child of a process (worker_pids keeps fetchq's workers only)."""
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit() and parent_of(int(name)) == parent]
    except OSError:
        return []


def tree_cpu_snapshot(pid):
    """{"own": utime+stime of pid, "children": of its live children (each its own), plus what its
    reaped children left in cutime+cstime} in seconds, or None if pid is gone."""
    own = read_cpu_seconds(pid)
    if own is None:
        return None
    kids = [read_cpu_seconds(c) for c in children_of(pid)]
    return {"own": own[0], "children": sum(k[0] for k in kids if k) + own[1], "child_count": sum(1 for k in kids if k)}


def read_io(pid):
    """/proc/<pid>/io as a dict of ints ({} if it is gone or unreadable). write_bytes is what the
    process caused to be sent to storage (counted when it dirties page-cache pages, so writes the
    kernel flushes later count for it), cancelled_write_bytes what it truncated before the flush;
    a thread-group leader's figures include its reaped children's."""
    out = {}
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                key, _, value = line.partition(":")
                out[key.strip()] = int(value)
    except (OSError, ValueError):
        return {}
    return out


def write_bytes(pids):
    """write_bytes − cancelled_write_bytes summed over the processes (those still there)."""
    total = 0
    for pid in pids:
        io = read_io(pid)
        total += io.get("write_bytes", 0) - io.get("cancelled_write_bytes", 0)
    return total


def fetchq_write_bytes(pid):
    """Storage writes of the supervisor (with its reaped workers') and of its live workers."""
    return write_bytes([pid, *worker_pids(pid)])


def tree_write_bytes(pid):
    return write_bytes([pid, *children_of(pid)])


STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def system_cpu():
    """The first line of /proc/stat (all cores, in clock ticks since boot) as a dict."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return dict(zip(STAT_FIELDS, (int(x) for x in fields[1 : 1 + len(STAT_FIELDS)])))


def idle_share(before, after):
    """{"idle": %, "iowait": %} of all the cores' time between two system_cpu() readings: idle is
    what `vmstat`'s `id` column shows, iowait its `wa` (not counted as idle)."""
    delta = {k: after[k] - before[k] for k in STAT_FIELDS}
    total = sum(delta.values())
    if total <= 0:
        return {"idle": None, "iowait": None}
    return {"idle": 100.0 * delta["idle"] / total, "iowait": 100.0 * delta["iowait"] / total}


def device_written_bytes(path):
    """Bytes written to the block device that holds path since boot (/proc/diskstats' sectors
    written × 512, the whole machine's writes to it), or None (no such device: tmpfs, overlay)."""
    if not path:
        return None
    try:
        dev = os.stat(path).st_dev
        want = (os.major(dev), os.minor(dev))
        with open("/proc/diskstats") as f:
            for line in f:
                fields = line.split()
                if (int(fields[0]), int(fields[1])) == want:
                    return int(fields[9]) * 512
    except (OSError, ValueError, IndexError):
        pass
    return None
