"""Domain errors and the two error shapes users see: JSON for the API, an error page for browsers.

Operations and model methods raise a :class:`DomainError` subclass; views never build error
responses by hand. Every error a client can see has a stable ``code`` for programs and a
``message`` for people, in the user's language: Chinese by default (and for every API client
without a session), English when the user chose it (``?lang=en``).

Messages are written in Chinese where they are raised and translated once, here, when the error
is serialised:

- mark the message for the catalogue with ``N_`` where it is written, and let the values that
  vary be named placeholders passed beside it, never an f-string::

      raise PhotoRefused(N_("最多上传 %(n)s 张照片"), n=limit, code="too_many_photos")

  (``code``, ``details`` and ``status`` are the error's own; any other keyword is a value of the
  message. A state or mode passed as its enum is shown by its label, in the user's language);
- a class's default ``message`` is marked with ``N_`` as well;
- code that cannot raise a ``DomainError`` (the pure core) builds a
  :class:`~inspect_app.messages.Message` instead, and so do details meant for people: in
  ``details`` only messages are translated, never the user's own data that may sit beside them.

``scripts/i18n.sh`` extracts them (keywords ``N_``, ``_l`` and ``Message``); English translations
go into ``inspect_app/translations/en/LC_MESSAGES/messages.po``. ``tests/test_error_messages.py``
fails when a message is raised unmarked or is missing from the catalogue.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .i18n import N_, localized, say
from .logs import note_refusal
from .messages import Message

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal that the user can understand. Subclasses fix the HTTP status."""

    status = 400
    code = "bad_request"
    message = N_("请求无效")

    def __init__(self, message: str | None = None, /, *, code: str | None = None,
                 details: Any = None, status: int | None = None, **params: Any):
        #: the Chinese text, which keeps its catalogue id and values (see the module docstring)
        self.message = Message(message or self.message, **params)
        super().__init__(self.message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details
        # A refusal names itself on its request's log line, also when a page catches it and
        # shows its form again with the message (error_response has the last word).
        note_refusal(self.code)


class NotAuthenticated(DomainError):
    status, code, message = 401, "not_authenticated", N_("请先登录")


class PermissionDenied(DomainError):
    status, code, message = 403, "forbidden", N_("您没有执行此操作的权限")


class NotFound(DomainError):
    status, code, message = 404, "not_found", N_("未找到该记录")


class Conflict(DomainError):
    status, code, message = 409, "conflict", N_("数据已被修改，请刷新后重试")


class InvalidInput(DomainError):
    status, code, message = 422, "invalid", N_("提交的数据不正确")


class MalformedInput(DomainError):
    status, code, message = 400, "malformed_json", N_("请求内容不是有效的 JSON")


class UnsupportedMediaType(DomainError):
    status, code, message = 415, "unsupported_media_type", N_("不支持的内容类型")


class IllegalTransition(DomainError):
    status, code, message = 409, "illegal_transition", N_("当前状态下不能执行此操作")


#: Chinese messages and stable codes for the HTTP errors Werkzeug and webargs raise (said in the
#: user's language, like every error).
HTTP_ERRORS = {
    400: ("bad_request", N_("请求格式不正确")),
    401: ("not_authenticated", N_("请先登录")),
    403: ("forbidden", N_("您没有执行此操作的权限")),
    404: ("not_found", N_("未找到该页面或记录")),
    405: ("method_not_allowed", N_("不支持该请求方法")),
    409: ("conflict", N_("数据冲突，请刷新后重试")),
    413: ("payload_too_large", N_("上传内容过大")),
    415: ("unsupported_media_type", N_("不支持的内容类型")),
    422: ("invalid", N_("提交的数据不正确")),
    429: ("too_many_requests", N_("操作过于频繁，请稍后再试")),
    500: ("server_error", N_("服务器内部错误，请稍后重试")),
    503: ("unavailable", N_("服务暂时不可用，请稍后重试")),
}


def wants_json() -> bool:
    """Whether the current request should get a JSON error rather than an HTML page (always
    for the API and the health check, whose callers are programs)."""
    if request.path.startswith(("/api/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" or request.is_json


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    """Render one error in the shape the client expects (JSON or the error page), its message
    and the messages in its details in the user's language."""
    note_refusal(code, fields=details.keys() if status == 422 and isinstance(details, dict)
                 else ())
    message, details = say(message), localized(details)
    # a server error names its request, so the user can quote it and the log shows the rest
    request_id = g.get("request_id") if status >= 500 else None
    if wants_json():
        body: dict[str, Any] = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        if request_id:
            body["request_id"] = request_id
        response = jsonify(error=body)
    else:
        response = Response(render_template("errors/error.html", status=status, code=code,
                                            message=message, request_id=request_id))
    response.status_code = status
    return response


def http_error_response(exc: HTTPException) -> Response:
    """Turn a Werkzeug/webargs HTTP error into our error shape, keeping validation details."""
    status = exc.code or 500
    code, message = HTTP_ERRORS.get(status, ("error", exc.description or N_("请求失败")))
    details = None
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        # webargs/flask-smorest put schema messages under "messages", keyed by location.
        messages = data.get("messages")
        if isinstance(messages, dict) and len(messages) == 1:
            messages = next(iter(messages.values()))
        # Only the schemas' validation messages are in there (never the user's data), so each
        # is said in the user's language when the catalogue knows it (the project's Chinese
        # ones; marshmallow's own are English already).
        details = _translated_leaves(messages)
        if status == 400 and messages:
            code, message = "malformed_json", N_("请求内容不是有效的 JSON")
    if status == 429:
        message = too_many_message()
    response = error_response(status, code, message, details)
    for name, value in (exc.get_headers() if hasattr(exc, "get_headers") else []):
        if name.lower() not in {"content-type", "content-length"}:
            response.headers[name] = value
    return response


def too_many_message() -> str:
    """What a rate limit's refusal says: how many seconds to wait (what its ``Retry-After``
    will say), or "later" when the limiter cannot tell."""
    from .extensions import limiter

    try:
        current = limiter.current_limit
        wait = max(1, int(current.reset_at - time.time())) if current else None
    except Exception:  # noqa: BLE001 - the storage is unreachable: the generic message will do
        wait = None
    if wait is None:
        return HTTP_ERRORS[429][1]
    return Message(N_("操作过于频繁，请 %(seconds)s 秒后再试"), seconds=wait)


def _translated_leaves(value: Any) -> Any:
    if isinstance(value, dict):
        # a multipart part without a name arrives keyed None: keys must be text to serialise
        return {"_unnamed" if key is None else str(key): _translated_leaves(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_translated_leaves(item) for item in value]
    return say(value) if isinstance(value, str) else value


#: SQLSTATE classes that mean "try again": connection exceptions (08), transaction rollbacks
#: such as deadlocks and serialisation failures (40), insufficient resources (53), lock not
#: available (55P03) and operator intervention such as a shutdown (57P).
RETRYABLE_SQLSTATES = ("08", "40", "53", "55P03", "57P")


def database_unavailable(exc: DBAPIError) -> bool:
    """Whether a database error is transient: a retry of the same request may succeed."""
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg
    if sqlstate:
        return sqlstate.startswith(RETRYABLE_SQLSTATES)
    # no SQLSTATE: psycopg could not reach the server at all, or SQLite is busy
    text = str(exc.orig).lower()
    return "database is locked" in text or "connection" in text or "connect to server" in text


def unique_violation(exc: DBAPIError) -> bool:
    """Whether a write collided on a unique key with a row another request wrote meanwhile
    (two administrators creating the same username at once, past the check made before)."""
    if getattr(exc.orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        return True
    return "unique constraint failed" in str(exc.orig).lower()  # SQLite


def _first(exc: DBAPIError) -> str:
    """The database's own reason, first line only (never the statement or its values)."""
    return str(exc.orig).splitlines()[0] if exc.orig else str(exc)


def _retry_soon(status: int, code: str, message: str):
    """A refusal that nothing was written and the same request may be sent again in a second."""
    response = error_response(status, code, message)
    response.headers["Retry-After"] = "1"
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the handlers that give every error one of our two shapes."""

    @app.errorhandler(DomainError)
    def handle_domain_error(exc: DomainError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        return http_error_response(exc)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def handle_out_of_range(exc: Exception):
        # A number the database column cannot hold (e.g. ?outlet_id=99999999999 on a 32-bit
        # PostgreSQL integer): the request is wrong, not the server.
        log.info("value out of range on %s %s: %s", request.method, request.path, exc)
        return error_response(422, "out_of_range", N_("数值超出允许范围"))

    @app.errorhandler(DBAPIError)
    def handle_database_error(exc: DBAPIError):
        if unique_violation(exc):
            # Nothing was written. A retry sees the other request's row and gets the answer
            # that fits (the stored record, or "username taken"), so clients retry this.
            log.info("write conflict on %s %s: %s", request.method, request.path, _first(exc))
            return _retry_soon(409, "write_conflict", N_("另一个请求同时写入了相同的数据，请稍后重试"))
        if not database_unavailable(exc):
            return handle_unexpected(exc)
        # The connection died (database restart, failover) or the database asked us to retry
        # (deadlock, serialisation failure, lock timeout): nothing was committed, so the
        # client's retry with the same keys is safe. The request's own line (a WARNING, as
        # for every 5xx) says so, with the database's reason: one line per such request.
        note_refusal("database_unavailable", cause=_first(exc))
        return _retry_soon(503, "database_unavailable", N_("数据库暂时不可用，请稍后重试"))

    @app.teardown_appcontext
    def end_session(exc: BaseException | None) -> None:
        # Runs before Flask-SQLAlchemy's own teardown (the last registered runs first): a
        # connection that died after the answer was made (a database restart) is dropped here,
        # not rolled back, since that ROLLBACK would fail and turn an answered request into a 500.
        try:
            db.session.remove()
        except DBAPIError as error:
            if not database_unavailable(error):
                raise
            log.warning("database connection lost while ending a request: %s",
                        str(error.orig).splitlines()[0] if error.orig else error)
            try:
                db.session.registry().invalidate()
            finally:
                db.session.registry.clear()

    @app.errorhandler(StaleDataError)
    def handle_concurrent_update(exc: StaleDataError):
        # Another request changed the row between our read and our write (optimistic lock).
        return error_response(409, "concurrent_update", N_("数据已被他人同时修改，请刷新后重试"))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # Never show a stack trace to a user; the log has it.
        log.exception("Unhandled error on %s %s", request.method, request.path)
        code, message = HTTP_ERRORS[500]
        return error_response(500, code, message)
