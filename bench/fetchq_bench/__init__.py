"""The fetchq benchmark (issue #6), one module per phase.

  config.py     paths, fixed sizes, and the run's settings (BENCH_* and the command line)
  common.py     logging, processes, ports, run statistics, `repeat` (the runs of a figure)
  target.py     the local nginx target (http, https with the run's own CA, stub_status) and wrk
  peers.py      the Python peers (aiomultiprocess tuned and naive), interleaved with fetchq
  service.py    one fresh `fetchq serve` per run (`on_fresh_fetchq`)
  procstat.py   CPU seconds, storage writes, the cores' idle share and peak RSS from /proc
  phases/       limit, submit, end_to_end (+ status), versus (fetchq beside the tuned peer, http and
                https, the `https` phase), million, concurrent, scaling, and the five
                with a BENCHMARKS.md section each: export, client, metrics, retention, postgres
  pgserver.py   the postgres phase's own PostgreSQL server (initdb, pg_ctl, psql)
  ab.py         interleaved A/B runs and their ratios per pair (metrics, retention, postgres)
  runner.py     the order of a full run; report.py the BENCHMARKS.md block; cli.py the flags
"""
