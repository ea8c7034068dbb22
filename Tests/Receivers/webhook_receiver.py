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
GET /events answers JSON: [{"id", "type", "path", "valid", "status", "at", "task_id", "job_id", "data"}]
for every call received, in order. GET /stats answers {"max_in_flight"}: the most calls it was
answering at once.
"""
import ctypes
import json
import os
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
verifier = Webhook(SECRET)
lock = threading.Lock()
calls = []
attempts = {}
in_flight = 0
max_in_flight = 0


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
        data = event.get("data", {}) if isinstance(event, dict) else {}
        with lock:
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
