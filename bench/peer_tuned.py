"""The seed's approach, tuned: aiomultiprocess Pool(processes=2, childconcurrency=64) in which each
child process reuses one aiohttp ClientSession (created lazily, once per process, inside that
process's event loop) for all of its requests, so connections are kept alive.

    bench/.venv/bin/python bench/peer_tuned.py --url http://127.0.0.1:PORT/1k.txt --n 100000
    bench/.venv/bin/python bench/peer_tuned.py --url https://127.0.0.1:PORT/1k.txt --ca-file ca.pem --n 100000

Over https each child's session has a TCPConnector with an ssl.SSLContext that trusts --ca-file
(verification on; see peer_common.session_kwargs).
"""

import sys

import aiohttp
from aiomultiprocess import Pool

import peer_common

_session = None  # one per child process


async def get(url):
    global _session
    if _session is None:
        _session = aiohttp.ClientSession(**peer_common.session_kwargs(aiohttp))
    try:
        async with _session.get(url) as response:
            text = await response.text()
            return text if response.status == 200 else f"error: HTTP {response.status}"
    except Exception as error:  # counted, not fatal: one failure must not abort pool.map
        return f"error: {type(error).__name__}: {error}"


def main():
    args = peer_common.parse_args(__doc__, default_processes=2, default_childconcurrency=64)
    return peer_common.run(
        lambda: Pool(
            processes=args.processes,
            childconcurrency=args.childconcurrency,
            initializer=peer_common.init_child,
            initargs=(args.ca_file,),
        ),
        get,
        args,
        "tuned",
        {"processes": args.processes, "childconcurrency": args.childconcurrency},
    )


if __name__ == "__main__":
    sys.exit(main())
