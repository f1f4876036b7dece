"""flask-smorest's Api, adapted to the product's single JSON error shape."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Api as _Api


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "稳定的错误代码，供程序判断"})
    message = ma.fields.String(required=True, metadata={
        "description": "给用户看的说明：默认中文，用户选择英文（?lang=en，会话记住）时为英文"})
    details = ma.fields.Raw(metadata={"description": "字段级的校验信息等"})
    request_id = ma.fields.String(metadata={
        "description": "服务器错误（5xx）时请求的编号，与响应头 X-Request-ID 相同，可据此查日志"})


class ErrorSchema(ma.Schema):
    """``{"error": {"code", "message", "details"}}`` — every API error looks like this."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


class Api(_Api):
    """Api whose documented and actual error bodies are ours, not flask-smorest's default.

    The handlers themselves live in :mod:`inspect_app.errors` and cover the whole app, so
    flask-smorest must not install its own.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass
