"""Where things are, the fixed sizes of the benchmark, and the settings of one run.

The settings come from the environment (the BENCH_* variables that bench/run.sh documents) and,
on top of it, from the command line (`--quick`, `--n`, ...; see fetchq_bench.cli).
"""

import dataclasses
import os
import shutil

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH_DIR)
OUT_DIR = os.path.join(BENCH_DIR, "out")
VENV_PYTHON = os.path.join(BENCH_DIR, ".venv", "bin", "python")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
PAGE_FILE = "1k.txt"

BATCH = 1000  # tasks per job in the end-to-end and submit runs
MILLION_BATCH = 10_000  # tasks per job when the million phase fills the database
CONCURRENT_CONNECTIONS = 16
CONCURRENT_SIZES = (1, 100)  # tasks per job in the concurrent-submit phase
DELAY_A_DAY_MS = 86_400_000  # tasks due in a day stay queued: the engine stays idle

EXPORT_BATCH = 10_000  # tasks per append when the export phase builds its open job

# The phases in the order of a full run; `submit` runs only when asked for by name, since a full
# run times the submissions inside the end-to-end runs. `https` is the tuned peer and fetchq over
# https, in the main rounds beside the http runs (fetchq_bench.phases.versus). The last five (SECTION_PHASES) each write a
# section of BENCHMARKS.md of their own, so each can be run and written alone.
SECTION_PHASES = ("export", "client", "metrics", "retention", "postgres")
DEFAULT_PHASES = ("limit", "tuned", "naive", "fetchq", "https", "status", "million", "concurrent", "scaling") + SECTION_PHASES
ALL_PHASES = DEFAULT_PHASES + ("submit",)
ALIASES = {"end_to_end": ("fetchq",), "e2e": ("fetchq",), "peers": ("tuned", "naive"), "tls": ("https",)}
FETCHQ_PHASES = frozenset({"fetchq", "https", "submit", "status", "million", "concurrent", "scaling"} | set(SECTION_PHASES))


@dataclasses.dataclass
class Settings:
    quick: bool
    n: int
    small_n: int  # the second size of the side-by-side table (fetchq and the tuned peer, http and https)
    runs: int
    scale_n: int
    wrk_seconds: int
    million_n: int
    export_n: int  # tasks of the job the export phase builds and exports
    client_n: int  # URLs of the client phase's run
    pairs: int  # A/B pairs of the metrics and retention phases
    backlog: int  # expired tasks the retention phase's sweeper deletes during its runs
    retention_n: int  # URLs of each retention run
    pg_n: int  # URLs of each end-to-end run of the postgres phase
    pg_submit_n: int  # URLs of each submit run of the postgres phase (jobs of 10,000)
    per_host: int
    skip: frozenset
    phases: frozenset
    only_phases: bool  # phases were named on the command line: a partial run
    scale_processes: list
    scale_concurrency: list
    fetchq: str
    output: str
    write_output: bool
    tmp_parent: str
    timeout_override: int

    def sizes(self):
        """The N of the side-by-side rounds: n, then small_n if it is smaller (and not 0)."""
        return [self.n] + ([self.small_n] if 0 < self.small_n < self.n else [])

    def run_timeout(self, n):
        """Seconds one fetchq or peer run of n tasks may take."""
        return self.timeout_override if self.timeout_override is not None else 120 + n // 100

    def wants(self, phase):
        return phase in self.phases

    def needs_fetchq(self):
        return bool(self.phases & FETCHQ_PHASES)


def env_int(env, name, default):
    value = env.get(name, "").strip()
    return int(value) if value else default


def expand_phases(names):
    """Phase names with the aliases resolved; an unknown name raises ValueError."""
    out = set()
    for name in names:
        name = name.strip().replace("-", "_")
        if not name:
            continue
        if name in ALIASES:
            out.update(ALIASES[name])
        elif name in ALL_PHASES:
            out.add(name)
        else:
            raise ValueError(f"unknown phase {name!r}; known: {', '.join(ALL_PHASES + tuple(ALIASES))}")
    return out


def load(env, overrides=None):
    """The settings from the environment, then the command line's overrides (None: not given)."""
    o = {k: v for k, v in (overrides or {}).items() if v is not None}
    quick = o.get("quick") or env.get("BENCH_QUICK", "") not in ("", "0")
    skip = frozenset(expand_phases(env.get("BENCH_SKIP", "").split(",")))
    named = expand_phases(o.get("phase") or [])
    default_output = os.path.join(OUT_DIR, "BENCHMARKS-quick.md") if quick else os.path.join(ROOT, "BENCHMARKS.md")
    explicit_output = o.get("output") or env.get("BENCH_OUTPUT")
    timeout = env.get("BENCH_RUN_TIMEOUT", "").strip()
    return Settings(
        quick=quick,
        n=o.get("n", 500 if quick else env_int(env, "BENCH_N", 100_000)),
        small_n=o.get("small_n", 200 if quick else env_int(env, "BENCH_SMALL_N", 20_000)),
        runs=o.get("runs", 1 if quick else max(1, env_int(env, "BENCH_RUNS", 3))),
        scale_n=o.get("scale_n", 500 if quick else env_int(env, "BENCH_SCALE_N", 20_000)),
        wrk_seconds=o.get("wrk_seconds", env_int(env, "BENCH_WRK_SECONDS", 2 if quick else 10)),
        million_n=o.get("million_n", 20_000 if quick else env_int(env, "BENCH_MILLION_N", 1_000_000)),
        export_n=o.get("export_n", 20_000 if quick else env_int(env, "BENCH_EXPORT_N", 1_000_000)),
        client_n=o.get("client_n", 2_000 if quick else env_int(env, "BENCH_CLIENT_N", 100_000)),
        pairs=o.get("pairs", 1 if quick else max(1, env_int(env, "BENCH_PAIRS", 3))),
        backlog=o.get("backlog", 60_000 if quick else env_int(env, "BENCH_BACKLOG", 400_000)),
        retention_n=o.get("retention_n", 2_000 if quick else env_int(env, "BENCH_RETENTION_N", 40_000)),
        pg_n=o.get("pg_n", 500 if quick else env_int(env, "BENCH_PG_N", 20_000)),
        pg_submit_n=o.get("pg_submit_n", 20_000 if quick else env_int(env, "BENCH_PG_SUBMIT_N", 100_000)),
        per_host=env_int(env, "BENCH_PER_HOST", 256),
        skip=skip,
        phases=frozenset((named or set(DEFAULT_PHASES)) - skip),
        only_phases=bool(named),
        scale_processes=[1] if quick else [1, 2, 4],
        scale_concurrency=[16] if quick else [16, 64, 256],
        fetchq=env.get("BENCH_FETCHQ") or os.path.join(ROOT, ".build", "release", "fetchq"),
        output=explicit_output or default_output,
        write_output=bool(explicit_output) or not named,
        tmp_parent=env.get("BENCH_TMPDIR") or None,
        timeout_override=int(timeout) if timeout else None,
    )
