#!/usr/bin/env python3
"""The slow-header attack against `fetchq serve` with its defaults, measured.

4,000 connections from 16 loopback addresses (127.0.1.1-16, 250 each) send the start of a request
and then one header byte every 4 s, never finishing the head. Meanwhile a client from 127.0.0.1
probes `GET /healthz` (2 s budget) and `POST /v1/jobs` (3 s budget) twice a second. Prints how many
probes were answered in budget, their slowest times, and how many slow connections the service
closed within 25 s of their opening.

    python3 bench/slow_headers.py .build/release/fetchq
"""
import json
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
import http.client

ADDRESSES = [f"127.0.1.{i}" for i in range(1, 17)]
PER_ADDRESS = 250
TRICKLE_S = 4.0
WINDOW_S = 25.0
JOB = json.dumps({"tasks": [{"url": "http://127.0.0.1:9/x"}]})


def start_service(binary, directory):
    log = open(os.path.join(directory, "serve.log"), "w+")
    process = subprocess.Popen(
        [binary, "serve", "--port", "0", "--db", os.path.join(directory, "fetchq.db"), "--allow-private-targets"],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        log.seek(0)
        found = re.search(r"http\.port=(\d+)", log.read())
        if found:
            return process, int(found.group(1)), log
        time.sleep(0.1)
    process.kill()
    sys.exit("fetchq serve did not start")


def probe(port, method, path, body, budget):
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=budget)
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        status = connection.getresponse().status
        connection.close()
    except OSError:
        status = None
    elapsed = time.monotonic() - started
    return status, elapsed


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/fetchq"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as directory:
        process, port, log = start_service(binary, directory)
        try:
            run(port)
        finally:
            process.terminate()
            process.wait(30)
            log.seek(0)
            for line in log.read().splitlines():
                if "capacity" in line or "deadlines" in line:
                    print("log:", line)


def run(port):
    selector = selectors.DefaultSelector()
    opened = {}
    started = time.monotonic()
    for address in ADDRESSES:
        for _ in range(PER_ADDRESS):
            client = socket.socket()
            client.bind((address, 0))
            client.connect(("127.0.0.1", port))
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            client.setblocking(False)
            opened[client] = time.monotonic()
            selector.register(client, selectors.EVENT_READ)
    print(f"opened {len(opened)} slow connections in {time.monotonic() - started:.1f} s")
    closed_after = {}
    probes = {"healthz": [], "submit": []}
    next_trickle = time.monotonic() + TRICKLE_S
    next_probe = time.monotonic()
    end = time.monotonic() + WINDOW_S + 2
    while time.monotonic() < end:
        for key, _ in selector.select(timeout=0.05):
            client = key.fileobj
            try:
                data = client.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_after[client] = time.monotonic() - opened[client]
                selector.unregister(client)
                client.close()
        now = time.monotonic()
        if now >= next_trickle:
            for client in list(opened):
                if client not in closed_after:
                    try:
                        client.send(b"a")
                    except OSError:
                        pass
            next_trickle = now + TRICKLE_S
        if now >= next_probe:
            probes["healthz"].append(probe(port, "GET", "/healthz", None, 2.0))
            probes["submit"].append(probe(port, "POST", "/v1/jobs", JOB, 3.0))
            next_probe = time.monotonic() + 0.5
    total = len(opened)
    within = sum(1 for after in closed_after.values() if after <= WINDOW_S)
    print(f"slow connections closed within {WINDOW_S:.0f} s: {within}/{total} ({100 * within / total:.1f} %)")
    if closed_after:
        ordered = sorted(closed_after.values())
        print(f"  closed after: median {ordered[len(ordered) // 2]:.1f} s, last {ordered[-1]:.1f} s")
    for name, budget, good in (("healthz", 2.0, 200), ("submit", 3.0, 201)):
        results = probes[name]
        answered = sum(1 for status, elapsed in results if status == good and elapsed <= budget)
        slowest = max(elapsed for _, elapsed in results)
        print(f"{name} probes answered within {budget:.0f} s: {answered}/{len(results)}, slowest {slowest:.3f} s")
    for client in opened:
        if client not in closed_after:
            client.close()


if __name__ == "__main__":
    main()
