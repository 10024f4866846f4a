"""A throwaway PostgreSQL cluster on 127.0.0.1, for the tests of the team deployment (deploy/, docs/operations.md).

Debian's ``postgresql`` package (``make postgres`` installs it) puts its programs in
``/usr/lib/postgresql/<version>/bin``, off the PATH; they are found there. PostgreSQL refuses to run as root, so
under root (CI) the cluster belongs to the package's ``postgres`` user and its programs run through ``runuser``.
The cluster trusts local connections and, unless ``durable``, never syncs to disk: it holds nothing worth keeping
and is deleted on ``stop()``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

OS_USER = "postgres"  # the package's system user, owner of the cluster when we run as root


def find_bin(program: str) -> str | None:
    """``program`` (initdb, pg_ctl) from the PATH or from Debian's versioned folder, newest version first."""
    found = shutil.which(program)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), key=lambda p: int(Path(p).parts[-3]), reverse=True
    )
    return candidates[0] if candidates else None


def unavailable_reason() -> str | None:
    """Why a throwaway cluster cannot start here, or None when it can."""
    if not find_bin("initdb") or not find_bin("pg_ctl"):
        return "PostgreSQL is not installed: run `make postgres` (Debian's postgresql package)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root and there is no '{OS_USER}' user to own the cluster"
        if not shutil.which("runuser"):
            return "running as root and runuser is missing"
    return None


def query(url: str, sql: str, params=None) -> list[tuple] | None:
    """Run one statement at ``url`` outside any transaction; its rows, or None for a statement without."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def table_counts(url: str, schema: str) -> dict[str, int]:
    """Rows of every table in ``schema`` at ``url``."""
    tables = query(url, "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
    return {t: query(url, f'SELECT count(*) FROM "{schema}"."{t}"')[0][0] for (t,) in tables}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """``with ThrowawayPostgres() as pg: pg.url`` — a superuser URL for a new cluster, gone afterwards."""

    def __init__(self, durable: bool = False) -> None:
        """``durable``: sync to disk as a real server does (benchmarks); tests skip it."""
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="police-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_root = os.geteuid() == 0
        self.durable = durable

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, user: str, database: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        cmd = ["runuser", "-u", OS_USER, "--", *args] if self._as_root else list(args)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> ThrowawayPostgres:
        if self._as_root:
            shutil.chown(self.root, user=OS_USER)
        self._run(find_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories=''"
        if not self.durable:
            options += " -c fsync=off"
        self._run(find_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        deadline = time.monotonic() + 30
        while True:  # -w waits for the postmaster; a TCP connect proves the port is ours and open
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(find_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
