"""Shared command line and reporting for the two aiomultiprocess peers.

Each peer fetches N URLs with aiomultiprocess + aiohttp, as in the seed article, and prints one
JSON line: {"tasks", "seconds", "rate", "ok", "failed", ...}. The clock runs from the call to
pool.map to the last result, once every child process of the pool has started and imported its
modules (as fetchq's workers are running when its clock starts); "startup_seconds" says how long
that took.
"""

import argparse
import asyncio
import json
import logging
import os
import time


def parse_args(description: str, default_processes, default_childconcurrency):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True, help="base URL; ?i=<n> is appended so every URL differs")
    parser.add_argument("--n", type=int, default=1000, help="number of URLs to fetch")
    parser.add_argument("--processes", type=int, default=default_processes)
    parser.add_argument("--childconcurrency", type=int, default=default_childconcurrency)
    parser.add_argument("--expect-bytes", type=int, default=1024, help="body length counted as a success")
    return parser.parse_args()


def quiet_child():
    """Pool initializer: keep asyncio's shutdown chatter (unclosed sessions at exit) off stderr."""
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


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
            start = time.perf_counter()
            results = await pool.map(get, urls)
            seconds = time.perf_counter() - start
        return results, seconds, start - begin, children

    results, seconds, startup, children = asyncio.run(main())
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
    report.update(extra)
    print(json.dumps(report), flush=True)
    return 0 if ok == len(urls) else 1
