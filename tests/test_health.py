"""GET /healthz: what a gateway probes — the database answers and is migrated, or a 503 saying
which, in the JSON error shape; public, never rate-limited, no session cookie."""
from __future__ import annotations

import sqlite3

import pytest

from inspect_app import create_app
from inspect_app.extensions import db

from .conftest import base_config


@pytest.fixture
def probe(tmp_path):
    """``probe(url, **config)`` → the response of GET /healthz on an app using ``url``."""
    apps = []

    def get(url: str, path: str = "/healthz", **config):
        app = create_app({**base_config(tmp_path, url), **config})
        apps.append(app)
        return app.test_client().get(path, headers={"Accept": "text/html"})

    yield get
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_a_migrated_database_is_healthy(client, log_output):
    """Does a migrated database give 200 {"status": "ok"} as JSON, without a session cookie,
    and a request line at DEBUG only (a probe every few seconds is not news)?"""
    response = client.get("/healthz", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["X-Request-ID"] not in log_output.getvalue()


def test_the_health_check_is_never_rate_limited(backend, tmp_path, monkeypatch):
    """With a default rate limit on every endpoint, is the probe still answered every time?"""
    from inspect_app.extensions import limiter

    # the limiter is one object for every app: the default limit must end with this test
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [])
    url = backend.fresh_url(tmp_path)
    app = create_app({**base_config(tmp_path, url), "RATELIMIT_DEFAULT": "2 per minute"})
    try:
        client = app.test_client()
        assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
        assert 429 in [client.get("/login").status_code for _ in range(5)]  # the limit holds
    finally:
        with app.app_context():
            db.engine.dispose()
        backend.reset()


def test_an_empty_database_is_not_healthy(tmp_path, probe):
    """Does a database without tables (``db upgrade`` not run) answer 503 not_migrated, as
    JSON even to a browser's Accept header?"""
    response = probe(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "not_migrated"


def test_a_database_behind_the_latest_migration_is_not_healthy(tmp_path, probe):
    """Does a database migrated only part of the way answer 503 not_migrated?"""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('0001_foundation')")
    connection.close()
    response = probe(f"sqlite:///{path}")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "not_migrated"


def test_an_unreachable_database_is_not_healthy(tmp_path, probe):
    """Does a database that cannot be reached answer 503 database_unavailable with
    Retry-After, in the JSON error shape (not a 500, not an HTML page)?"""
    response = probe("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable" and error["message"]
