#!/usr/bin/env python3
"""Submit-path profile: jobs of 10,000 tasks (due in a day, so the engine stays idle) POSTed one
after another to a fresh `fetchq serve`, the million phase's submissions without the million.

    bench/submit_profile.py [--binary B] [--jobs 20] [--tasks 10000]
        wall clock: tasks/s over the POSTs' round trips (fresh database per run)
    bench/submit_profile.py --callgrind OUT [--jobs 3]
        under valgrind's callgrind: the instructions of every thread of the server, counted only
        while the measured jobs are POSTed (one warm-up job first), written to OUT; prints them
        per task. Counts repeat within a fraction of a per cent, whatever else the machine runs.
    bench/submit_profile.py --ab A,B [--pairs 3] [--callgrind-pairs 1]
        A/B: both binaries alternately (A, B, A, B, …), wall clock and/or callgrind.

Under callgrind the binary runs as a copy without its DWARF (valgrind 3.19 cannot read Swift 6's
DWARF 5; the symbol table stays, so functions keep their names), with a preloaded dispatch_main()
that drains the main queue on the main thread: libdispatch's own parks the main thread with
pthread_exit, which crashes valgrind 3.19 as soon as the next thread starts.

Uses only the standard library (and clang, strip for callgrind); writes under $SUBMIT_TMP
(default /tmp/submit-profile).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

DELAY_A_DAY_MS = 86_400_000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


MAIN_SHIM = r"""
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
extern int _dispatch_get_main_queue_handle_4CF(void);
extern void _dispatch_main_queue_callback_4CF(void *);
void dispatch_main(void) {
    int fd = _dispatch_get_main_queue_handle_4CF();
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, -1);
        uint64_t v;
        (void)read(fd, &v, sizeof v);
        _dispatch_main_queue_callback_4CF(0);
    }
}
"""


def callgrind_ready(binary):
    """The binary without DWARF, and the dispatch_main shim; both made once under tmp_root()."""
    swift_lib = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(shutil.which("swift")))), "lib",
                             "swift", "linux")
    shim = os.path.join(tmp_root(), "mainshim.so")
    if not os.path.exists(shim):
        source = os.path.join(tmp_root(), "mainshim.c")
        with open(source, "w") as f:
            f.write(MAIN_SHIM)
        subprocess.run(["clang", "-O2", "-shared", "-fPIC", source, "-o", shim, f"-L{swift_lib}",
                        f"-Wl,-rpath,{swift_lib}", "-ldispatch"], check=True)
    stripped = os.path.join(tmp_root(), f"nodwarf-{abs(hash(os.path.realpath(binary)))}-{os.getpid()}")
    subprocess.run(["strip", "--strip-debug", binary, "-o", stripped], check=True)
    return stripped, shim


def bodies(jobs, tasks, tag):
    out = []
    for j in range(jobs):
        items = [{"url": f"http://127.0.0.1:8089/1k.txt?{tag}={j * tasks + i}"} for i in range(tasks)]
        out.append(json.dumps({"tasks": items, "delay_ms": DELAY_A_DAY_MS}).encode())
    return out


class Server:
    def __init__(self, binary, callgrind_out=None):
        self.dir = tempfile.mkdtemp(prefix="run-", dir=tmp_root())
        self.log_path = os.path.join(self.dir, "fetchq.log")
        args = [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--db", os.path.join(self.dir, "bench.db"),
                "--allow-private-targets"]
        env = dict(os.environ)
        self.stripped = None
        if callgrind_out:
            self.stripped, shim = callgrind_ready(binary)
            args[0] = self.stripped
            args = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={callgrind_out}",
                    *args]
            env["LD_PRELOAD"] = shim
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, cwd=self.dir, env=env,
                                     start_new_session=True)
        deadline = time.monotonic() + (600 if callgrind_out else 60)
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                m = re.search(rb"http\.port=(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise SystemExit(f"fetchq exited early:\n{open(self.log_path).read()[-2000:]}")
            time.sleep(0.05)
        else:
            raise SystemExit("fetchq did not start")
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def post(self, body):
        t0 = time.perf_counter()
        self.conn.request("POST", "/v1/jobs", body=body, headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        answer = response.read()
        seconds = time.perf_counter() - t0
        if response.status != 201:
            raise SystemExit(f"POST answered {response.status}: {answer[:300]!r}")
        json.loads(answer)
        return seconds

    def control(self, *args):
        subprocess.run(["callgrind_control", *args, str(self.proc.pid)], check=True, capture_output=True)

    def stop(self):
        self.conn.close()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.stripped:
            os.remove(self.stripped)


def tmp_root():
    root = os.environ.get("SUBMIT_TMP", "/tmp/submit-profile")
    os.makedirs(root, exist_ok=True)
    return root


def wall(binary, jobs, tasks):
    """Tasks/s over the POSTs' round trips, one warm-up job first (not counted)."""
    docs = bodies(jobs + 1, tasks, "w")
    server = Server(binary)
    try:
        server.post(docs[0])
        seconds = sum(server.post(doc) for doc in docs[1:])
    finally:
        server.stop()
    return jobs * tasks / seconds


def callgrind(binary, jobs, tasks, out):
    """Instructions per task of the whole server while `jobs` jobs are POSTed."""
    docs = bodies(jobs + 1, tasks, "c")
    server = Server(binary, callgrind_out=out)
    try:
        server.control("-i", "on")
        server.post(docs[0])
        server.control("-z")
        for doc in docs[1:]:
            server.post(doc)
        server.control("-d")
        server.control("-i", "off")
    finally:
        server.stop()
    dumps = sorted(p for p in os.listdir(os.path.dirname(out) or ".") if p.startswith(os.path.basename(out) + "."))
    dump = os.path.join(os.path.dirname(out) or ".", dumps[0]) if dumps else out
    total = None
    with open(dump) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    return total / (jobs * tasks), dump


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "fetchq"))
    p.add_argument("--jobs", type=int)
    p.add_argument("--tasks", type=int, default=10_000)
    p.add_argument("--callgrind", metavar="OUT")
    p.add_argument("--ab", metavar="A,B")
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--callgrind-pairs", type=int, default=1)
    o = p.parse_args()
    if o.ab:
        a, b = o.ab.split(",")
        for pair in range(o.callgrind_pairs):
            per = {}
            for name, binary in (("A", a), ("B", b)):
                out = os.path.join(tmp_root(), f"cg-{name}-{pair}-{os.getpid()}.out")
                per[name], dump = callgrind(binary, o.jobs or 3, o.tasks, out)
                print(f"callgrind {name}: {per[name]:,.0f} instructions/task ({dump})", flush=True)
            print(f"callgrind B/A: {per['B'] / per['A']:.3f}", flush=True)
        ratios = []
        for pair in range(o.pairs):
            ra = wall(a, o.jobs or 20, o.tasks)
            rb = wall(b, o.jobs or 20, o.tasks)
            ratios.append(rb / ra)
            print(f"wall pair {pair + 1}: A {ra:,.0f}  B {rb:,.0f} tasks/s  B/A {rb / ra:.3f}", flush=True)
        if ratios:
            print(f"wall B/A median {sorted(ratios)[len(ratios) // 2]:.3f}")
    elif o.callgrind:
        per, dump = callgrind(o.binary, o.jobs or 3, o.tasks, o.callgrind)
        print(f"{per:,.0f} instructions/task ({dump})")
    else:
        print(f"{wall(o.binary, o.jobs or 20, o.tasks):,.0f} tasks/s")


if __name__ == "__main__":
    sys.exit(main())
