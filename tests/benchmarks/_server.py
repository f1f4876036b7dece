"""Run the product as production does, on loopback only: a scratch PostgreSQL database,
migrated and seeded with the demo branch, served by gunicorn with several workers and the
README's gunicorn settings (``-c python:inspect_app.gunicorn_conf``).

Used by ``python -m tests.benchmarks.load`` and by the live fault tests. Everything it creates
(database, photo folder, processes) is removed by :meth:`LiveServer.close`.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")


def postgres_reason() -> str | None:
    """None when PostgreSQL answers at ADMIN_URL, else why not."""
    try:
        engine = sa.create_engine(ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any failure: the caller skips, saying why
        return str(exc).splitlines()[0]


def free_port() -> int:
    """A free port below the ephemeral range, so no outgoing connection takes it meanwhile."""
    import random

    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port on 127.0.0.1")


#: The settings module the README's deploy command gives gunicorn (``-c``): the settings
#: checked once in the master, gunicorn's own log lines in the app's format.
GUNICORN_CONFIG = "python:inspect_app.gunicorn_conf"


def gunicorn_command(port: int, *, workers: int, threads: int, timeout: int) -> list[str]:
    """gunicorn as production starts it (README, "Deploying"), on loopback: the same ``-c``
    settings module, and this benchmark's workers, threads and timeouts."""
    return [str(BIN / "gunicorn"), "-c", GUNICORN_CONFIG, "-w", str(workers), "-k", "gthread",
            "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--timeout", str(timeout),
            "--graceful-timeout", "5", "--log-level", "warning", "inspect_app:create_app()"]


class LiveServer:
    """A scratch database plus a gunicorn serving it on 127.0.0.1."""

    def __init__(self, *, workers: int = 4, threads: int = 4, timeout: int = 30):
        self.workers, self.threads, self.timeout = workers, threads, timeout
        self.dbname = f"inspect_live_{uuid.uuid4().hex[:10]}"
        self.database_url = sa.make_url(ADMIN_URL).set(database=self.dbname) \
            .render_as_string(hide_password=False)
        self.tmp = tempfile.TemporaryDirectory(prefix="inspect-live-")
        self.port = 0
        self.base_url = ""
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self._log = None
        self.admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.engine: sa.Engine | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": uuid.uuid4().hex,
            "PHOTO_STORAGE_ROOT": str(Path(self.tmp.name) / "photos"),
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.env.pop("REDIS_URL", None)

    # -- database ---------------------------------------------------------------------------

    def create_database(self) -> None:
        """Create, migrate and seed the scratch database (the README's own commands)."""
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.dbname}"'))
        flask = [str(BIN / "flask"), "--app", "inspect_app"]
        for command in (["db", "upgrade"], ["seed-demo", "--quiet"]):
            subprocess.run(flask + command, cwd=ROOT, env=self.env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # pre-ping: the fault tests kill every connection to this database, ours included
        self.engine = sa.create_engine(self.database_url, pool_pre_ping=True)

    def terminate_connections(self) -> int:
        """Kill every connection the app holds to its database (a database restart, as the
        app sees it). Returns how many were killed."""
        with self.admin.connect() as conn:
            return len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": self.dbname}).all())

    # -- gunicorn ---------------------------------------------------------------------------

    def start(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = gunicorn_command(self.port, workers=self.workers, threads=self.threads,
                                   timeout=self.timeout)
        # the log goes to a file: a pipe nobody reads would fill up and stall the workers
        self.log_path = Path(self.tmp.name) / "gunicorn.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=self._log,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        import requests

        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.log()[-2000:])
            try:
                if requests.get(self.base_url + "/login", timeout=2).status_code == 200:
                    if len(self.worker_pids()) >= self.workers:
                        return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def log(self) -> str:
        """What gunicorn and the app have logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master)."""
        if self.process is None:
            return []
        result = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                text=True)
        return [int(pid) for pid in result.stdout.split()]

    def backend_pids(self) -> list[int]:
        """The PostgreSQL backends serving the app's connections to its database."""
        with self.admin.connect() as conn:
            return list(conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :name "
                "AND pid <> pg_backend_pid()"), {"name": self.dbname}).scalars())

    def kill_workers(self) -> list[int]:
        """SIGKILL every worker (the master starts new ones)."""
        pids = self.worker_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None
        self.process = None

    def close(self) -> None:
        self.stop()
        if self.engine is not None:
            self.engine.dispose()
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))
        self.admin.dispose()
        self.tmp.cleanup()

    def __enter__(self) -> LiveServer:
        try:
            self.create_database()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()
