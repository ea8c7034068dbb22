#!/usr/bin/env python3
"""A misbehaving HTTP target for fetchq's chaos soak (Tests/SoakTests).

Usage: chaos_target.py SEED PORTS HANG_MS

Listens on PORTS ephemeral ports of 127.0.0.1 (each one a host to fetchq, so that a 429's pause
holds back only part of the traffic) and prints `listening PORT PORT …` on its first line. Every
GET is answered according to a draw that depends only on SEED, the path and how many times that
path was asked before, so a run can be replayed:

  50 %  200 with a short body
  12 %  500
   3 %  429 with Retry-After: 1
  10 %  the connection is reset (RST) without an answer
   5 %  no answer for HANG_MS (past the task's timeout), then the connection is closed
  20 %  200 whose 64-byte body drips in 8 pieces, 60 ms apart

GET /stats (on any port) answers {"requests": n, "by_kind": {kind: n}}.
"""
import asyncio
import ctypes
import json
import os
import random
import socket
import struct
import sys

KINDS = [("ok", 0.50), ("error", 0.12), ("ratelimit", 0.03), ("reset", 0.10), ("hang", 0.05), ("drip", 0.20)]


def die_with_parent():
    """The test asked (FETCHQ_PARENT_PID) that this target end with it: PR_SET_PDEATHSIG."""
    parent = os.environ.pop("FETCHQ_PARENT_PID", None)
    if parent is None:
        return
    ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)
    if os.getppid() != int(parent):
        os._exit(1)


die_with_parent()

SEED = sys.argv[1]
PORTS = int(sys.argv[2])
HANG_SECONDS = int(sys.argv[3]) / 1000
seen = {}
by_kind = {kind: 0 for kind, _ in KINDS}


def draw(path):
    count = seen.get(path, 0)
    seen[path] = count + 1
    roll = random.Random(f"{SEED}|{path}|{count}").random()
    for kind, share in KINDS:
        if roll < share:
            return kind
        roll -= share
    return KINDS[-1][0]


def head(status, length, extra=""):
    reason = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error"}.get(status, "")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n"
            f"{extra}\r\n").encode()


async def answer(path, writer):
    """Answers one request; returns False when the connection must not be reused."""
    if path == "/stats":
        body = json.dumps({"requests": sum(by_kind.values()), "by_kind": by_kind}).encode()
        writer.write(head(200, len(body)) + body)
        return True
    kind = draw(path)
    by_kind[kind] += 1
    if kind == "ok":
        writer.write(head(200, 2) + b"ok")
    elif kind == "error":
        writer.write(head(500, 4) + b"oops")
    elif kind == "ratelimit":
        writer.write(head(429, 4, "Retry-After: 1\r\n") + b"slow")
    elif kind == "reset":
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return False
    elif kind == "hang":
        await asyncio.sleep(HANG_SECONDS)
        return False
    else:
        writer.write(head(200, 64))
        for _ in range(8):
            await writer.drain()
            await asyncio.sleep(0.06)
            writer.write(b"d" * 8)
    await writer.drain()
    return True


async def serve(reader, writer):
    try:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            lines = request.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip() or "0")
            if length:
                await reader.readexactly(length)
            if len(parts) < 2 or not await answer(parts[1], writer):
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        if not writer.transport.is_closing():
            writer.close()


async def main():
    servers = [await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024) for _ in range(PORTS)]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    print("listening " + " ".join(map(str, ports)), flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


asyncio.run(main())
