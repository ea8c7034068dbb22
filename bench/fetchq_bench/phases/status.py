"""Status reads: `GET /v1/tasks/{id}` with wrk over the ids of an end-to-end run's tasks, on the
idle service once they are all final; with 64 connections, then with 8.

The reads run inside the end-to-end runs (fetchq_bench.phases.end_to_end), on the same service;
on their own (`--phase status`, `python -m fetchq_bench.phases.status`) the end-to-end runs happen
first all the same, since the reads need their tasks.
"""

import os
import sys

from ..common import attempt, log, stats, write_text
from ..target import run_wrk

STATUS_LUA = r"""-- wrk script: GET /v1/tasks/{id}, rotating over the ids in the file given after `--`.
local ids = {}
local i = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_index", threads)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  -- each thread starts elsewhere in the list
  i = ((thread_index or 1) - 1) * math.floor(#ids / 7) % #ids
end

function request()
  i = i % #ids + 1
  return wrk.format("GET", "/v1/tasks/" .. ids[i])
end
"""

# (results key, the label of its errors, the label of its log lines, connections)
SETTINGS = (
    ("status", "status reads", "status reads", 64),
    ("status_light", "status reads (8 connections)", "status reads, 8 connections,", 8),
)


def status_reads(server, task_ids, workdir, seconds, connections=64):
    ids_path = write_text(os.path.join(workdir, "task_ids.txt"), "\n".join(task_ids) + "\n")
    script = write_text(os.path.join(workdir, "status.lua"), STATUS_LUA)
    server.get_json(f"/v1/tasks/{task_ids[0]}")
    result = run_wrk(f"http://127.0.0.1:{server.port}", seconds, script=script, script_args=[ids_path], connections=connections)
    if result["non2xx"]:
        log(f"WARNING status reads: {result['non2xx']} non-2xx answers")
    return result


class Reads:
    """The status reads of each end-to-end run, kept until summarize files their figures."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.runs = {key: [] for key, *_ in SETTINGS}

    def measure(self, server, task_ids, r):
        seconds = self.ctx.settings.wrk_seconds
        for key, label, log_label, connections in SETTINGS:
            st = attempt(
                self.ctx.results, f"{label} run {r + 1}",
                lambda: status_reads(server, task_ids, server.dir, seconds, connections=connections),
            )
            if st:
                log(f"{log_label} run {r + 1}: {st['rps']:,.0f} req/s, p50 {st['p50_ms']} ms, p99 {st['p99_ms']} ms")
                self.runs[key].append(st)

    def summarize(self):
        results = self.ctx.results
        for key, label, *_ in SETTINGS:
            runs = self.runs[key]
            if runs:
                results[key] = {
                    "rps": stats([s["rps"] for s in runs]),
                    "p50_ms": stats([s["p50_ms"] for s in runs]),
                    "p99_ms": stats([s["p99_ms"] for s in runs]),
                    "non2xx": sum(s["non2xx"] for s in runs),
                }
                if results[key]["non2xx"]:
                    results["errors"].append(f"{label}: {results[key]['non2xx']} non-2xx answers")


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("status"))
