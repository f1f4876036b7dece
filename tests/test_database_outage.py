"""When database connections die (a restart, a failover), requests answer 503 and retries work.

Pooled connections are pinged only after sitting idle (``DB_PING_IDLE_SECONDS``), not before
every request: a connection that dies while in use fails its request with a 503 the client
retries, and the pool then replaces every connection.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from inspect_app.auth.permissions import Role
from inspect_app.errors import database_unavailable
from inspect_app.extensions import db

from .conftest import POSTGRES_ADMIN_URL


def _kill_pooled_connections(*, idle: bool) -> int:
    """Terminate every connection waiting in the app's pool (``idle``: as if each had waited
    longer than the idle limit). Returns how many were killed."""
    db.session.close()  # the test's own session holds none
    records = list(db.engine.pool._pool.queue)  # noqa: SLF001 (what a restart would hit)
    pids = [record.dbapi_connection.info.backend_pid for record in records]
    if idle:
        for record in records:
            record.info["returned_at"] = 0.0
    killer = sa.create_engine(POSTGRES_ADMIN_URL, poolclass=sa.pool.NullPool)
    with killer.connect() as conn:
        for pid in pids:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    return len(pids)


@pytest.fixture
def on_postgres(backend):
    if backend.name != "postgresql":
        pytest.skip("SQLite has no connection to lose")


def test_a_dead_busy_connection_gives_503_and_the_retry_succeeds(on_postgres, client, org,
                                                                 make_user, token_for):
    """Does a request on a connection killed since its last use get 503 database_unavailable
    with Retry-After (not a 500), and does the very next request succeed on a new one?"""
    make_user("wd", (Role.outlet_manager, "TS-LB-01"))
    headers = token_for("wd")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _kill_pooled_connections(idle=False) >= 1
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "1"
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_an_idle_connection_is_checked_and_replaced_before_use(on_postgres, client, org,
                                                               make_user, token_for):
    """Does a connection that sat idle past DB_PING_IDLE_SECONDS get pinged, so a database
    restart while nobody worked costs no request at all?"""
    make_user("wd", (Role.outlet_manager, "TS-LB-01"))
    headers = token_for("wd")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _kill_pooled_connections(idle=True) >= 1
    assert client.get("/api/v1/me", headers=headers).status_code == 200


class _Orig(Exception):
    def __init__(self, message: str, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "message", "transient"), [
    ("08006", "connection failure", True),
    ("40P01", "deadlock detected", True),
    ("40001", "could not serialize access", True),
    ("55P03", "could not obtain lock", True),
    ("57P01", "terminating connection due to administrator command", True),
    ("23505", "duplicate key value violates unique constraint", False),
    ("42P01", "relation does not exist", False),
    (None, "connection refused: is the server running?", True),
    (None, "database is locked", True),
    (None, "no such table: photos", False),
])
def test_which_database_errors_are_worth_a_retry(sqlstate, message, transient):
    """Are connection losses, deadlocks, serialisation failures, lock timeouts and shutdowns
    told apart from mistakes that a retry would only repeat?"""
    error = OperationalError("SELECT 1", {}, _Orig(message, sqlstate))
    assert database_unavailable(error) is transient
    assert database_unavailable(DBAPIError("SELECT 1", {}, _Orig(message, sqlstate),
                                           connection_invalidated=True))


def test_a_connection_lost_after_the_answer_leaves_the_answer_alone(client, monkeypatch):
    """When the connection dies between the answer and the end of the request (the session's
    closing ROLLBACK fails), is the answer still given, rather than an error escaping the
    request's teardown (gunicorn's 500)?"""
    real_remove, failed = db.session.remove, []

    def remove():
        if not failed:
            failed.append(True)
            raise OperationalError("ROLLBACK", {}, Exception(
                "consuming input failed: server closed the connection unexpectedly"),
                connection_invalidated=True)
        real_remove()

    monkeypatch.setattr(db.session, "remove", remove)
    response = client.get("/login")
    assert failed and response.status_code == 200
