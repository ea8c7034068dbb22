"""fetchq on PostgreSQL next to SQLite (issue #12, "Measured"): one PostgreSQL 15 server of the
bench's own (fetchq_bench.pgserver: default durability, fsync and synchronous_commit on), and three
arms run interleaved, sqlite, postgres, two nodes, sqlite, postgres, two nodes, ... (`--pairs`,
default 3 of each), each on a fresh SQLite file or a fresh PostgreSQL database:

  sqlite     one `fetchq serve --db FILE`, `--processes` = the cores
  postgres   one `fetchq serve --database postgres://…`, the same processes
  two nodes  two `fetchq serve --database` on the same database, on two ports, half the processes
             each; the jobs are submitted to both in turn, and the tasks/s compared to one node

Per arm and pair: end to end (N = `--pg-n` URLs in jobs of 1,000 to the bench's nginx, from the
first POST to the last task's `finished_at`, as the fetchq phase, with its code); for sqlite and
postgres also the status reads of the main phase (wrk over the run's task ids on the idle service,
64 then 8 connections) and, on another fresh service, the submit rate (`--pg-submit-n` URLs in jobs
of 10,000 due in a day, one POST after another: durable 201s, in tasks/s).

On the PostgreSQL arms, from PostgreSQL itself over each end-to-end run and each submit run:
statements (`pg_stat_statements`, top-level, BEGIN/COMMIT included), transactions
(`pg_stat_database.xact_commit + xact_rollback`), rows written, WAL (`pg_stat_wal`, and the LSN moved
as a check) and the server's CPU (the postmaster and all its processes, from /proc), each divided
by the tasks. The counters are read 2 s after the last task is final, once PostgreSQL's backends
have flushed their statistics (at most once a second); what the bench's own polling of the job
asks is in them too (a few hundred reads a run; the statement table shows them).

On its own: `python -m fetchq_bench.phases.postgres` or `bench/run.sh --phase postgres`.
"""

import os
import sys
import time

from .. import ab
from ..common import BenchError, log, remove, stats
from ..config import MILLION_BATCH
from ..pgserver import PostgresServer
from ..procstat import children_of, cpu_snapshot, read_cpu_seconds
from ..service import Fetchq
from . import end_to_end, million, status, submit

ARMS = ("sqlite", "postgres", "two_nodes")
ARM_LABELS = {"sqlite": "SQLite, one node", "postgres": "PostgreSQL, one node", "two_nodes": "PostgreSQL, two nodes"}
STATS_SETTLE_SECONDS = 2.0  # PostgreSQL backends flush their statistics at most once a second
TOP_STATEMENTS = 14


def cores():
    return os.cpu_count() or 2


# --------------------------------------------------------------------------------------------
# What PostgreSQL says


def postgres_cpu(pg):
    """{pid: CPU seconds} of the postmaster (its own, and what its exited children left) and of
    each live process under it: backends, autovacuum, the checkpointer, the WAL writer."""
    postmaster = pg.postmaster_pid()
    own = read_cpu_seconds(postmaster)
    out = {"postmaster": (own[0] + own[1]) if own else 0.0}
    for pid in children_of(postmaster):
        cpu = read_cpu_seconds(pid)
        if cpu:
            out[pid] = cpu[0] + cpu[1]
    return out


DB_COLUMNS = (
    "xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted", "deadlocks",
)
WAL_COLUMNS = ("wal_records", "wal_fpi", "wal_bytes", "wal_write", "wal_sync")


class Counters:
    """PostgreSQL's counters for one database over a window: statements, transactions, rows, WAL,
    and the server's CPU."""

    def __init__(self, pg, database):
        self.pg, self.database = pg, database

    def snapshot(self):
        row = self.pg.psql(
            "postgres",
            f"SELECT {', '.join(DB_COLUMNS)} FROM pg_stat_database WHERE datname = '{self.database}';"
            f" SELECT {', '.join(WAL_COLUMNS)} FROM pg_stat_wal;"
            " SELECT pg_current_wal_lsn() - '0/0'::pg_lsn",
        )
        db, wal, lsn = (line.split("|") for line in row)
        return {
            "db": dict(zip(DB_COLUMNS, map(int, db))),
            "wal": dict(zip(WAL_COLUMNS, map(float, wal))),
            "lsn": float(lsn[0]),
            "cpu": postgres_cpu(self.pg),
        }

    def start(self):
        self.pg.psql("postgres", "SELECT pg_stat_statements_reset()")
        self.before = self.snapshot()

    def finish(self, tasks):
        """The counters since start(), in total and per task, read once the backends have flushed."""
        time.sleep(STATS_SETTLE_SECONDS)
        after = self.snapshot()
        statements = self.statements()
        before = self.before
        db = {k: after["db"][k] - before["db"][k] for k in DB_COLUMNS}
        wal = {k: after["wal"][k] - before["wal"][k] for k in WAL_COLUMNS}
        cpu = sum(v - before["cpu"].get(pid, 0.0) for pid, v in after["cpu"].items())
        calls = sum(s["calls"] for s in statements)
        transactions = db["xact_commit"] + db["xact_rollback"]
        per = lambda v: v / tasks
        return {
            "tasks": tasks,
            "statements": calls,
            "transactions": transactions,
            "commits": db["xact_commit"],
            "rollbacks": db["xact_rollback"],
            "deadlocks": db["deadlocks"],
            "rows_written": db["tup_inserted"] + db["tup_updated"] + db["tup_deleted"],
            "wal_bytes": wal["wal_bytes"],
            "wal_records": wal["wal_records"],
            "wal_fpi": wal["wal_fpi"],
            "wal_sync": wal["wal_sync"],
            "wal_write": wal["wal_write"],
            "lsn_bytes": after["lsn"] - before["lsn"],
            "pg_cpu_seconds": cpu,
            "per_task": {
                "statements": per(calls),
                "transactions": per(transactions),
                "rows_written": per(db["tup_inserted"] + db["tup_updated"] + db["tup_deleted"]),
                "wal_bytes": per(wal["wal_bytes"]),
                "lsn_bytes": per(after["lsn"] - before["lsn"]),
                "wal_sync": per(wal["wal_sync"]),
                "pg_cpu_us": per(cpu) * 1e6,
            },
            "top": statements[:TOP_STATEMENTS],
        }

    def statements(self):
        """This database's top-level statements since start(), the most called first."""
        rows = self.pg.psql(
            "postgres",
            "SELECT calls, rows, round(total_exec_time::numeric, 1),"
            " left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_statements"
            f" WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{self.database}') ORDER BY calls DESC",
        )
        out = []
        for line in rows:
            calls, nrows, ms, query = line.split("|", 3)
            out.append({"calls": int(calls), "rows": int(nrows), "ms": float(ms), "query": query})
        return out


# --------------------------------------------------------------------------------------------
# The runs


class Nodes:
    """One or more fresh `fetchq serve` on one store: a SQLite file of its own, or one PostgreSQL
    database that all of them share (created here, dropped after)."""

    def __init__(self, ctx, pg, name, count, engine):
        self.ctx, self.pg, self.name, self.count, self.engine = ctx, pg, name, count, engine
        self.database = name.replace("-", "_") if engine == "postgres" else None
        self.servers = []

    def __enter__(self):
        s, processes = self.ctx.settings, max(1, cores() // self.count)
        url = self.pg.create_database(self.database) if self.database else None
        for i in range(self.count):
            server = Fetchq(
                s.fetchq, self.ctx.workdir, f"{self.name}-{i}", self.ctx.flags, processes=processes,
                per_host=s.per_host, database=url,
            )
            self.servers.append(server)
            server.start()  # one after another: the first migrates a fresh database
        return self

    def counters(self):
        return Counters(self.pg, self.database) if self.database else None

    def __exit__(self, *exc):
        for server in reversed(self.servers):
            server.stop()
            remove(server.dir)
        if self.database:
            self.pg.drop_database(self.database)


def submit_across(servers, url, n):
    """N URLs in jobs of 1,000, POSTed one after another to each server in turn (the end-to-end
    phase's submit_all, for one or more nodes)."""
    jobs, task_ids, post_seconds = [], [], 0.0
    first_post_wall, first_post = time.time(), time.perf_counter()
    for i, body in enumerate(submit.job_bodies(url, n)):
        doc, seconds = servers[i % len(servers)].submit(body)
        post_seconds += seconds
        jobs.append(doc["id"])
        task_ids.extend(doc["task_ids"])
    if len(task_ids) != n:
        raise BenchError(f"submitted {n} tasks, got {len(task_ids)} ids back")
    return submit.Submission(jobs, task_ids, None, first_post_wall, first_post, time.perf_counter(), post_seconds)


def fetchq_cpu(servers):
    snaps = [cpu_snapshot(s.proc.pid) for s in servers]
    return None if None in snaps else sum(c["supervisor"] + c["workers"] for c in snaps)


def end_to_end_on(nodes, url, n, timeout):
    """end_to_end.run over one or more nodes: submit to them in turn, wait on the first; with
    PostgreSQL's counters over the run."""
    servers = nodes.servers
    counters = nodes.counters()
    if counters:
        counters.start()
    cpu_before = fetchq_cpu(servers)
    sub = submit_across(servers, url, n)
    finished_at, counts = end_to_end.wait_until_final(servers[0], sub.jobs, sub.first_post + timeout, timeout)
    observed_end = time.perf_counter()
    cpu_after = fetchq_cpu(servers)
    e2e = end_to_end.end_to_end_seconds(sub, observed_end, finished_at)
    if counts.get("succeeded", 0) != n:
        raise BenchError(f"not every task succeeded: {counts}")
    res = {"tasks": n, "e2e_rate": n / e2e, "e2e_seconds": e2e, "counts": counts, "task_ids": sub.task_ids}
    if cpu_before is not None and cpu_after is not None:
        res["fetchq_cpu_us"] = (cpu_after - cpu_before) / n * 1e6
    if counters:
        res["pg"] = counters.finish(n)
    return res


def submit_on(nodes, url, n):
    """N URLs in jobs of 10,000 due in a day (the million phase's store_delayed): durable 201s."""
    counters = nodes.counters()
    if counters:
        counters.start()
    _, post_seconds = million.store_delayed(nodes.servers[0], url, n)
    res = {"tasks": n, "submit_rate": n / post_seconds, "jobs": -(-n // MILLION_BATCH)}
    if counters:
        res["pg"] = counters.finish(n)
    return res


def one_run(ctx, pg, arm, pair):
    s = ctx.settings
    engine = "sqlite" if arm == "sqlite" else "postgres"
    count = 2 if arm == "two_nodes" else 1
    with Nodes(ctx, pg, f"pgb-{arm}-{pair}", count, engine) as nodes:
        res = end_to_end_on(nodes, ctx.url, s.pg_n, s.run_timeout(s.pg_n))
        task_ids = res.pop("task_ids")
        log(f"postgres {arm} run {pair + 1}: end to end {describe_e2e(res)}")
        if count == 1:
            for key, _, _, connections in status.SETTINGS:
                st = status.status_reads(nodes.servers[0], task_ids, nodes.servers[0].dir, s.wrk_seconds, connections)
                res[f"{key}_p99_ms"], res[f"{key}_rps"] = st["p99_ms"], st["rps"]
                if st["non2xx"]:
                    raise BenchError(f"status reads on {arm}: {st['non2xx']} non-2xx answers")
    if count == 1:
        with Nodes(ctx, pg, f"pgb-{arm}-submit-{pair}", 1, engine) as nodes:
            sub = submit_on(nodes, ctx.url, s.pg_submit_n)
        res["submit_rate"] = sub["submit_rate"]
        if "pg" in sub:
            res["pg_submit"] = sub["pg"]
    return res


def describe_e2e(res):
    line = f"{res['e2e_rate']:,.0f} tasks/s ({res['e2e_seconds']:.1f} s), fetchq CPU {res.get('fetchq_cpu_us', 0):.0f} µs/task"
    if "pg" in res:
        p = res["pg"]["per_task"]
        line += (
            f"; per task: {p['statements']:.3f} statements, {p['transactions']:.4f} transactions, "
            f"{p['wal_bytes']:,.0f} WAL bytes, PostgreSQL CPU {p['pg_cpu_us']:.0f} µs"
        )
    return line


def describe(res):
    line = f"{res['e2e_rate']:,.0f} tasks/s end to end"
    if "submit_rate" in res:
        line += f", submit {res['submit_rate']:,.0f} tasks/s, status p99 {res.get('status_p99_ms')} ms (64 conn.), {res.get('status_light_p99_ms')} ms (8)"
    return line


def run_phase(ctx):
    pg = PostgresServer(ctx.workdir)
    try:
        pg.start()
    except (BenchError, OSError) as error:
        pg.stop()
        ctx.results["errors"].append(f"postgres: {error}")
        log(f"ERROR: no PostgreSQL server: {error}")
        return
    try:
        runs = ab.interleave(ctx, "postgres", ARMS, lambda arm, pair: one_run(ctx, pg, arm, pair), describe)
    finally:
        pg.stop()
    if not any(runs["sqlite"]) or not any(runs["postgres"]):
        return
    ctx.results["postgres"] = summarize(ctx, pg, runs)


def summarize(ctx, pg, runs):
    out = {
        "n": ctx.settings.pg_n,
        "submit_n": ctx.settings.pg_submit_n,
        "cores": cores(),
        "server": {"version": pg.version, **pg.settings},
        "e2e": ab.summary(runs, "postgres", "sqlite", "e2e_rate"),
        "submit": ab.summary(runs, "postgres", "sqlite", "submit_rate"),
        "status_p99": ab.summary(runs, "postgres", "sqlite", "status_p99_ms"),
        "status_light_p99": ab.summary(runs, "postgres", "sqlite", "status_light_p99_ms"),
        "fetchq_cpu": ab.summary(runs, "postgres", "sqlite", "fetchq_cpu_us"),
        "two_nodes": ab.summary(runs, "two_nodes", "postgres", "e2e_rate"),
        "two_nodes_cpu": ab.summary(runs, "two_nodes", "postgres", "fetchq_cpu_us"),
        "per_task": {},
        "top": {},
        "deadlocks": {arm: [r["pg"]["deadlocks"] if r and "pg" in r else None for r in runs[arm]] for arm in ("postgres", "two_nodes")},
        "rollbacks": {arm: [r["pg"]["rollbacks"] if r and "pg" in r else None for r in runs[arm]] for arm in ("postgres", "two_nodes")},
    }
    for label, arm, key in (("e2e", "postgres", "pg"), ("two_nodes", "two_nodes", "pg"), ("submit", "postgres", "pg_submit")):
        measured = [r[key] for r in runs[arm] if r and key in r]
        if measured:
            out["per_task"][label] = {k: stats([m["per_task"][k] for m in measured]) for k in measured[0]["per_task"]}
            out["top"][label] = {"tasks": measured[-1]["tasks"], "statements": measured[-1]["top"]}
    return out


# --------------------------------------------------------------------------------------------
# The section of BENCHMARKS.md


def med(s, arm, digits=0):
    return "—" if not s or not s.get(arm) else f"{s[arm]['median']:,.{digits}f}"


def counts(res, key, arm):
    values = (res.get(key) or {}).get(arm) or []
    return ", ".join("—" if v is None else f"{v:,}" for v in values) or "—"


def median_of(per_task, label, key):
    s = (per_task.get(label) or {}).get(key)
    return None if not s else s["median"]


def per_task_rows(per_task):
    def cell(label, key, digits):
        s = (per_task.get(label) or {}).get(key)
        if not s:
            return "—"
        return f"{s['median']:,.{digits}f} ({s['min']:,.{digits}f}–{s['max']:,.{digits}f})"

    rows = (
        ("Statements (top-level, BEGIN/COMMIT included) = round trips", "statements", 3),
        ("Transactions (`xact_commit + xact_rollback`)", "transactions", 4),
        ("Rows inserted + updated + deleted (`pg_stat_database.tup_*`)", "rows_written", 2),
        ("WAL bytes (`pg_stat_wal.wal_bytes`)", "wal_bytes", 0),
        ("WAL bytes by the LSN moved (the check: all of the server)", "lsn_bytes", 0),
        ("WAL fsyncs (`pg_stat_wal.wal_sync`)", "wal_sync", 4),
        ("PostgreSQL CPU, all its processes, µs", "pg_cpu_us", 0),
    )
    return [
        f"| {label} | {cell('e2e', key, d)} | {cell('two_nodes', key, d)} | {cell('submit', key, d)} |"
        for label, key, d in rows
    ]


def top_rows(top):
    if not top:
        return []
    tasks = top["tasks"]
    lines = [
        "| Calls per task | Rows per call | ms in PostgreSQL, total | Statement (first 160 characters) |",
        "| ---: | ---: | ---: | --- |",
    ]
    for st in top["statements"]:
        rows_per_call = st["rows"] / st["calls"] if st["calls"] else 0
        query = st["query"].replace("|", "\\|")
        lines.append(f"| {st['calls'] / tasks:.4f} | {rows_per_call:,.1f} | {st['ms']:,.0f} | `{query}` |")
    return lines


def sustain_paragraph(res):
    """What one PostgreSQL server sustains, from the figures of this run."""
    rate = (res["e2e"].get("postgres") or {}).get("median")
    pt = res["per_task"]
    wal, stmts, cpu = (median_of(pt, "e2e", k) for k in ("wal_bytes", "statements", "pg_cpu_us"))
    sub_wal, sub_stmts = median_of(pt, "submit", "wal_bytes"), median_of(pt, "submit", "statements")
    two_stmts = median_of(pt, "two_nodes", "statements")
    if not rate or wal is None or stmts is None or not cpu:
        return []
    per_core = 1e6 / cpu
    return [
        f"**What one PostgreSQL server sustains.** One node here ran {rate:,.0f} tasks/s end to end; at that rate "
        f"PostgreSQL saw {rate * stmts:,.0f} statements/s and wrote {rate * wal / 1e6:,.2f} MB/s of WAL, and "
        f"spent {cpu:,.0f} µs of CPU per task (all its processes: backends, WAL writer, checkpointer, "
        f"autovacuum): one PostgreSQL core is {per_core:,.0f} tasks/s, or about {per_core / rate:,.1f} nodes "
        f"of this one's rate, before any other limit. The WAL is the other budget: {wal:,.0f} bytes a task is "
        f"{wal * 10_000 / 1e6:,.0f} MB/s at 10,000 tasks/s, well inside one SSD; most of it is commits with "
        f"`synchronous_commit = off` (the engine's bookkeeping), so the disk's fsync rate does not bound it — "
        f"the durable commits are the submissions, one per job ({sub_stmts:,.4f} statements and {sub_wal:,.0f} WAL bytes "
        f"per submitted task in jobs of 10,000). N nodes at R tasks/s each need about N × R × {cpu:,.0f} µs of "
        f"PostgreSQL CPU per second and N × R × {wal:,.0f} bytes/s of WAL"
        + (
            f"; with two nodes the statements per task were {two_stmts:,.3f} against {stmts:,.3f} for one "
            "(each node claims and records in batches, and a batch is smaller when the work is shared)."
            if two_stmts is not None
            else "."
        ),
    ]


def render(res):
    e, sb, sp, sl, cpu, two, two_cpu = (
        res[k] for k in ("e2e", "submit", "status_p99", "status_light_p99", "fetchq_cpu", "two_nodes", "two_nodes_cpu")
    )
    srv = res["server"]
    lines = [
        f"PostgreSQL {srv['version']} started by the bench (`initdb` into its temporary directory, 127.0.0.1 only), "
        f"its defaults for durability: `fsync = {srv.get('fsync')}`, `synchronous_commit = {srv.get('synchronous_commit')}`, "
        f"`full_page_writes = {srv.get('full_page_writes')}`, `wal_sync_method = {srv.get('wal_sync_method')}`, "
        f"`shared_buffers` {int(srv.get('shared_buffers', 0)) * 8 // 1024} MB, `max_wal_size` {srv.get('max_wal_size')} MB; "
        "the one addition is `shared_preload_libraries = pg_stat_statements`. fetchq's submissions commit with "
        "`synchronous_commit = on`, its bookkeeping (claims, results) with it off. "
        f"End to end: {res['n']:,} URLs in jobs of 1,000 to the bench's nginx, `--processes {res['cores']}` for one node, "
        f"`--processes {max(1, res['cores'] // 2)}` each for two; submit: {res['submit_n']:,} URLs in jobs of 10,000 "
        "(due in a day, so the engine stays idle), one POST after another, each answered `201` once committed.",
        "",
        "| Measurement | SQLite (median) | PostgreSQL (median) | Ratio PostgreSQL ÷ SQLite per pair, median |",
        "| --- | ---: | ---: | --- |",
        f"| End to end, tasks/s | {med(e, 'sqlite')} | {med(e, 'postgres')} | {ab.ratio_text(e)} |",
        f"| … each run, in the order they ran | {ab.runs_text(e, 'sqlite')} | {ab.runs_text(e, 'postgres')} | |",
        f"| Submit, jobs of 10,000, durable tasks/s | {med(sb, 'sqlite')} | {med(sb, 'postgres')} | {ab.ratio_text(sb)} |",
        f"| Status reads `GET /v1/tasks/{{id}}`, 64 connections, p99 ms | {med(sp, 'sqlite', 2)} | {med(sp, 'postgres', 2)} | {ab.ratio_text(sp)} |",
        f"| Status reads, 8 connections, p99 ms | {med(sl, 'sqlite', 2)} | {med(sl, 'postgres', 2)} | {ab.ratio_text(sl)} |",
        f"| fetchq's CPU per task end to end (supervisor + workers), µs | {med(cpu, 'sqlite')} | {med(cpu, 'postgres')} | {ab.ratio_text(cpu)} |",
        "",
        f"| Two nodes on one PostgreSQL, this box ({res['cores']} cores) | One node (median) | Two nodes (median) | Ratio two ÷ one per pair, median |",
        "| --- | ---: | ---: | --- |",
        f"| End to end, tasks/s | {med(two, 'postgres')} | {med(two, 'two_nodes')} | {ab.ratio_text(two)} |",
        f"| … each run, in the order they ran | {ab.runs_text(two, 'postgres')} | {ab.runs_text(two, 'two_nodes')} | |",
        f"| fetchq's CPU per task (both nodes), µs | {med(two_cpu, 'postgres')} | {med(two_cpu, 'two_nodes')} | {ab.ratio_text(two_cpu)} |",
        f"| Deadlocks PostgreSQL detected (`pg_stat_database.deadlocks`), each run | {counts(res, 'deadlocks', 'postgres')} | {counts(res, 'deadlocks', 'two_nodes')} | |",
        f"| Transactions rolled back, each run | {counts(res, 'rollbacks', 'postgres')} | {counts(res, 'rollbacks', 'two_nodes')} | |",
        "",
        f"**This box is CPU-bound**: its {res['cores']} cores run nginx, the bench, PostgreSQL and every fetchq process "
        "at once (and other builds now and then), so a second node adds no cores, only a second supervisor, "
        "scheduler and connection pool contending for the same ones. The two-node figure says what a second node "
        "costs in coordination (the claim lock, the shared queue), not what a second machine would add.",
        "",
        "Per task, from PostgreSQL itself (median over the runs, min–max); a round trip is one statement, since "
        "postgres-nio sends each (BEGIN and COMMIT too) as one exchange and waits for its answer:",
        "",
        "| Per task | One node, end to end | Two nodes, end to end | Submit only (jobs of 10,000) |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += per_task_rows(res["per_task"])
    lines += [""] + sustain_paragraph(res)
    top = res["top"].get("e2e")
    if top:
        lines += [
            "",
            f"The statements of the last one-node end-to-end run ({top['tasks']:,} tasks), the most called first "
            "(`pg_stat_statements`, this database only; the bench's own polling of the oldest job is among them):",
            "",
        ]
        lines += top_rows(top)
    return lines


if __name__ == "__main__":
    from ..cli import main_for

    sys.exit(main_for("postgres"))
