#!/usr/bin/env python3
"""A webhook receiver for fetchq's tests, verifying every call with the `standardwebhooks` package
(an implementation of the Standard Webhooks spec that fetchq did not write).

Listens on 127.0.0.1 with an ephemeral port and prints `listening PORT` on its first line.
Behaviour by path (counts are per webhook-id):
  /ok                    200
  /fail/K                500 for the first K attempts, then 200
  /ratelimit/K/SECONDS   429 with Retry-After: SECONDS for the first K attempts, then 200
  /hang/MS               waits MS milliseconds, then 200
  /gone                  410
  /random/PERCENT        500 for PERCENT % of calls, drawn from SEED, the webhook-id and its attempt
GET /events answers JSON: [{"id", "type", "path", "valid", "status", "at", "task_id", "job_id", "data"}]
for every call received, in order. GET /stats answers {"max_in_flight"}: the most calls it was
answering at once. GET /summary answers {"calls", "failed_answers", "invalid", "tasks": {task_id:
[state, attempts]}, "jobs": [job_id]}: the events answered 2xx, each task's as its payload said.

Usage: webhook_receiver.py SECRET [SEED] [--summary-only]; with --summary-only, /events stays empty
(a soak's hundred thousand calls are only counted).
"""
import ctypes
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def die_with_parent():
    """The test that started this receiver asked (FETCHQ_PARENT_PID) that it end with the test:
    PR_SET_PDEATHSIG with SIGKILL, then a check that the parent did not die before it was armed."""
    parent = os.environ.pop("FETCHQ_PARENT_PID", None)
    if parent is None:
        return
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    if os.getppid() != int(parent):
        os._exit(1)


die_with_parent()

SECRET = sys.argv[1]
SEED = next((argument for argument in sys.argv[2:] if not argument.startswith("--")), "0")
SUMMARY_ONLY = "--summary-only" in sys.argv[2:]
verifier = Webhook(SECRET)
lock = threading.Lock()
calls = []
attempts = {}
in_flight = 0
max_in_flight = 0
summary = {"calls": 0, "failed_answers": 0, "invalid": 0, "tasks": {}, "jobs": []}
jobs_delivered = set()


def tally(event, data, valid, status):
    """Adds one call to the summary (the caller holds the lock)."""
    summary["calls"] += 1
    if not valid:
        summary["invalid"] += 1
    if status >= 300:
        summary["failed_answers"] += 1
        return
    kind = event.get("type") if isinstance(event, dict) else None
    if kind == "task.finished" and valid:
        summary["tasks"][data.get("id")] = [data.get("state"), data.get("attempts")]
    elif kind == "job.finished" and valid and data.get("id") not in jobs_delivered:
        jobs_delivered.add(data.get("id"))
        summary["jobs"].append(data.get("id"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/events":
            with lock:
                body = json.dumps(calls).encode()
            self.answer(200, body, [("Content-Type", "application/json")])
        elif self.path == "/summary":
            with lock:
                body = json.dumps(summary).encode()
            self.answer(200, body, [("Content-Type", "application/json")])
        elif self.path == "/stats":
            with lock:
                body = json.dumps({"max_in_flight": max_in_flight}).encode()
            self.answer(200, body, [("Content-Type", "application/json")])
        else:
            self.answer(404)

    def do_POST(self):
        global in_flight, max_in_flight
        with lock:
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
        try:
            self.receive()
        finally:
            with lock:
                in_flight -= 1

    def receive(self):
        length = int(self.headers.get("Content-Length", "0"))
        payload = self.rfile.read(length)
        if len(payload) < length:
            return  # the sender gave up mid-request (its timeout): nothing arrived
        headers = {name.lower(): value for name, value in self.headers.items()}
        problem = None
        try:
            event = verifier.verify(payload, headers)
            valid = True
        except WebhookVerificationError as error:
            problem = str(error)
            event = json.loads(payload or b"{}")
            valid = False
        webhook_id = headers.get("webhook-id", "")
        with lock:
            attempts[webhook_id] = attempts.get(webhook_id, 0) + 1
            seen = attempts[webhook_id]
        parts = [part for part in self.path.split("/") if part]
        status, extra = 200, []
        if parts[:1] == ["fail"] and seen <= int(parts[1]):
            status = 500
        elif parts[:1] == ["ratelimit"] and seen <= int(parts[1]):
            status, extra = 429, [("Retry-After", parts[2])]
        elif parts[:1] == ["hang"]:
            time.sleep(int(parts[1]) / 1000)
        elif parts[:1] == ["gone"]:
            status = 410
        elif parts[:1] == ["random"] and random.Random(f"{SEED}|{webhook_id}|{seen}").random() * 100 < int(parts[1]):
            status = 500
        data = event.get("data", {}) if isinstance(event, dict) else {}
        with lock:
            tally(event, data, valid, status)
            if not SUMMARY_ONLY:
                calls.append({
                    "id": webhook_id, "type": event.get("type") if isinstance(event, dict) else None,
                    "path": self.path, "valid": valid, "status": status, "at": time.time(),
                    "task_id": data.get("id") if event.get("type") == "task.finished" else None,
                    "job_id": data.get("job_id") if event.get("type") == "task.finished" else data.get("id"),
                    "user_agent": headers.get("user-agent"), "problem": problem, "data": data,
                })
        try:
            self.answer(status, b"", extra)
        except (BrokenPipeError, ConnectionResetError):
            pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
