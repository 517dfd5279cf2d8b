"""A throwaway PostgreSQL cluster on localhost, for the test suite and the benchmarks.

The product itself never starts a server; this exists so that tests and benchmarks run against a
real PostgreSQL rather than a mock. It runs as the `postgres` user when we are root, because
PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa


def postgres_bin_dir() -> Path | None:
    """The newest installed server's bin folder (Debian keeps them in /usr/lib/postgresql/N/bin)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """initdb into a temporary folder, start on a free port, drop everything on stop()."""

    def __init__(self, bin_dir: Path | None = None):
        bin_dir = bin_dir or postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="lasnaolo-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.root, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start",
            "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
        )
        self.admin = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return self.url(name)

    def stop(self) -> None:
        self.admin.dispose()
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
