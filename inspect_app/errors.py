"""Domain errors and the two error shapes users see: JSON for the API, a Chinese page for browsers.

Operations and model methods raise a :class:`DomainError` subclass; views never build error
responses by hand. Every error a client can see has a stable ``code`` for programs and a
``message`` in Chinese for people.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .i18n import N_

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal that the user can understand. Subclasses fix the HTTP status."""

    status = 400
    code = "bad_request"
    message = "请求无效"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: Any = None, status: int | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details


class NotAuthenticated(DomainError):
    status, code, message = 401, "not_authenticated", "请先登录"


class PermissionDenied(DomainError):
    status, code, message = 403, "forbidden", "您没有执行此操作的权限"


class NotFound(DomainError):
    status, code, message = 404, "not_found", "未找到该记录"


class Conflict(DomainError):
    status, code, message = 409, "conflict", "数据已被修改，请刷新后重试"


class InvalidInput(DomainError):
    status, code, message = 422, "invalid", "提交的数据不正确"


class IllegalTransition(DomainError):
    status, code, message = 409, "illegal_transition", "当前状态下不能执行此操作"


#: Chinese messages and stable codes for the HTTP errors Werkzeug and webargs raise (the API
#: says them in Chinese; the error page in the reader's language).
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
    """Whether the current request should get a JSON error rather than an HTML page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" or request.is_json


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    """Render one error in the shape the client expects (JSON or the Chinese error page)."""
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
        # a message the catalogue knows (the HTTP errors above) in the page's language; any
        # other comes as it was raised
        response = Response(render_template("errors/error.html", status=status, code=code,
                                            message=gettext(message), request_id=request_id))
    response.status_code = status
    return response


def http_error_response(exc: HTTPException) -> Response:
    """Turn a Werkzeug/webargs HTTP error into our error shape, keeping validation details."""
    status = exc.code or 500
    code, message = HTTP_ERRORS.get(status, ("error", exc.description or "请求失败"))
    details = None
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        # webargs/flask-smorest put schema messages under "messages", keyed by location.
        messages = data.get("messages")
        if isinstance(messages, dict) and len(messages) == 1:
            messages = next(iter(messages.values()))
        details = messages
        if status == 400 and messages:
            code, message = "malformed_json", "请求内容不是有效的 JSON"
    response = error_response(status, code, message, details)
    for name, value in (exc.get_headers() if hasattr(exc, "get_headers") else []):
        if name.lower() not in {"content-type", "content-length"}:
            response.headers[name] = value
    return response


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
        return error_response(422, "out_of_range", "数值超出允许范围")

    @app.errorhandler(DBAPIError)
    def handle_database_error(exc: DBAPIError):
        if not database_unavailable(exc):
            return handle_unexpected(exc)
        # The connection died (database restart, failover) or the database asked us to retry
        # (deadlock, serialisation failure, lock timeout): nothing was committed, so the
        # client's retry with the same keys is safe.
        log.warning("database unavailable on %s %s: %s", request.method, request.path,
                    str(exc.orig).splitlines()[0] if exc.orig else exc)
        response = error_response(503, "database_unavailable", "数据库暂时不可用，请稍后重试")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(StaleDataError)
    def handle_concurrent_update(exc: StaleDataError):
        # Another request changed the row between our read and our write (optimistic lock).
        return error_response(409, "concurrent_update", "数据已被他人同时修改，请刷新后重试")

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # Never show a stack trace to a user; the log has it.
        log.exception("Unhandled error on %s %s", request.method, request.path)
        code, message = HTTP_ERRORS[500]
        return error_response(500, code, message)
