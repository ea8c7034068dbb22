"""The seed article's form, for reference: `async with Pool()` with its defaults (one process per
core, childconcurrency 16) and a new aiohttp ClientSession, hence a new connection, per request.
The one change from the article: the session is closed with `await` (the article's bare
`session.close()` never runs the coroutine on current aiohttp and leaks the connection).

    bench/.venv/bin/python bench/peer_naive.py --url http://127.0.0.1:PORT/1k.txt --n 100000
"""

import os
import sys

import aiohttp
from aiomultiprocess import Pool

import peer_common


async def get(url):
    try:
        session = aiohttp.ClientSession(**peer_common.session_kwargs(aiohttp))
        try:
            response = await session.get(url)
            result = await response.text()
            if response.status != 200:
                result = f"error: HTTP {response.status}"
        finally:
            await session.close()
        return result
    except Exception as error:  # counted, not fatal: one failure must not abort pool.map
        return f"error: {type(error).__name__}: {error}"


def main():
    # None = aiomultiprocess's defaults: Pool() takes os.cpu_count() processes, childconcurrency 16.
    args = peer_common.parse_args(__doc__, default_processes=None, default_childconcurrency=None)
    kwargs = {"initializer": peer_common.init_child, "initargs": (args.ca_file,)}
    if args.processes is not None:
        kwargs["processes"] = args.processes
    if args.childconcurrency is not None:
        kwargs["childconcurrency"] = args.childconcurrency
    return peer_common.run(
        lambda: Pool(**kwargs),
        get,
        args,
        "naive",
        {"processes": args.processes or os.cpu_count(), "childconcurrency": args.childconcurrency or 16},
    )


if __name__ == "__main__":
    sys.exit(main())
