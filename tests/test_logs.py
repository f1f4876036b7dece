"""Logs an administrator can follow: one line per request, each line naming its request and user,
the same id in the response, the audit log and a server error's message."""
from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from inspect_app import APP_LOAD_ERROR, create_app
from inspect_app.audit.models import AuditEntry
from inspect_app.auth.permissions import Role
from inspect_app.extensions import db

from .conftest import base_config


def test_every_request_gets_an_id_and_one_log_line(client, org, make_user, token_for,
                                                   log_output):
    """Does each response carry X-Request-ID, and does the log have one line with method,
    path, status, time, user and that id?"""
    make_user("wd", (Role.outlet_manager, "TS-LB-01"))
    headers = token_for("wd")
    response = client.get("/api/v1/me", headers=headers)
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    lines = [line for line in log_output.getvalue().splitlines() if request_id in line]
    assert len(lines) == 1, log_output.getvalue()
    assert " INFO inspect_app.requests [" in lines[0]
    assert f"[{request_id} wd] GET /api/v1/me 200 " in lines[0] and lines[0].endswith("ms")
    other = client.get("/api/v1/me", headers=headers).headers["X-Request-ID"]
    assert other != request_id


def test_a_clients_request_id_is_kept_when_sane_and_replaced_when_not(client, org, make_user,
                                                                        token_for):
    """Is a proxy's X-Request-ID echoed and stored with the audit entry, while one with
    spaces, control characters, markup or more than the audit column's 64 characters is replaced (it would
    forge log lines or break the audit insert)?"""
    make_user("admin", (Role.admin, "TS"))
    headers = token_for("admin")
    for given, kept in (("edge-7f3a.42:1", True), ("x" * 65, False),
                        ("a\tFAKE ERROR", False), ("<script>", False), ("two words", False)):
        response = client.post("/api/v1/org-units", headers={**headers, "X-Request-ID": given},
                               json={"kind": "outlet", "code": f"TS-LB-{len(given):02d}",
                                     "name": "测试网点", "parent_id": org["TS-LB"].id})
        assert response.status_code == 201, response.get_json()
        echoed = response.headers["X-Request-ID"]
        assert (echoed == given) is kept and len(echoed) <= 64 and echoed.isprintable()
        stored = db.session.scalar(sa.select(AuditEntry.request_id).where(
            AuditEntry.action == "org_unit.create").order_by(AuditEntry.id.desc()).limit(1))
        assert stored == echoed


def test_a_server_error_names_its_request(app, client, org, make_user, token_for, log_output):
    """Does a 500 give the user the request id (JSON body and error page) and the log the
    traceback and a WARNING request line under the same id?"""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret detail")

    @app.get("/_boom_page")
    def boom_page():
        raise RuntimeError("secret detail")

    make_user("admin", (Role.admin, "TS"))
    response = client.get("/api/v1/_boom", headers=token_for("admin"))
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert response.get_json()["error"]["request_id"] == request_id
    logged = [line for line in log_output.getvalue().splitlines() if request_id in line]
    assert any(" ERROR inspect_app.errors " in line for line in logged), logged
    assert any(" WARNING inspect_app.requests " in line and " 500 " in line for line in logged)
    assert "secret detail" in log_output.getvalue()  # the log has it, the user does not
    page = client.get("/_boom_page", headers={"Accept": "text/html"})
    assert page.headers["X-Request-ID"] in page.get_data(as_text=True)
    assert "secret detail" not in page.get_data(as_text=True)


def test_client_errors_do_not_carry_a_request_id(client, org):
    """Are 4xx bodies unchanged (the id is for server errors a user reports)?"""
    error = client.get("/api/v1/nothing-here").get_json()["error"]
    assert "request_id" not in error


def test_json_log_format_writes_one_object_per_line(backend, tmp_path):
    """With LOG_FORMAT=json, is every line a JSON object with the request's fields?"""
    app = create_app({**base_config(tmp_path, backend.fresh_url(tmp_path)),
                      "LOG_FORMAT": "json"})
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_inspect_app", False))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        with app.app_context():
            response = app.test_client().get("/login?next=/tasks")
            db.session.remove()
            db.engine.dispose()
    finally:
        handler.setStream(previous)
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    line = next(r for r in records if r.get("request_id") == response.headers["X-Request-ID"])
    assert line["logger"] == "inspect_app.requests" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/login?next=/tasks", 200)
    assert line["user"] == "-" and isinstance(line["ms"], float)
    # ISO 8601 in the bank's zone, with its offset (the time the audit page shows)
    moment = datetime.fromisoformat(line["time"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00", line["time"])
    assert abs(moment - datetime.now(UTC)) < timedelta(minutes=5)
    backend.reset()


def _gunicorn(tmp_path, env: dict) -> subprocess.Popen:
    """gunicorn run as the README's deploy command runs it, its standard error in a file."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite3'}",
                   "SECRET_KEY": "test", "PHOTO_STORAGE_ROOT": str(tmp_path / "photos"), **env}
    with open(tmp_path / "gunicorn.log", "wb") as log:  # the process has its own copy
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c",
             "python:inspect_app.gunicorn_conf", "-w", "1", "-b", "127.0.0.1:0",
             "inspect_app:create_app()"],
            env=environment, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


def test_gunicorn_refuses_a_bad_setting_before_booting_workers(tmp_path):
    """With the product's gunicorn settings, does a bad setting stop gunicorn in the master:
    one 配置错误 line, exit 4, no worker booted and no traceback?"""
    process = _gunicorn(tmp_path, {"DATABASE_URL": "mysql://u:s3cret@127.0.0.1/db"})
    assert process.wait(timeout=60) == APP_LOAD_ERROR
    written = (tmp_path / "gunicorn.log").read_text()
    assert len([line for line in written.splitlines() if "配置错误" in line]) == 1, written
    assert "Traceback" not in written and "Booting worker" not in written
    assert "s3cret" not in written


def test_gunicorn_writes_json_lines_too(tmp_path):
    """With LOG_FORMAT=json and the product's gunicorn settings, is every line of standard
    error a JSON object — gunicorn's own (starting, booting a worker) as well as the app's?"""
    process = _gunicorn(tmp_path, {"LOG_FORMAT": "json"})
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)",
                              (tmp_path / "gunicorn.log").read_text())
            port = found and int(found.group(1))
            time.sleep(0.1)
        assert port, (tmp_path / "gunicorn.log").read_text()
        with urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/login", headers={"X-Request-ID": "json-test-1"}),
                timeout=30) as response:
            assert response.status == 200
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    records = [json.loads(line) for line in
               (tmp_path / "gunicorn.log").read_text().splitlines()]  # each line is JSON
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"]
               for r in records), records
    assert any(r["request_id"] == "json-test-1" and r["status"] == 200 for r in records)
    assert all(re.search(r"T.*\+08:00$", r["time"]) for r in records)


def test_logging_during_a_broken_transaction_still_answers(app, client, org, make_user,
                                                           token_for, log_output):
    """When a flush fails (the session's transaction is rolled back and every loaded object
    expired), do the error's log lines still name the user, without touching the database
    (which would raise again and turn the clean error into a crash)?"""
    from inspect_app.auth.models import User

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.post("/api/v1/_broken_flush")
    def broken_flush():
        db.session.add(User(username="wd", display_name="重复", password_hash="x"))
        db.session.flush()  # IntegrityError: the username is taken

    make_user("wd", (Role.outlet_manager, "TS-LB-01"))
    response = client.post("/api/v1/_broken_flush", headers=token_for("wd"))
    assert response.status_code == 409  # a unique key: the client is told to retry
    request_id = response.headers["X-Request-ID"]
    logged = [line for line in log_output.getvalue().splitlines() if request_id in line]
    assert any(f"[{request_id} wd] write conflict" in line for line in logged), logged


def test_weasyprint_progress_is_not_logged(app, log_output):
    """Does the app keep WeasyPrint's "Step 2 - Fetching and parsing CSS" INFO lines (three
    per CLI command and gunicorn worker) out of the log, while its warnings still show?"""
    from weasyprint import CSS

    CSS(string="p { color: red }")
    progress = logging.getLogger("weasyprint.progress")
    progress.warning("a real problem")
    written = log_output.getvalue()
    assert "Fetching and parsing CSS" not in written, written
    assert "a real problem" in written


def _start(url: str, tmp_path, caplog) -> list[str]:
    """The ERROR lines of an app started outside tests (TESTING off) on ``url``."""
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        app = create_app({**base_config(tmp_path, url), "TESTING": False})
    with app.app_context():
        db.engine.dispose()
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_unmigrated_database_is_named_at_start(backend, tmp_path, caplog, monkeypatch):
    """Does the app say at start-up, in one ERROR line, that an empty database needs
    ``flask db upgrade`` (instead of a 500 on every sign-in) — and nothing when migrated?"""
    monkeypatch.setattr("sys.argv", ["gunicorn"])
    empty = _start(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path, caplog)
    assert len(empty) == 1 and "has no tables" in empty[0], empty
    assert "flask --app inspect_app db upgrade" in empty[0]
    assert _start(backend.fresh_url(tmp_path), tmp_path, caplog) == []


def test_the_development_server_logs_each_request_once(app, org, log_output):
    """Under ``make run`` (werkzeug's development server), is each request logged once — the
    product's line with id and user, not werkzeug's access line with colour codes besides it —
    while the server's "Running on http://…" line still shows, even at LOG_LEVEL=WARNING?"""
    import threading
    import urllib.request

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/login") as response:
            request_id = response.headers["X-Request-ID"]
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.WARNING)
        try:
            server.log_startup()
        finally:
            root.setLevel(level)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    written = log_output.getvalue()
    assert [line for line in written.splitlines() if "GET /login" in line] == [
        line for line in written.splitlines() if f"[{request_id} -] GET /login 200 " in line]
    assert len([line for line in written.splitlines() if "GET /login" in line]) == 1, written
    assert f"Running on http://127.0.0.1:{server.port}" in written
    assert "\x1b[" not in written


def _line(log_output, request_id: str) -> str:
    """The one log line of the request ``request_id``."""
    lines = [line for line in log_output.getvalue().splitlines() if request_id in line]
    assert len(lines) == 1, log_output.getvalue()
    return lines[0]


def test_a_refused_requests_line_says_why(app, client, org, make_user, token_for, log_output):
    """Does the line of a refused request end with the stable code the client got (a wrong
    password, a lockout, a validation error with the names of the refused fields), so the
    administrator sees the cause without the audit log — and never the password?"""
    app.config["LOGIN_MAX_FAILURES"] = 2
    make_user("wd", (Role.outlet_manager, "TS-LB-01"))
    make_user("admin", (Role.admin, "TS"))
    wrong = client.post("/api/v1/auth/token", json={"username": "wd", "password": "NotThePw1"})
    assert wrong.status_code == 401
    line = _line(log_output, wrong.headers["X-Request-ID"])
    assert line.endswith(" code=invalid_credentials"), line
    client.post("/api/v1/auth/token", json={"username": "wd", "password": "NotThePw1"})
    locked = client.post("/api/v1/auth/token", json={"username": "wd", "password": "NotThePw1"})
    assert locked.status_code == 423
    assert _line(log_output, locked.headers["X-Request-ID"]).endswith(" code=account_locked")
    invalid = client.post("/api/v1/org-units", headers=token_for("admin"), json={
        "kind": "outlet", "code": "TS-LB-99", "name": "x", "parent_id": org["TS-LB"].id,
        "latitude": "北纬三十九度", "colour": "red", "bad\nname": 1})
    assert invalid.status_code == 422
    line = _line(log_output, invalid.headers["X-Request-ID"])
    assert " [" + invalid.headers["X-Request-ID"] + " admin] " in line
    assert " code=invalid fields=" in line  # a client's own field name only as "?"
    assert sorted(line.rsplit("fields=", 1)[1].split(",")) == ["?", "colour", "latitude"]
    # (values that no request id, a hex string, can hold by chance)
    assert "NotThePw1" not in log_output.getvalue() and "北纬" not in log_output.getvalue()
    missing = client.get("/api/v1/nothing-here")
    assert _line(log_output, missing.headers["X-Request-ID"]).endswith(" code=not_found")
    fine = client.get("/api/v1/me", headers=token_for("admin"))
    assert "code=" not in _line(log_output, fine.headers["X-Request-ID"])


def test_sign_in_lines_name_who_signed_in(client, org, make_user, login, log_output):
    """Is a successful sign-in's own line (POST /login 302) tagged with the person who signed
    in, and a failed one with its code but neither the typed name nor the password?"""
    make_user("wd", (Role.outlet_manager, "TS-LB-01"))
    failed = login("wd", "NotThePw1")
    assert failed.status_code == 401
    line = _line(log_output, failed.headers["X-Request-ID"])
    assert " -] POST /login 401 " in line and line.endswith(" code=invalid_credentials"), line
    signed_in = login("wd")
    assert signed_in.status_code == 302
    request_id = signed_in.headers["X-Request-ID"]
    assert f"[{request_id} wd] POST /login 302 " in _line(log_output, request_id)
    assert "NotThePw1" not in log_output.getvalue()


def test_a_database_outage_writes_one_warning_naming_the_user(backend, client, org, make_user,
                                                              token_for, log_output):
    """Does a request refused with 503 database_unavailable write one WARNING line (not two),
    with the code, the database's reason and the bearer token's user, whom the dead
    connection kept from being loaded?"""
    from .test_database_outage import _kill_pooled_connections

    if backend.name != "postgresql":
        pytest.skip("SQLite has no connection to lose")
    make_user("wd", (Role.outlet_manager, "TS-LB-01"))
    headers = token_for("wd")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _kill_pooled_connections(idle=False) >= 1
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 503
    line = _line(log_output, response.headers["X-Request-ID"])
    assert " WARNING inspect_app.requests " in line, line
    assert f"[{response.headers['X-Request-ID']} wd] GET /api/v1/me 503 " in line
    assert " code=database_unavailable cause=" in line and "terminating connection" in line
    assert headers["Authorization"][7:] not in log_output.getvalue()  # never the token
