"""A command run against a database it cannot reach says so in one line and exits 5, for every
command (``org``, ``users``, ``backup``, ``db upgrade`` …): never a SQLAlchemy traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspect_app import create_app
from inspect_app.cli import DATABASE_UNREACHABLE

from .conftest import base_config

ROOT = Path(__file__).resolve().parent.parent

#: Nothing listens on port 1; the password must never be printed.
UNREACHABLE = "postgresql://inspector:s3cret-pw@127.0.0.1:1/inspect"
SAID = "无法连接数据库 127.0.0.1:1/inspect：Connection refused。"


def flask(*args: str) -> subprocess.CompletedProcess:
    """``flask --app inspect_app …`` as an administrator types it, against UNREACHABLE."""
    env = {**os.environ, "DATABASE_URL": UNREACHABLE, "SECRET_KEY": "test-secret",
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "inspect_app", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def said_in_one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines()
             if line.strip() and " INFO " not in line]  # backup logs that it starts
    assert "Traceback" not in stderr and len(lines) == 1, stderr
    assert "s3cret-pw" not in stderr and "inspector" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize("args", [("org", "list"),
                                  ("users", "add", "li.na", "--name", "李娜",
                                   "--role", "inspector@TS-LB")])
def test_a_command_against_an_unreachable_database_says_so_in_one_line(args):
    """``flask org list`` and ``flask users add`` with the database server down: one line on
    stderr naming host, port and database (not the user or password) and the driver's reason,
    what to check, and exit status 5 — no traceback, nothing on stdout?"""
    result = flask(*args)
    assert result.returncode == DATABASE_UNREACHABLE, result.stderr
    line = said_in_one_line(result.stderr)
    assert line.startswith(SAID) and "DATABASE_URL" in line, line
    assert result.stdout == ""


@pytest.mark.parametrize("args", [("backup", "--output", "{tmp}/b.tar.gz"), ("db", "upgrade"),
                                  ("watchlist", "evaluate")])
def test_every_command_goes_through_the_same_handler(tmp_path, args):
    """Run as tests run commands (the app's own group at the root): do ``backup``,
    ``db upgrade`` (Flask-Migrate's) and a watch-list command say the same line and exit 5?"""
    app = create_app(base_config(tmp_path, UNREACHABLE.replace(
        "postgresql://", "postgresql+psycopg://")))
    result = app.test_cli_runner().invoke(
        args=[arg.format(tmp=tmp_path) for arg in args])
    assert result.exit_code == DATABASE_UNREACHABLE, (result.output, result.exception)
    assert said_in_one_line(result.stderr).startswith(SAID)
    assert not (tmp_path / "b.tar.gz").exists()


def test_an_sqlite_file_that_cannot_be_opened_is_named(tmp_path):
    """An SQLite file in a folder that does not exist: is the file named, with the reason?"""
    path = tmp_path / "missing" / "inspect.sqlite3"
    app = create_app(base_config(tmp_path, f"sqlite:///{path}"))
    result = app.test_cli_runner().invoke(args=["org", "list"])
    assert result.exit_code == DATABASE_UNREACHABLE, result.output
    assert said_in_one_line(result.stderr).startswith(
        f"无法连接数据库 {path}：unable to open database file。")


def test_other_database_errors_are_not_called_unreachable(tmp_path):
    """A database that answers but has no tables (never migrated) is not "unreachable": the
    command fails with the database's own error, as before?"""
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    result = app.test_cli_runner().invoke(args=["org", "list"])
    assert result.exit_code == 1 and "no such table" in str(result.exception), result.output
