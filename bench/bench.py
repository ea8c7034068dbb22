#!/usr/bin/env python3
"""The fetchq benchmark (issue #6): one run, one local nginx target, four contenders.

Run through bench/run.sh (`make bench`), which installs nginx, wrk and the Python peers' venv and
builds the release binary first. Only the standard library is used here; the peers run under
bench/.venv/bin/python.

Environment:
  BENCH_N           URLs per main run                         (default 100000)
  BENCH_RUNS        runs per figure; the median is reported   (default 3)
  BENCH_SCALE_N     URLs per scaling run                      (default 20000)
  BENCH_QUICK=1     smoke run: N=500, 1 run, wrk 2 s, one scaling point each; the report goes to
                    bench/out/BENCHMARKS-quick.md instead of BENCHMARKS.md
  BENCH_WRK_SECONDS wrk duration                              (default 10; 2 when quick)
  BENCH_PER_HOST    --per-host-concurrency, when fetchq has it (default 128)
  BENCH_SKIP        comma list of phases to leave out:
                    limit,tuned,naive,fetchq,status,scaling,million,concurrent
  BENCH_MILLION_N   tasks held in the database for the memory phase (default 1000000; 20000 quick)
  BENCH_FETCHQ      the fetchq binary                         (default .build/release/fetchq)
  BENCH_OUTPUT      the Markdown file to write                (default BENCHMARKS.md)
  BENCH_RUN_TIMEOUT seconds one fetchq or peer run may take   (default 120 + N/100)
  BENCH_TMPDIR      where the temporary directories go        (default: the system's)
"""

import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
VENV_PYTHON = os.path.join(BENCH_DIR, ".venv", "bin", "python")
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_FILE = "1k.txt"
BATCH = 1000
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
N = 500 if QUICK else env_int("BENCH_N", 100_000)
RUNS = 1 if QUICK else max(1, env_int("BENCH_RUNS", 3))
SCALE_N = 500 if QUICK else env_int("BENCH_SCALE_N", 20_000)
WRK_SECONDS = env_int("BENCH_WRK_SECONDS", 2 if QUICK else 10)
MILLION_N = 20_000 if QUICK else env_int("BENCH_MILLION_N", 1_000_000)
MILLION_BATCH = 10_000
PER_HOST = env_int("BENCH_PER_HOST", 128)
SKIP = {s.strip() for s in os.environ.get("BENCH_SKIP", "").split(",") if s.strip()}
SCALE_PROCESSES = [1] if QUICK else [1, 2, 4]
SCALE_CONCURRENCY = [16] if QUICK else [16, 64, 256]
FETCHQ = os.environ.get("BENCH_FETCHQ") or os.path.join(ROOT, ".build", "release", "fetchq")
DEFAULT_OUTPUT = os.path.join(BENCH_DIR, "out", "BENCHMARKS-quick.md") if QUICK else os.path.join(ROOT, "BENCHMARKS.md")
OUTPUT = os.environ.get("BENCH_OUTPUT") or DEFAULT_OUTPUT
TMP_PARENT = os.environ.get("BENCH_TMPDIR") or None


def run_timeout(n):
    return env_int("BENCH_RUN_TIMEOUT", 120 + n // 100)


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Processes: everything started is registered here and stopped in `finally`, even on failure.

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


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


# --------------------------------------------------------------------------------------------
# nginx: the one target of every phase.


class Nginx:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "nginx")
        self.port = None
        self.proc = None

    def start(self):
        www = os.path.join(self.dir, "www")
        os.makedirs(www, exist_ok=True)
        # nginx workers run as nobody when started by root: the tree must be world-readable.
        for path in (os.path.dirname(self.dir), self.dir, www):
            os.chmod(path, 0o755)
        page = os.path.join(www, PAGE_FILE)
        with open(page, "w") as f:
            f.write("x" * 1023 + "\n")  # exactly 1 KiB
        os.chmod(page, 0o644)
        for attempt in range(5):
            self.port = free_port()
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self.config(www))
            self.proc = spawn(
                [NGINX, "-p", self.dir + "/", "-c", conf, "-e", os.path.join(self.dir, "error.log")],
                stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(self.dir, "stderr.log"), "ab"),
            )
            if wait_for_port(self.port, self.proc):
                self.check()
                log(f"nginx ready on 127.0.0.1:{self.port} (pid {self.proc.pid})")
                return
            stop(self.proc, grace=5)
            log(f"nginx did not come up on port {self.port} (attempt {attempt + 1}): {self.tail()}")
        raise BenchError("nginx would not start")

    def config(self, www):
        d = self.dir
        return f"""# fetchq benchmark target: one 1 KiB file, keep-alive, loopback only.
daemon off;
master_process on;
worker_processes auto;
worker_rlimit_nofile 65536;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 16384;
}}
http {{
    access_log off;
    types {{ text/plain txt; }}
    default_type application/octet-stream;
    charset utf-8;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 10000000;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{self.port} backlog=4096;
        server_name localhost;
        root {www};
        location / {{ }}
    }}
}}
"""

    def check(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", self.url_path() + "?i=0")
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or len(body) != 1024:
                raise BenchError(f"nginx answered {response.status} with {len(body)} bytes")
        finally:
            conn.close()

    def url_path(self):
        return "/" + PAGE_FILE

    def url(self):
        return f"http://127.0.0.1:{self.port}{self.url_path()}"

    def tail(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return " | ".join(f.read().strip().splitlines()[-3:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            stop(self.proc, sig=signal.SIGQUIT, grace=10)  # graceful shutdown
            self.proc = None


# --------------------------------------------------------------------------------------------
# wrk


def parse_duration_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url, seconds, script=None, script_args=(), connections=64, threads=2):
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        args += ["-s", script]
    args.append(url)
    if script_args:
        args += ["--", *script_args]
    proc = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        stop(proc, grace=5)
        raise BenchError("wrk did not finish in time")
    finally:
        stop(proc, grace=5)
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not m:
        raise BenchError(f"wrk printed no Requests/sec:\n{out}")
    result = {"rps": float(m.group(1)), "output": out}
    for pct in ("50", "99"):
        lm = re.search(rf"^\s*{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = parse_duration_ms(lm.group(1)) if lm else None
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    result["non2xx"] = int(bad.group(1)) if bad else 0
    errs = re.search(r"Socket errors:.*", out)
    result["socket_errors"] = errs.group(0) if errs else ""
    total = re.search(r"(\d+) requests in", out)
    result["requests"] = int(total.group(1)) if total else None
    return result


# --------------------------------------------------------------------------------------------
# The Python peers


def run_peer(script, url, n):
    args = [VENV_PYTHON, os.path.join(BENCH_DIR, script), "--url", url, "--n", str(n)]
    proc = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=BENCH_DIR)
    try:
        out, err = proc.communicate(timeout=run_timeout(n))
    except subprocess.TimeoutExpired:
        stop(proc, grace=5)
        raise BenchError(f"{script} did not finish within {run_timeout(n)} s")
    finally:
        stop(proc, grace=5)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise BenchError(f"{script} printed no result (exit {proc.returncode}):\n{err[-2000:]}")
    result = json.loads(lines[-1])
    if result["failed"]:
        log(f"WARNING {script}: {result['failed']} of {result['tasks']} fetches failed: {result['errors']}")
    return result


# --------------------------------------------------------------------------------------------
# fetchq


def fetchq_flags():
    """The optional flags this build of `fetchq serve` knows."""
    try:
        out = subprocess.run([FETCHQ, "serve", "--help"], capture_output=True, text=True, timeout=30)
        text = out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"cannot run {FETCHQ} serve --help: {error}")
    return {
        "allow_private": "--allow-private-targets" in text,
        "per_host": "--per-host-concurrency" in text,
    }


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


class Fetchq:
    def __init__(self, workdir, name, flags, processes=None, concurrency=None, per_host=None):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.db = os.path.join(self.dir, "bench.db")
        self.log_path = os.path.join(self.dir, "fetchq.log")
        self.args = [FETCHQ, "serve", "--host", "127.0.0.1", "--port", "0", "--db", self.db]
        if processes is not None:
            self.args += ["--processes", str(processes)]
        if concurrency is not None:
            self.args += ["--concurrency", str(concurrency)]
        if flags["allow_private"]:
            self.args.append("--allow-private-targets")
        if flags["per_host"] and per_host is not None:
            self.args += ["--per-host-concurrency", str(per_host)]
        self.proc = None
        self.port = None
        self.conn = None

    def start(self, timeout=60.0):
        self.log_file = open(self.log_path, "ab")
        self.proc = spawn(self.args, stdout=self.log_file, stderr=self.log_file, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                m = re.search(rb"listening.*?http\.port=(\d+)|http\.port=(\d+).*?listening", f.read())
            if m:
                self.port = int(m.group(1) or m.group(2))
                break
            if self.proc.poll() is not None:
                raise BenchError(f"fetchq exited with {self.proc.returncode} before listening:\n{self.tail()}")
            time.sleep(0.05)
        else:
            raise BenchError(f"fetchq did not log 'listening' within {timeout:.0f} s:\n{self.tail()}")
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        log(f"fetchq ready on 127.0.0.1:{self.port} (pid {self.proc.pid}): {' '.join(self.args[1:])}")

    def tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):  # one reconnect if the server closed the keep-alive connection
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError, socket.timeout) as error:
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 1 or method == "POST":
                    raise BenchError(f"{method} {path}: {error}")

    def submit(self, body):
        """POST one job; answers the created job's document and the seconds the POST took."""
        t0 = time.perf_counter()
        status, answer = self.request("POST", "/v1/jobs", body, {"Content-Type": "application/json"})
        seconds = time.perf_counter() - t0
        if status != 201:
            raise BenchError(f"POST /v1/jobs answered {status}: {answer[:500]!r}")
        return json.loads(answer), seconds

    def run(self, url, n):
        """Submit n URLs in batches, wait until all are final; returns the figures of the run."""
        bodies = []
        for start in range(0, n, BATCH):
            tasks = [{"url": f"{url}?i={i}"} for i in range(start, min(n, start + BATCH))]
            bodies.append(json.dumps({"tasks": tasks}).encode())
        jobs, task_ids = [], []
        cpu_before = cpu_snapshot(self.proc.pid)
        post_seconds = 0.0
        first_post_wall = time.time()
        first_post = time.perf_counter()
        for body in bodies:
            doc, seconds = self.submit(body)
            post_seconds += seconds
            jobs.append(doc["id"])
            task_ids.extend(doc["task_ids"])
        submitted = time.perf_counter()
        if len(task_ids) != n:
            raise BenchError(f"submitted {n} tasks, got {len(task_ids)} ids back")

        # Poll the oldest unfinished job only, so the polling itself costs the server little.
        deadline = first_post + run_timeout(n)
        finished_at, counts = [], {}
        pending = list(jobs)
        while pending:
            if time.perf_counter() > deadline:
                raise BenchError(f"{len(pending)} of {len(jobs)} jobs still pending after {run_timeout(n)} s")
            if self.proc.poll() is not None:
                raise BenchError(f"fetchq exited with {self.proc.returncode} mid-run:\n{self.tail()}")
            status, answer = self.request("GET", f"/v1/jobs/{pending[0]}")
            if status != 200:
                raise BenchError(f"GET /v1/jobs/{pending[0]} answered {status}: {answer[:300]!r}")
            doc = json.loads(answer)
            if doc["state"] == "completed":
                pending.pop(0)
                for key, value in doc["counts"].items():
                    counts[key] = counts.get(key, 0) + value
                if doc.get("finished_at"):
                    finished_at.append(doc["finished_at"])
            else:
                time.sleep(0.02)
        observed_end = time.perf_counter()
        cpu_after = cpu_snapshot(self.proc.pid)

        # The end is when the last task became final: the jobs' finished_at (the server's clock,
        # the same machine's), unless that is missing or implausible; then when we saw it.
        e2e = observed_end - first_post
        if len(finished_at) == len(jobs):
            try:
                last = max(parse_timestamp(t) for t in finished_at)
                server_e2e = last - first_post_wall
                if 0 < server_e2e <= e2e + 0.01:
                    e2e = max(server_e2e, submitted - first_post)
            except ValueError:
                pass
        result = {
            "tasks": n,
            "submit_rate": n / post_seconds if post_seconds > 0 else None,
            "submit_seconds": post_seconds,
            "e2e_seconds": e2e,
            "e2e_rate": n / e2e,
            "counts": counts,
            "rss_peak_mb": (read_status_kb(self.proc.pid, "VmHWM") or 0) / 1024,
            "task_ids": task_ids,
        }
        if cpu_before and cpu_after:
            result["cpu_supervisor"] = cpu_after["supervisor"] - cpu_before["supervisor"]
            result["cpu_workers"] = cpu_after["workers"] - cpu_before["workers"]
            result["worker_count"] = cpu_after["worker_count"]
        if counts.get("succeeded", 0) != n:
            log(f"WARNING: not every task succeeded: {counts}")
        return result

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None:
            code = stop(self.proc, sig=signal.SIGTERM, grace=30)
            if code not in (0, None, -signal.SIGTERM):
                log(f"fetchq exited with {code} on SIGTERM; log tail:\n{self.tail(10)}")
            self.proc = None
            self.log_file.close()


def parse_timestamp(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


STATUS_LUA = r"""-- wrk script: GET /v1/tasks/{id}, rotating over the ids in the file given after `--`.
local ids = {}
local i = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_index", threads)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  -- each thread starts elsewhere in the list
  i = ((thread_index or 1) - 1) * math.floor(#ids / 7) % #ids
end

function request()
  i = i % #ids + 1
  return wrk.format("GET", "/v1/tasks/" .. ids[i])
end
"""


def status_reads(server, task_ids, workdir, connections=64):
    ids_path = os.path.join(workdir, "task_ids.txt")
    with open(ids_path, "w") as f:
        f.write("\n".join(task_ids) + "\n")
    script = os.path.join(workdir, "status.lua")
    with open(script, "w") as f:
        f.write(STATUS_LUA)
    status, answer = server.request("GET", f"/v1/tasks/{task_ids[0]}")
    if status != 200:
        raise BenchError(f"GET /v1/tasks/{task_ids[0]} answered {status}: {answer[:300]!r}")
    result = run_wrk(
        f"http://127.0.0.1:{server.port}", WRK_SECONDS, script=script, script_args=[ids_path], connections=connections
    )
    if result["non2xx"]:
        log(f"WARNING status reads: {result['non2xx']} non-2xx answers")
    return result


def hold_many(server, url, n):
    """Store n tasks (due in a day, so they stay queued) in jobs of 10,000, read 1,000 of them
    back one by one, and report the supervisor's peak RSS and the database's size."""
    ids, post_seconds = [], 0.0
    for start in range(0, n, MILLION_BATCH):
        tasks = [{"url": f"{url}?m={i}"} for i in range(start, min(n, start + MILLION_BATCH))]
        doc, seconds = server.submit(json.dumps({"tasks": tasks, "delay_ms": 86_400_000}).encode())
        post_seconds += seconds
        ids.extend(doc["task_ids"][:: max(1, MILLION_BATCH // 100)])
    latencies = []
    for task_id in ids[:1000]:
        t0 = time.perf_counter()
        status, answer = server.request("GET", f"/v1/tasks/{task_id}")
        latencies.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise BenchError(f"GET /v1/tasks/{task_id} answered {status}: {answer[:300]!r}")
    latencies.sort()
    # Then 1,000 tasks due at once, behind the delayed ones: how fast they run shows whether a claim
    # has to walk past what is not yet due.
    tasks = [{"url": f"{url}?due={i}"} for i in range(1000)]
    t0 = time.perf_counter()
    job_id = server.submit(json.dumps({"tasks": tasks}).encode())[0]["id"]
    deadline = t0 + 600
    while True:
        status, answer = server.request("GET", f"/v1/jobs/{job_id}")
        if status == 200 and json.loads(answer)["state"] == "completed":
            break
        if time.perf_counter() > deadline:
            raise BenchError("1,000 due tasks behind the delayed ones did not finish within 600 s")
        time.sleep(0.01)
    due_rate = 1000 / (time.perf_counter() - t0)
    db_bytes = sum(os.path.getsize(server.db + suffix) for suffix in ("", "-wal") if os.path.exists(server.db + suffix))
    return {
        "tasks": n,
        "submit_rate": n / post_seconds,
        "rss_peak_mb": (read_status_kb(server.proc.pid, "VmHWM") or 0) / 1024,
        "db_mb": db_bytes / 1e6,
        "read_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "due_rate": due_rate,
    }


CONCURRENT_CONNECTIONS = 16
CONCURRENT_SIZES = (1, 100)

SUBMIT_LUA = r"""-- wrk script: POST /v1/jobs with the job in the file given after `--`.
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
"""


def concurrent_submits(server, url, workdir):
    """Many clients at once (wrk, 16 connections), each POSTing jobs of 1 and then of 100 tasks,
    due in a day so the engine stays idle: how many jobs and tasks the API accepts durably."""
    script = os.path.join(workdir, "submit.lua")
    with open(script, "w") as f:
        f.write(SUBMIT_LUA)
    result = {}
    for size in CONCURRENT_SIZES:
        body_path = os.path.join(workdir, f"job-{size}.json")
        with open(body_path, "w") as f:
            json.dump({"tasks": [{"url": f"{url}?c={i}"} for i in range(size)], "delay_ms": 86_400_000}, f)
        res = run_wrk(
            f"http://127.0.0.1:{server.port}/v1/jobs", WRK_SECONDS, script=script, script_args=[body_path],
            connections=CONCURRENT_CONNECTIONS,
        )
        if res["non2xx"] or res["socket_errors"]:
            raise BenchError(f"concurrent submits of {size}-task jobs: {res['non2xx']} non-2xx, {res['socket_errors']}")
        result[size] = {"jobs": res["rps"], "tasks": res["rps"] * size, "p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"]}
    return result


# --------------------------------------------------------------------------------------------
# The run


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cores = subprocess.run(["nproc"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        cores = str(os.cpu_count())
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            mem_gb = int(f.readline().split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return {"cores": cores, "cpu": model, "kernel": platform.release(), "mem_gb": mem_gb}


def version_of(args):
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "?"


def git_commit():
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def main():
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": {"n": N, "runs": RUNS, "scale_n": SCALE_N, "wrk_seconds": WRK_SECONDS, "quick": QUICK, "batch": BATCH},
        "commit": git_commit(),
        "notes": [],
        "errors": [],
    }
    log(f"N={N} runs={RUNS} scale N={SCALE_N} wrk {WRK_SECONDS} s{' (quick)' if QUICK else ''}; skipping: {sorted(SKIP) or 'nothing'}")
    workdir = tempfile.mkdtemp(prefix="fetchq-bench-", dir=TMP_PARENT)
    os.chmod(workdir, 0o755)
    nginx = Nginx(workdir)
    interrupted = False
    try:
        nginx.start()
        results["versions"] = {"nginx": version_of([NGINX, "-v"]), "wrk": version_of(["wrk", "--version"])}
        phases(nginx, workdir, results)
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
    report(results)
    return 1 if results["errors"] else 0


def attempt(results, label, fn):
    """Run one measurement; a failure is recorded and the run goes on to the next one."""
    try:
        return fn()
    except BenchError as error:
        log(f"ERROR in {label}: {error}")
        results["errors"].append(f"{label}: {str(error).splitlines()[0] if str(error) else error}")
        return None


def phases(nginx, workdir, results):
    url = nginx.url()

    if "limit" not in SKIP:
        runs = []
        for r in range(RUNS):
            res = attempt(results, f"wrk limit run {r + 1}", lambda: run_wrk(url + "?i=0", WRK_SECONDS))
            if res:
                log(f"limit (wrk) run {r + 1}: {res['rps']:,.0f} req/s, p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms")
                runs.append(res["rps"])
        results["limit"] = stats(runs)

    # The peers' runs are interleaved with fetchq's (peer run 1, fetchq run 1, peer run 2, ...), so
    # that a change in the machine's speed during the run (seen here: ±40 % within an hour) falls on
    # both sides of the ratio alike.
    peers = [(name, script) for name, script in (("tuned", "peer_tuned.py"), ("naive", "peer_naive.py")) if name not in SKIP]
    peer_runs = {name: {"runs": [], "failed": 0} for name, _ in peers}
    peers_done = [0]

    def run_peers(r):
        for name, script in peers:
            res = attempt(results, f"{name} peer run {r + 1}", lambda: run_peer(script, url, N))
            if res:
                log(f"{name} peer run {r + 1}: {res['rate']:,.0f} tasks/s ({res['tasks']} in {res['seconds']:.2f} s, {res['failed']} failed)")
                peer_runs[name]["runs"].append(res["rate"])
                peer_runs[name]["failed"] += res["failed"]
        peers_done[0] = r + 1

    def finish_peers():
        for r in range(peers_done[0], RUNS):
            run_peers(r)
        for name, _ in peers:
            results[name] = stats(peer_runs[name]["runs"])
            failed = peer_runs[name]["failed"]
            if results[name] is not None:
                results[name]["failed"] = failed
            if failed:
                results["errors"].append(f"{name} peer: {failed} fetches failed")

    need_fetchq = not {"fetchq", "status", "scaling", "million", "concurrent"} <= SKIP
    if not need_fetchq:
        finish_peers()
        return
    if not os.access(FETCHQ, os.X_OK):
        results["errors"].append(f"no fetchq binary at {FETCHQ}")
        log(f"ERROR: no fetchq binary at {FETCHQ}; fetchq phases skipped")
        finish_peers()
        return
    flags = fetchq_flags()
    results["fetchq_flags"] = flags
    if not flags["allow_private"]:
        results["notes"].append("`fetchq serve` has no `--allow-private-targets` flag: run without it.")
    if not flags["per_host"]:
        results["notes"].append("`fetchq serve` has no `--per-host-concurrency` flag: run without it.")
    else:
        results["notes"].append(f"`--per-host-concurrency {PER_HOST}` (the tuned peer's 2 × 64 requests in flight).")
    log(f"fetchq flags found: {flags}")

    def on_fresh_fetchq(name, work, per_host=PER_HOST, **kwargs):
        """Starts a fetchq of its own, answers work(server), then stops it and removes its files."""
        server = Fetchq(workdir, name, flags, per_host=per_host, **kwargs)
        try:
            server.start()
            return work(server)
        finally:
            server.stop()
            remove(server.dir)

    if not {"fetchq", "status"} <= SKIP:
        main_runs, status_runs, light_runs = [], [], []
        for r in range(RUNS):
            run_peers(r)

            def one_run(r=r):
                server = Fetchq(workdir, f"fetchq-main-{r}", flags, per_host=PER_HOST)
                try:
                    server.start()
                    res = server.run(url, N)
                    log(
                        f"fetchq run {r + 1}: end to end {res['e2e_rate']:,.0f} tasks/s ({res['e2e_seconds']:.2f} s), "
                        f"submit {res['submit_rate']:,.0f} tasks/s, cpu supervisor {res.get('cpu_supervisor', 0):.1f} s, "
                        f"workers {res.get('cpu_workers', 0):.1f} s ({res.get('worker_count')} workers), "
                        f"peak RSS {res['rss_peak_mb']:.1f} MB, counts {res['counts']}"
                    )
                    if "status" not in SKIP:
                        st = attempt(results, f"status reads run {r + 1}", lambda: status_reads(server, res["task_ids"], server.dir))
                        if st:
                            log(f"status reads run {r + 1}: {st['rps']:,.0f} req/s, p50 {st['p50_ms']} ms, p99 {st['p99_ms']} ms")
                            status_runs.append(st)
                        light = attempt(
                            results, f"status reads (8 connections) run {r + 1}",
                            lambda: status_reads(server, res["task_ids"], server.dir, connections=8),
                        )
                        if light:
                            log(f"status reads, 8 connections, run {r + 1}: {light['rps']:,.0f} req/s, p50 {light['p50_ms']} ms, p99 {light['p99_ms']} ms")
                            light_runs.append(light)
                    # VmHWM again just before stopping: the peak over the service's whole life.
                    res["rss_peak_mb"] = max(res["rss_peak_mb"], (read_status_kb(server.proc.pid, "VmHWM") or 0) / 1024)
                    res.pop("task_ids")
                    return res
                finally:
                    server.stop()
                    remove(server.dir)

            res = attempt(results, f"fetchq run {r + 1}", one_run)
            if res:
                main_runs.append(res)
        if main_runs:
            results["fetchq"] = {
                key: stats([run.get(key) for run in main_runs])
                for key in ("e2e_rate", "submit_rate", "cpu_supervisor", "cpu_workers", "rss_peak_mb")
            }
            results["fetchq"]["failed"] = sum(run["counts"].get("failed", 0) + run["counts"].get("canceled", 0) for run in main_runs)
            results["fetchq"]["succeeded_all"] = all(run["counts"].get("succeeded", 0) == N for run in main_runs)
            if not results["fetchq"]["succeeded_all"]:
                results["errors"].append("fetchq: not every task succeeded (see the counts above)")
        for key, label, runs in (
            ("status", "status reads", status_runs),
            ("status_light", "status reads (8 connections)", light_runs),
        ):
            if runs:
                results[key] = {
                    "rps": stats([s["rps"] for s in runs]),
                    "p50_ms": stats([s["p50_ms"] for s in runs]),
                    "p99_ms": stats([s["p99_ms"] for s in runs]),
                    "non2xx": sum(s["non2xx"] for s in runs),
                }
                if results[key]["non2xx"]:
                    results["errors"].append(f"{label}: {results[key]['non2xx']} non-2xx answers")

    finish_peers()

    if "million" not in SKIP:
        runs = []
        for r in range(RUNS):
            res = attempt(
                results, f"million run {r + 1}",
                lambda r=r: on_fresh_fetchq(f"fetchq-million-{r}", lambda server: hold_many(server, url, MILLION_N)),
            )
            if res:
                log(
                    f"million run {r + 1}: {res['tasks']:,} tasks stored at {res['submit_rate']:,.0f} tasks/s, "
                    f"peak RSS {res['rss_peak_mb']:.1f} MB, database {res['db_mb']:.0f} MB, "
                    f"status read p99 {res['read_p99_ms']:.2f} ms, 1,000 due tasks after them at {res['due_rate']:,.0f} tasks/s"
                )
                runs.append(res)
        if runs:
            results["million"] = {
                key: stats([run[key] for run in runs])
                for key in ("submit_rate", "rss_peak_mb", "db_mb", "read_p99_ms", "due_rate")
            }
            results["million"]["tasks"] = MILLION_N

    if "concurrent" not in SKIP:
        runs = []
        for r in range(RUNS):
            res = attempt(
                results, f"concurrent submit run {r + 1}",
                lambda r=r: on_fresh_fetchq(
                    f"fetchq-concurrent-{r}", lambda server: concurrent_submits(server, url, server.dir)
                ),
            )
            if res:
                log(
                    f"concurrent submit run {r + 1}: "
                    + ", ".join(
                        f"{size}-task jobs {v['jobs']:,.0f}/s ({v['tasks']:,.0f} tasks/s, p50 {v['p50_ms']} ms, p99 {v['p99_ms']} ms)"
                        for size, v in res.items()
                    )
                )
                runs.append(res)
        if runs:
            results["concurrent"] = {
                size: {key: stats([run[size][key] for run in runs]) for key in ("jobs", "tasks", "p50_ms", "p99_ms")}
                for size in CONCURRENT_SIZES
            }

    if "scaling" not in SKIP:
        points = [("processes", p, {"processes": p}) for p in SCALE_PROCESSES]
        points += [("concurrency", c, {"concurrency": c}) for c in SCALE_CONCURRENCY]
        scaling = []
        cores = os.cpu_count() or 1
        for kind, value, kwargs in points:
            runs, failed = [], 0
            processes = kwargs.get("processes", cores)
            concurrency = kwargs.get("concurrency", 64)
            # Lift the per-host cap to what the point puts in flight, so the cap does not hide it.
            per_host = max(PER_HOST, processes * concurrency)
            for r in range(RUNS):
                def one_run(server):
                    res = server.run(url, SCALE_N)
                    res.pop("task_ids")
                    return res

                res = attempt(
                    results, f"scaling --{kind} {value} run {r + 1}",
                    lambda r=r, kwargs=kwargs, per_host=per_host, kind=kind, value=value: on_fresh_fetchq(
                        f"fetchq-{kind}-{value}-{r}", one_run, per_host=per_host, **kwargs
                    ),
                )
                if res:
                    log(f"scaling --{kind} {value} run {r + 1}: {res['e2e_rate']:,.0f} tasks/s, counts {res['counts']}")
                    runs.append(res["e2e_rate"])
                    failed += res["counts"].get("failed", 0) + res["counts"].get("canceled", 0)
            scaling.append({"kind": kind, "value": value, "per_host": per_host, "e2e_rate": stats(runs), "failed": failed})
            if failed:
                results["errors"].append(f"scaling --{kind} {value}: {failed} tasks failed or were canceled")
        results["scaling"] = scaling
        if flags["per_host"]:
            results["notes"].append("Scaling runs lift `--per-host-concurrency` to processes × concurrency (at least 128).")


# --------------------------------------------------------------------------------------------
# Report


def fmt(s, key=None, digits=0, unit=""):
    if s is None:
        return "—", "—", "—"
    if key:
        s = s.get(key)
        if s is None:
            return "—", "—", "—"
    f = lambda v: "—" if v is None else f"{v:,.{digits}f}{unit}"
    return f(s["median"]), f(s["min"]), f(s["max"])


def ratio(a, b):
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


def render(results):
    m = results["machine"]
    s = results["settings"]
    lines = [
        BEGIN,
        "<!-- Generated by `make bench` (bench/bench.py); edits between these markers are overwritten. -->",
        "",
        f"Run of {results['date']} at commit `{results['commit']}`"
        + (" — **quick smoke run, not a measurement**" if s["quick"] else "")
        + ".",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), "
        + (f"{m['mem_gb']:.0f} GB RAM, " if m["mem_gb"] else "")
        + f"Linux {m['kernel']}. Target: local nginx ({results.get('versions', {}).get('nginx', '?').replace('nginx version: ', '')}) "
        "serving a 1 KiB file with keep-alive on 127.0.0.1; load generators and fetchq run on the same cores.",
        "",
        f"N = {s['n']:,} URLs (scaling: {s['scale_n']:,}), submitted to fetchq in batches of {s['batch']:,}; "
        f"wrk runs {s['wrk_seconds']} s with 2 threads and 64 connections. "
        f"Each figure is the median of {s['runs']} run{'s' if s['runs'] != 1 else ''}, with min and max.",
        "",
    ]
    fq = results.get("fetchq") or {}
    e2e = fq.get("e2e_rate")
    r_peer = ratio(e2e, results.get("tuned"))
    r_wrk = ratio(e2e, results.get("limit"))
    lines += [
        "| Ratio | Value |",
        "| --- | ---: |",
        f"| fetchq end to end ÷ tuned aiomultiprocess | {'—' if r_peer is None else f'{r_peer:.2f} ×'} |",
        f"| fetchq end to end ÷ wrk (the target's limit) | {'—' if r_wrk is None else f'{r_wrk:.2f} ×'} |",
        "",
        "| Measurement | Median | Min | Max |",
        "| --- | ---: | ---: | ---: |",
    ]

    def row(label, cells):
        lines.append(f"| {label} | {' | '.join(cells)} |")

    row("Limit: wrk, requests/s", fmt(results.get("limit")))
    tuned, naive = results.get("tuned"), results.get("naive")
    row(
        "Peer, tuned: aiomultiprocess `Pool(processes=2, childconcurrency=64)`, one session per process, tasks/s"
        + (f" ({tuned['failed']} failed)" if tuned and tuned.get("failed") else ""),
        fmt(tuned),
    )
    row(
        "Peer, naive (the article's form): `Pool()` defaults, a new session per request, tasks/s"
        + (f" ({naive['failed']} failed)" if naive and naive.get("failed") else ""),
        fmt(naive),
    )
    failed_note = ""
    if fq and not fq.get("succeeded_all", True):
        failed_note = f" (**not every task succeeded**: {fq.get('failed', 0)} failed or canceled)"
    row("fetchq end to end, tasks/s" + failed_note, fmt(fq.get("e2e_rate")))
    row("fetchq submit, tasks/s accepted (durable)", fmt(fq.get("submit_rate")))
    row("fetchq CPU, supervisor, s", fmt(fq.get("cpu_supervisor"), digits=1))
    row("fetchq CPU, workers (all), s", fmt(fq.get("cpu_workers"), digits=1))
    row("fetchq peak RSS of the supervisor (VmHWM), MB", fmt(fq.get("rss_peak_mb"), digits=1))
    mi = results.get("million")
    if mi:
        row(f"Held: {mi['tasks']:,} tasks stored (due in a day), supervisor peak RSS (VmHWM), MB", fmt(mi.get("rss_peak_mb"), digits=1))
        row(f"Held: submit rate in jobs of {MILLION_BATCH:,} tasks, tasks/s", fmt(mi.get("submit_rate")))
        row(f"Held: database size with {mi['tasks']:,} tasks, MB", fmt(mi.get("db_mb")))
        row("Held: one status read at a time (1,000 reads), p99 latency, ms", fmt(mi.get("read_p99_ms"), digits=2))
        row(f"Held: 1,000 tasks due at once behind the {mi['tasks']:,} delayed ones, end to end, tasks/s", fmt(mi.get("due_rate")))
    cc = results.get("concurrent")
    if cc:
        for size in CONCURRENT_SIZES:
            label = f"Concurrent submits, {CONCURRENT_CONNECTIONS} connections, jobs of {size} task{'s' if size != 1 else ''}"
            row(f"{label}, jobs/s", fmt(cc[size]["jobs"]))
            if size != 1:
                row(f"{label}, tasks/s", fmt(cc[size]["tasks"]))
            row(f"{label}, p99 latency, ms", fmt(cc[size]["p99_ms"], digits=2))
    st = results.get("status") or {}
    row(
        "Status reads `GET /v1/tasks/{id}` while idle, 64 connections, requests/s"
        + (f" ({st['non2xx']} non-2xx)" if st.get("non2xx") else ""),
        fmt(st.get("rps")),
    )
    row("Status reads, 64 connections, p50 latency, ms", fmt(st.get("p50_ms"), digits=2))
    row("Status reads, 64 connections, p99 latency, ms", fmt(st.get("p99_ms"), digits=2))
    sl = results.get("status_light") or {}
    row("Status reads with 8 connections (wrk, 2 threads), requests/s", fmt(sl.get("rps")))
    row("Status reads with 8 connections, p50 latency, ms", fmt(sl.get("p50_ms"), digits=2))
    row("Status reads with 8 connections, p99 latency, ms", fmt(sl.get("p99_ms"), digits=2))

    scaling = results.get("scaling")
    if scaling:
        lines += [
            "",
            f"Scaling, fetchq end to end at N = {s['scale_n']:,} (the other setting at its default):",
            "",
            "| Setting | Tasks/s median | Min | Max |",
            "| --- | ---: | ---: | ---: |",
        ]
        for point in scaling:
            label = f"`--{point['kind']} {point['value']}`"
            if point["failed"]:
                label += f" ({point['failed']} failed)"
            row(label, fmt(point["e2e_rate"]))

    notes = list(results.get("notes", []))
    notes.append(
        "Peers: timed from `pool.map` to its last result, once every child process has started "
        "(a warm-up map first); fetchq: from the first POST to the last task's `finished_at`, the service "
        "already running with its workers. fetchq's CPU is counted from the first POST to the last final "
        "task (workers: live ones plus any reaped); the status reads run afterwards, on the idle service; "
        "peak RSS is VmHWM just before SIGTERM. The peers' runs and fetchq's alternate (peer, peer, fetchq, "
        "then again), so that drift in the machine's speed during the run weighs on both sides of the ratio."
    )
    lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    if results.get("errors"):
        lines += ["", "Errors during this run:", ""] + [f"- {e}" for e in results["errors"]]
    lines.append(END)
    return "\n".join(lines)


WHERE_THE_TIME_GOES = """## Where the time goes

_To be filled in from a profile (`perf record -g` on the supervisor and a worker during `make bench`):
the share of HTTP parsing, JSON, SQLite, IPC between supervisor and workers, and the fetch itself._
"""


def write_markdown(results, path):
    block = render(results)
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = None
    if text is None:
        text = f"# Benchmarks\n\n{block}\n\n{WHERE_THE_TIME_GOES}"
    elif BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    if "## Where the time goes" not in text:
        text = text.rstrip("\n") + "\n\n" + WHERE_THE_TIME_GOES
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text if text.endswith("\n") else text + "\n")
    os.replace(tmp, path)


def report(results):
    out_dir = os.path.join(BENCH_DIR, "out")
    os.makedirs(out_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(out_dir, f"results-{stamp}{'-quick' if QUICK else ''}.json"), "w") as f:
        json.dump(results, f, indent=2)
    write_markdown(results, OUTPUT)
    block = render(results)
    print()
    print("\n".join(line for line in block.splitlines() if not line.startswith("<!--")))
    print()
    fq = (results.get("fetchq") or {}).get("e2e_rate")
    r_peer = ratio(fq, results.get("tuned"))
    r_wrk = ratio(fq, results.get("limit"))
    print(f"fetchq end to end ÷ tuned aiomultiprocess: {'n/a' if r_peer is None else f'{r_peer:.2f}'}")
    print(f"fetchq end to end ÷ wrk:                   {'n/a' if r_wrk is None else f'{r_wrk:.2f}'}")
    print(f"written: {OUTPUT}")
    if results["errors"]:
        print(f"{len(results['errors'])} error(s): see above", file=sys.stderr)


if __name__ == "__main__":
    # SIGTERM (e.g. from a CI timeout) goes through the same cleanup as Ctrl-C.
    def on_sigterm(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        stop_all()
        sys.exit(1)
