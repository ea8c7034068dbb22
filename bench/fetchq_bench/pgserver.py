"""A PostgreSQL server of the bench's own, for the postgres phase: Debian's `postgresql` package
(bench/run.sh installs it), `initdb` into the run's temporary directory, listening on 127.0.0.1 on a
free port, `trust` for the superuser `fetchq`, stopped (and its files removed) after.

Durability stays at PostgreSQL's defaults (fsync on, synchronous_commit on, full_page_writes on;
the tests' server turns fsync off, the bench must not): fetchq itself commits its bookkeeping with
`synchronous_commit = off` and its submissions with it on. The one setting added is
`shared_preload_libraries = pg_stat_statements`, so that the phase can count statements.

PostgreSQL refuses to run as root: as root, every server command runs as the `postgres` user
(`runuser -u postgres --`). `psql` runs as whoever we are (it is only a client).
"""

import glob
import os
import shutil
import subprocess

from .common import BenchError, free_port, log, remove


def binaries():
    """The newest installed server's bin directory, /usr/lib/postgresql/N/bin, or None."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        version = initdb.split("/")[4]
        if version.isdigit():
            found.append((int(version), os.path.dirname(initdb)))
    return max(found)[1] if found else None


class PostgresServer:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "postgres")
        self.data = os.path.join(self.dir, "data")
        self.bin = binaries()
        self.as_root = os.getuid() == 0
        self.port = None
        self.version = None

    def server_command(self, name, *args):
        command = [os.path.join(self.bin, name), *args]
        return ["runuser", "-u", "postgres", "--", *command] if self.as_root else command

    def run_server_command(self, name, *args, timeout=120):
        out = subprocess.run(self.server_command(name, *args), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise BenchError(f"{name} {' '.join(args)} exited with {out.returncode}: {(out.stdout + out.stderr).strip()[-800:]}")
        return out.stdout

    def start(self):
        if not self.bin:
            raise BenchError("no PostgreSQL server in /usr/lib/postgresql: install Debian's postgresql (bench/run.sh does)")
        os.makedirs(self.dir, exist_ok=True)
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run_server_command("initdb", "-D", self.data, "-A", "trust", "-U", "fetchq", "-E", "UTF8")
        self.port = free_port()  # freed here, taken by the server a moment later
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=200"
            " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"
            " -c pg_stat_statements.track_utility=on -c track_io_timing=on"
        )
        self.run_server_command(
            "pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "server.log"), "-w", "-t", "60", "-o", options, "start"
        )
        self.psql("postgres", "CREATE EXTENSION pg_stat_statements")
        self.version = self.psql("postgres", "SHOW server_version")[0]
        settings = dict(
            line.split("|") for line in self.psql(
                "postgres",
                "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes',"
                " 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'shared_buffers', 'wal_sync_method')",
            )
        )
        if settings.get("fsync") != "on" or settings.get("synchronous_commit") != "on":
            raise BenchError(f"the bench's PostgreSQL must keep fsync and synchronous_commit on: {settings}")
        self.settings = settings
        log(f"PostgreSQL {self.version} ready on 127.0.0.1:{self.port} ({self.data}): {settings}")

    def url(self, database):
        return f"postgres://fetchq@127.0.0.1:{self.port}/{database}"

    def psql(self, database, sql, timeout=60):
        """Runs SQL with psql; answers its rows, one string per row, columns split by `|`."""
        out = subprocess.run(
            ["psql", self.url(database), "-X", "-v", "ON_ERROR_STOP=1", "-Atc", sql],
            capture_output=True, text=True, timeout=timeout,
        )
        if out.returncode != 0:
            raise BenchError(f"psql {sql[:80]!r}: {out.stderr.strip()[-500:]}")
        return [line for line in out.stdout.splitlines() if line]

    def create_database(self, name):
        self.psql("postgres", f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, name):
        try:
            self.psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except BenchError as error:
            log(f"WARNING: {error}")

    def postmaster_pid(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def stop(self):
        if self.port is None:
            return
        try:
            self.run_server_command("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")
        except (BenchError, subprocess.TimeoutExpired) as error:
            log(f"WARNING: PostgreSQL did not stop cleanly: {error}")
            try:
                self.run_server_command("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
            except (BenchError, subprocess.TimeoutExpired):
                pass
        self.port = None
        remove(self.dir)
