"""The target of every phase, a local nginx serving one 1 KiB file over http and over https, and
wrk, the load generator that measures the target's limit, the status reads and the concurrent
submits.

The https server is the same nginx, the same file and the same keep-alive settings (they are set
for the whole `http` block), with TLSv1.2 and TLSv1.3 and a shared session cache; its certificate
(ECDSA P-256, for IP:127.0.0.1 and DNS:localhost) is signed by a CA the bench makes with `openssl`
at the start of each run, in the run's temporary directory (`Tls`; clients trust `ca.pem`).

A third server answers nginx's `stub_status` on a port of its own: `Nginx.counters()` reads
accepted connections and requests, so a run's connections opened are the difference of two
readings (`connections_between`).

Everything listens on 127.0.0.1 only.
"""

import http.client
import os
import re
import signal
import ssl
import subprocess

from .common import BenchError, communicate, free_port, log, spawn, stop, wait_for_port
from .config import NGINX, OPENSSL, PAGE_FILE

CA_CONFIG = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = fetchq bench CA
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


class Tls:
    """A CA of the run's own and a leaf certificate it signed for 127.0.0.1 and localhost."""

    def __init__(self, directory):
        self.dir = directory
        self.ca_cert = os.path.join(directory, "ca.pem")
        self.ca_key = os.path.join(directory, "ca.key")
        self.cert = os.path.join(directory, "leaf.pem")
        self.key = os.path.join(directory, "leaf.key")

    def make(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        conf = os.path.join(self.dir, "openssl.cnf")
        with open(conf, "w") as f:
            f.write(CA_CONFIG)
        csr = os.path.join(self.dir, "leaf.csr")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        steps = [
            [OPENSSL, "req", "-x509", *ec, "-keyout", self.ca_key, "-out", self.ca_cert, "-days", "30",
             "-config", conf, "-extensions", "ca"],
            [OPENSSL, "req", "-new", *ec, "-keyout", self.key, "-out", csr, "-subj", "/CN=127.0.0.1", "-config", conf],
            [OPENSSL, "x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key, "-CAcreateserial",
             "-out", self.cert, "-days", "30", "-sha256", "-extfile", conf, "-extensions", "leaf"],
        ]
        for args in steps:
            out = subprocess.run(args, capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                raise BenchError(f"{' '.join(args[:3])} failed: {out.stderr.strip()[-500:]}")
        for path in (self.ca_cert, self.cert):
            os.chmod(path, 0o644)
        return self

    def client_context(self):
        return ssl.create_default_context(cafile=self.ca_cert)


def connections_between(before, after):
    """Connections accepted and requests served between two readings of `Nginx.counters()`, less
    the second reading's own connection and request."""
    if not before or not after:
        return None
    return {"connections": after["accepts"] - before["accepts"] - 1, "requests": after["requests"] - before["requests"] - 1}


class Nginx:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "nginx")
        self.port = None
        self.tls_port = None
        self.status_port = None
        self.proc = None
        self.tls = Tls(os.path.join(self.dir, "tls"))

    def start(self):
        www = self.write_page()
        self.tls.make()
        for attempt in range(5):
            ports = set()
            while len(ports) < 3:
                ports.add(free_port())
            self.port, self.tls_port, self.status_port = sorted(ports)
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self.config(www))
            self.proc = spawn(
                [NGINX, "-p", self.dir + "/", "-c", conf, "-e", os.path.join(self.dir, "error.log")],
                stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(self.dir, "stderr.log"), "ab"),
            )
            if all(wait_for_port(p, self.proc) for p in (self.port, self.tls_port, self.status_port)):
                self.check()
                log(f"nginx ready on 127.0.0.1:{self.port}, https on {self.tls_port} (CA {self.tls.ca_cert}), pid {self.proc.pid}")
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
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1h;
    server {{
        listen 127.0.0.1:{self.port} backlog=4096;
        server_name localhost;
        root {www};
        location / {{ }}
    }}
    server {{
        # the same file over TLS; keep-alive as above (keepalive_* are set for the whole http block)
        listen 127.0.0.1:{self.tls_port} ssl backlog=4096;
        server_name localhost;
        ssl_certificate {self.tls.cert};
        ssl_certificate_key {self.tls.key};
        root {www};
        location / {{ }}
    }}
    server {{
        listen 127.0.0.1:{self.status_port};
        location = /status {{ stub_status; }}
    }}
}}
"""

    def check(self):
        """The page over http and over https (verified against the CA), and the counters."""
        connections = (
            http.client.HTTPConnection("127.0.0.1", self.port, timeout=5),
            http.client.HTTPSConnection("127.0.0.1", self.tls_port, timeout=5, context=self.tls.client_context()),
        )
        for conn in connections:
            try:
                conn.request("GET", self.url_path() + "?i=0")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or len(body) != 1024:
                    raise BenchError(f"nginx answered {response.status} with {len(body)} bytes")
            except (OSError, http.client.HTTPException) as error:
                raise BenchError(f"nginx: GET {self.url_path()} on port {conn.port}: {error}")
            finally:
                conn.close()
        if self.counters() is None:
            raise BenchError("nginx's stub_status gave no counters")

    def url_path(self):
        return "/" + PAGE_FILE

    def url(self, scheme="http"):
        port = self.tls_port if scheme == "https" else self.port
        return f"{scheme}://127.0.0.1:{port}{self.url_path()}"

    def counters(self):
        """stub_status: {"accepts", "handled", "requests", "active"} since nginx started (None if
        unreadable). The reading's own connection and request are counted in it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.status_port, timeout=5)
        try:
            conn.request("GET", "/status", headers={"Connection": "close"})
            text = conn.getresponse().read().decode()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        active = re.search(r"Active connections:\s*(\d+)", text)
        totals = re.search(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s*$", text, re.M)
        if not active or not totals:
            return None
        accepts, handled, requests = (int(x) for x in totals.groups())
        return {"accepts": accepts, "handled": handled, "requests": requests, "active": int(active.group(1))}

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
