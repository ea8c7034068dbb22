"""Shared command line and reporting for the two aiomultiprocess peers.

Each peer fetches N URLs with aiomultiprocess + aiohttp, as in the seed article, and prints one
JSON line: {"tasks", "seconds", "rate", "ok", "failed", ...}. The clock runs from the call to
pool.map to the last result, once every child process of the pool has started and imported its
modules (as fetchq's workers are running when its clock starts); "startup_seconds" says how long
that took.

Over the same window, from /proc (fetchq_bench.procstat, the code that measures fetchq): the CPU
seconds of this process ("cpu_parent") and of its live children ("cpu_children"), utime+stime;
the bytes they caused to be written to storage ("write_bytes"); the share of all the cores' time
that was idle and in iowait ("idle_pct", "iowait_pct", from /proc/stat); and, with --disk-of, the
bytes the whole machine wrote to that path's block device ("device_write_bytes", /proc/diskstats).

An https URL is fetched with an ssl.SSLContext of ssl.create_default_context(cafile=--ca-file)
(verification on, the system's roots replaced by the bench's CA), made once in each child.
"""

import argparse
import asyncio
import json
import logging
import os
import ssl
import time

from fetchq_bench import procstat

_ca_file = None  # in each child: set by the pool's initializer
_ssl_context = None


def parse_args(description: str, default_processes, default_childconcurrency):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True, help="base URL; ?i=<n> is appended so every URL differs")
    parser.add_argument("--n", type=int, default=1000, help="number of URLs to fetch")
    parser.add_argument("--processes", type=int, default=default_processes)
    parser.add_argument("--childconcurrency", type=int, default=default_childconcurrency)
    parser.add_argument("--expect-bytes", type=int, default=1024, help="body length counted as a success")
    parser.add_argument("--ca-file", help="PEM file of the CA that https URLs are verified against")
    parser.add_argument("--disk-of", help="report the writes to the block device holding this path (/proc/diskstats)")
    return parser.parse_args()


def init_child(ca_file=None):
    """Pool initializer: keep asyncio's shutdown chatter (unclosed sessions at exit) off stderr, and
    remember the CA file for this child's SSL context."""
    global _ca_file
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    _ca_file = ca_file


quiet_child = init_child  # the initializer's former name


def session_kwargs(aiohttp):
    """The keyword arguments of a child's aiohttp.ClientSession: with --ca-file, a TCPConnector
    whose SSL context trusts that CA (verification on); without, nothing (aiohttp's defaults)."""
    global _ssl_context
    if not _ca_file:
        return {}
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context(cafile=_ca_file)
    return {"connector": aiohttp.TCPConnector(ssl=_ssl_context)}


def window_snapshot(disk_of=None):
    """CPU of this process and its children, their storage writes, /proc/stat and the device's
    writes, now."""
    pid = os.getpid()
    return {
        "cpu": procstat.tree_cpu_snapshot(pid),
        "write_bytes": procstat.tree_write_bytes(pid),
        "stat": procstat.system_cpu(),
        "device": procstat.device_written_bytes(disk_of),
    }


def window_figures(before, after):
    share = procstat.idle_share(before["stat"], after["stat"])
    return {
        "cpu_parent": after["cpu"]["own"] - before["cpu"]["own"],
        "cpu_children": after["cpu"]["children"] - before["cpu"]["children"],
        "child_count": after["cpu"]["child_count"],
        "write_bytes": after["write_bytes"] - before["write_bytes"],
        "idle_pct": share["idle"],
        "iowait_pct": share["iowait"],
        "device_write_bytes": None if before["device"] is None or after["device"] is None else after["device"] - before["device"],
    }


async def child_pid(_):
    await asyncio.sleep(0.02)
    return os.getpid()


async def warm_up(pool, processes: int, per_round: int, timeout: float = 60.0):
    """Returns once `processes` distinct children have answered (bounded by `timeout`)."""
    seen = set()
    deadline = time.monotonic() + timeout
    while len(seen) < processes and time.monotonic() < deadline:
        seen.update(await pool.map(child_pid, range(per_round)))
    return len(seen)


def urls_for(base: str, n: int):
    sep = "&" if "?" in base else "?"
    return [f"{base}{sep}i={i}" for i in range(n)]


def run(pool_factory, get, args, name: str, extra: dict):
    urls = urls_for(args.url, args.n)

    async def main():
        begin = time.perf_counter()
        async with pool_factory() as pool:
            children = await warm_up(pool, pool.process_count, pool.process_count * pool.childconcurrency * 2)
            before = window_snapshot(args.disk_of)
            start = time.perf_counter()
            results = await pool.map(get, urls)
            seconds = time.perf_counter() - start
            window = window_figures(before, window_snapshot(args.disk_of))
        return results, seconds, start - begin, children, window

    results, seconds, startup, children, window = asyncio.run(main())
    ok = sum(1 for r in results if isinstance(r, str) and len(r) == args.expect_bytes)
    report = {
        "peer": name,
        "tasks": len(results),
        "seconds": seconds,
        "startup_seconds": startup,
        "children_started": children,
        "rate": len(results) / seconds if seconds > 0 else 0.0,
        "ok": ok,
        "failed": len(results) - ok,
        "errors": sorted({r[len("error: "):] for r in results if isinstance(r, str) and r.startswith("error: ")})[:5],
    }
    report.update(window)
    report["scheme"] = args.url.split(":", 1)[0]
    report.update(extra)
    print(json.dumps(report), flush=True)
    return 0 if ok == len(urls) else 1
