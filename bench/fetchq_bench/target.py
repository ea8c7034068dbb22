"""The target of every phase, a local nginx serving one 1 KiB file, and wrk, the load generator
that measures the target's limit, the status reads and the concurrent submits.

Everything listens on 127.0.0.1 only.
"""

import http.client
import os
import re
import signal
import subprocess

from .common import BenchError, communicate, free_port, log, spawn, stop, wait_for_port
from .config import NGINX, PAGE_FILE


class Nginx:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "nginx")
        self.port = None
        self.proc = None

    def start(self):
        www = self.write_page()
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

    def write_page(self):
        """The 1 KiB file, in a tree the nginx workers can read; answers the tree's root."""
        www = os.path.join(self.dir, "www")
        os.makedirs(www, exist_ok=True)
        # nginx workers run as nobody when started by root: the tree must be world-readable.
        for path in (os.path.dirname(self.dir), self.dir, www):
            os.chmod(path, 0o755)
        page = os.path.join(www, PAGE_FILE)
        with open(page, "w") as f:
            f.write("x" * 1023 + "\n")  # exactly 1 KiB
        os.chmod(page, 0o644)
        return www

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
    out, _ = communicate(proc, seconds + 60, "wrk did not finish in time")
    return parse_wrk(out)


def parse_wrk(out):
    """wrk's figures: requests/s, p50 and p99 in ms, non-2xx answers, socket errors, requests."""
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
