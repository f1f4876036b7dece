"""Logs an administrator can follow: one line per request, and every line names its request.

Every request gets an id: the client's ``X-Request-ID`` when it is a plain token (a proxy or
the PWA may set one), else a new one. The id goes back in the response's ``X-Request-ID``
header, onto every log line written while the request runs, into the audit entries it writes,
and onto the error page and the body of a server error (5xx), so a user can quote it and an
administrator can find everything that request did::

    2026-11-28 09:14:03,512 INFO inspect_app.requests [3f2a… wd.lb01] POST /api/v1/inspections/7/photos 201 48.2ms
    2026-11-28 09:14:04,020 ERROR inspect_app.errors [9b41… jc.lubei1] Unhandled error on POST …

``LOG_FORMAT=json`` writes the same records as one JSON object per line, for a log collector
(and gunicorn's own lines too when it runs with ``inspect_app/gunicorn_conf.py``).
Static files are logged at DEBUG only; server errors' request lines at WARNING. A refused
request's line says why, with the stable code the client got::

    2026-11-28 09:15:41,077 INFO inspect_app.requests [8c1d… -] POST /api/v1/auth/token 401 90.2ms code=invalid_credentials
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, Response, g, has_request_context, request

log = logging.getLogger("inspect_app.requests")

#: What a client-given request id may look like (it is logged and stored: no spaces, no
#: control characters, at most the audit column's 64 characters).
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: A field name written on a refused request's line (``fields=latitude,answers``).
FIELD_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s] %(message)s"
#: Paths whose request lines are DEBUG (unless a 5xx): files the browser fetches for every
#: page, and the health check a gateway probes every few seconds.
QUIET_PREFIXES = ("/static/", "/sw.js", "/manifest.webmanifest", "/favicon", "/healthz")
#: Library loggers kept at WARNING: their INFO lines are progress chatter, not events.
QUIET_LOGGERS = ("alembic.runtime.plugins", "weasyprint.progress")
#: A terminal's colour codes, which werkzeug's development server puts in its lines.
ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


def request_id_from(given: str | None) -> str:
    """The client's request id if it is a plain token, else a fresh one."""
    return given if given and REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user`` (``g.username``, set when the user is loaded, or "-")
    to every record. It never touches the database: a record may be written while the
    request's transaction is broken (that is when logs matter most)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            record.user = g.get("username", "-")
        else:
            record.request_id = record.user = "-"
        return True


class DevServerFilter(logging.Filter):
    """werkzeug's development server (``make run``): its access line repeats the product's
    own request line, without the request's id and user and with colour codes, so it is
    dropped; its start-up lines (the URL to open, "development server") stay, without colour
    codes."""

    def filter(self, record: logging.LogRecord) -> bool:
        # WSGIRequestHandler.log_request: '<address> - - [<date>] "%s" %s %s' % (line, code, size)
        if (record.levelno == logging.INFO and isinstance(record.args, tuple)
                and len(record.args) == 3 and str(record.msg).endswith('"%s" %s %s')):
            return False
        if isinstance(record.msg, str):
            record.msg = ANSI_CODES.sub("", record.msg)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, user, and for
    request lines the method, path, status and milliseconds.

    ``time`` is ISO 8601 in the bank's zone (``TIMEZONE``) with its offset, to the
    millisecond — ``2026-11-30T11:14:56.056+08:00`` — the time the audit page shows for the
    same event, and unambiguous for a collector whatever the server's own zone."""

    FIELDS = ("method", "path", "status", "ms", "code", "fields", "cause")

    def __init__(self, timezone: str = "Asia/Shanghai"):
        super().__init__()
        self.zone = ZoneInfo(timezone)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        moment = datetime.fromtimestamp(record.created, self.zone)
        return moment.isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        document = {"time": self.formatTime(record), "level": record.levelname,
                    "logger": record.name, "message": record.getMessage(),
                    "request_id": getattr(record, "request_id", "-"),
                    "user": getattr(record, "user", "-")}
        document.update({name: getattr(record, name) for name in self.FIELDS
                         if hasattr(record, name)})
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def configure(level_name: str, log_format: str, timezone: str = "Asia/Shanghai") -> None:
    """Install the one handler on the root logger (again on each app: replaced, not added).
    ``timezone`` is the bank's, for the JSON lines' time."""
    level = getattr(logging, str(level_name).upper(), logging.INFO)
    handler = logging.StreamHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter(timezone) if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    handler._inspect_app = True  # noqa: SLF001 (marks ours, so a second app replaces it)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_inspect_app", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries whose INFO lines say nothing an administrator needs, on every start: Alembic's
    # plugin list, and WeasyPrint's "Step 2 - Fetching and parsing CSS" (three lines for each
    # CLI command and gunicorn worker, as its default stylesheets are parsed at import).
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # The development server's start-up lines show whatever LOG_LEVEL says (they name the URL
    # to open); its per-request lines never do (the filter).
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.setLevel(logging.INFO)
    if not any(isinstance(f, DevServerFilter) for f in werkzeug.filters):
        werkzeug.addFilter(DevServerFilter())


def start_request() -> None:
    """``before_request`` (the first one): the request's id and start time."""
    g.request_id = request_id_from(request.headers.get("X-Request-ID"))
    g.started = time.perf_counter()


def note_user(username: str) -> None:
    """Name ``username`` on this request's log lines from now on: a sign-in names the person
    it signed in (the user was loaded, as nobody, before it)."""
    if has_request_context():
        g.username = username


def note_refusal(code: str, *, fields: Iterable[str] = (), cause: str | None = None) -> None:
    """Say on this request's line why it was refused: the error's stable code (the one the
    client gets), the names of the fields a validation refused (never their values) and, for
    a database that is unavailable, the database's reason."""
    if not has_request_context():
        return
    g.refusal_code = code
    # a field name may be the client's own (an unknown field): only plain names are written
    named = [name if FIELD_NAME.fullmatch(name) else "?" for name in map(str, fields)]
    if named:
        g.refusal_fields = named[:10]
    if cause:
        g.refusal_cause = " ".join(cause.split())[:200]


def _refusal(status: int) -> dict:
    """The refusal's fields for a 4xx/5xx line: the noted code, else the status's own."""
    code = g.get("refusal_code")
    if code is None:
        from .errors import HTTP_ERRORS  # a page that rendered its own 4xx (a form refused)

        code = HTTP_ERRORS.get(status, (None,))[0]
    found = {"code": code, "fields": g.get("refusal_fields"), "cause": g.get("refusal_cause")}
    return {key: value for key, value in found.items() if value}


def finish_request(response: Response) -> Response:
    """``after_request``: echo the id and write the request line; a refused request's line
    ends with why (``code=invalid_credentials``, ``fields=latitude``, ``cause=…``)."""
    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before start_request ran
        return response
    response.headers["X-Request-ID"] = request_id
    status = response.status_code
    level = (logging.WARNING if status >= 500 else
             logging.DEBUG if request.path.startswith(QUIET_PREFIXES) else logging.INFO)
    if log.isEnabledFor(level):
        milliseconds = round((time.perf_counter() - g.started) * 1000, 1)
        path = request.full_path.rstrip("?")[:300]
        refusal = _refusal(status) if status >= 400 else {}
        why = "".join(f" {key}={','.join(value) if isinstance(value, list) else value}"
                      for key, value in refusal.items())
        log.log(level, "%s %s %s %.1fms%s", request.method, path, status, milliseconds, why,
                extra={"method": request.method, "path": path, "status": status,
                       "ms": milliseconds, **refusal})
    return response


def init_app(app: Flask) -> None:
    """Install the hooks; call before any other ``before_request`` hook is registered."""
    app.before_request(start_request)
    app.after_request(finish_request)
