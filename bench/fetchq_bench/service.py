"""fetchq under test: one `fetchq serve` of its own per run, on a fresh database, on loopback.

`on_fresh_fetchq` starts one, hands it to a phase's measurement and removes it afterwards;
`prepare` checks the binary and which optional flags it has, once per bench run.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

from .common import BenchError, log, remove, spawn, stop


def fetchq_flags(binary):
    """The optional flags this build of `fetchq serve` knows."""
    try:
        out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=30)
        text = out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"cannot run {binary} serve --help: {error}")
    return {
        "allow_private": "--allow-private-targets" in text,
        "per_host": "--per-host-concurrency" in text,
        "metrics": "--metrics" in text,
        "retention": "--retention" in text,
        "ca_file": "--ca-file" in text,
    }


def prepare(ctx):
    """Finds the binary and its flags (ctx.flags) and notes them; False if there is no binary."""
    binary, results = ctx.settings.fetchq, ctx.results
    if not os.access(binary, os.X_OK):
        results["errors"].append(f"no fetchq binary at {binary}")
        log(f"ERROR: no fetchq binary at {binary}; fetchq phases skipped")
        return False
    flags = ctx.flags = results["fetchq_flags"] = fetchq_flags(binary)
    if not flags["allow_private"]:
        results["notes"].append("`fetchq serve` has no `--allow-private-targets` flag: run without it.")
    if not flags["per_host"]:
        results["notes"].append("`fetchq serve` has no `--per-host-concurrency` flag: run without it.")
    else:
        results["notes"].append(
            f"`--per-host-concurrency {ctx.settings.per_host}`: fetchq counts the orders its workers hold queued "
            "against a host's limit, so 256 is 2 × 64 requests in flight (the tuned peer's) and as many queued "
            "(the peer's pool queues its tasks ahead too)."
        )
    log(f"fetchq flags found: {flags}")
    return True


def on_fresh_fetchq(ctx, name, work, per_host=None, **kwargs):
    """Starts a fetchq of its own, answers work(server), then stops it and removes its files."""
    per_host = ctx.settings.per_host if per_host is None else per_host
    server = Fetchq(ctx.settings.fetchq, ctx.workdir, name, ctx.flags, per_host=per_host, **kwargs)
    try:
        server.start()
        return work(server)
    finally:
        server.stop()
        remove(server.dir)


class Fetchq:
    def __init__(
        self, binary, workdir, name, flags, processes=None, concurrency=None, per_host=None, db=None, extra_args=(),
        database=None,
    ):
        """`db`: a database file to run on instead of a new one in the run's directory;
        `database`: a postgres:// URL to run on instead of a SQLite file (`--database`);
        `extra_args`: more `fetchq serve` flags (`--metrics off`, `--retention 1s`)."""
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.db = db or os.path.join(self.dir, "bench.db")
        self.log_path = os.path.join(self.dir, "fetchq.log")
        store = ["--database", database] if database else ["--db", self.db]
        self.args = [binary, "serve", "--host", "127.0.0.1", "--port", "0", *store]
        if processes is not None:
            self.args += ["--processes", str(processes)]
        if concurrency is not None:
            self.args += ["--concurrency", str(concurrency)]
        if flags["allow_private"]:
            self.args.append("--allow-private-targets")
        if flags["per_host"] and per_host is not None:
            self.args += ["--per-host-concurrency", str(per_host)]
        self.args += list(extra_args)
        self.proc = None
        self.port = None
        self.conn = None

    def start(self, timeout=60.0):
        self.log_file = open(self.log_path, "ab")
        self.proc = spawn(self.args, stdout=self.log_file, stderr=self.log_file, cwd=self.dir)
        self.port = self.wait_for_listening(timeout)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        log(f"fetchq ready on 127.0.0.1:{self.port} (pid {self.proc.pid}): {' '.join(self.args[1:])}")

    def wait_for_listening(self, timeout):
        """The port from the log line that says fetchq is listening."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                m = re.search(rb"listening.*?http\.port=(\d+)|http\.port=(\d+).*?listening", f.read())
            if m:
                return int(m.group(1) or m.group(2))
            if self.proc.poll() is not None:
                raise BenchError(f"fetchq exited with {self.proc.returncode} before listening:\n{self.tail()}")
            time.sleep(0.05)
        raise BenchError(f"fetchq did not log 'listening' within {timeout:.0f} s:\n{self.tail()}")

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

    def get_json(self, path):
        """GET a document that must be there (200); answers it decoded."""
        status, answer = self.request("GET", path)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}: {answer[:300]!r}")
        return json.loads(answer)

    def post_json(self, path, document, expect=(200, 201)):
        """POST a JSON document; answers the decoded answer (which must have an expected status)."""
        status, answer = self.request("POST", path, json.dumps(document).encode(), {"Content-Type": "application/json"})
        if status not in expect:
            raise BenchError(f"POST {path} answered {status}: {answer[:500]!r}")
        return json.loads(answer) if answer else None

    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def submit(self, body):
        """POST one job; answers the created job's document and the seconds the POST took."""
        t0 = time.perf_counter()
        status, answer = self.request("POST", "/v1/jobs", body, {"Content-Type": "application/json"})
        seconds = time.perf_counter() - t0
        if status != 201:
            raise BenchError(f"POST /v1/jobs answered {status}: {answer[:500]!r}")
        return json.loads(answer), seconds

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None:
            code = stop(self.proc, sig=signal.SIGTERM, grace=30)
            if code not in (0, None, -signal.SIGTERM):
                log(f"fetchq exited with {code} on SIGTERM; log tail:\n{self.tail(10)}")
            self.proc = None
            self.log_file.close()
