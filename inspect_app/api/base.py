"""flask-smorest's Api, adapted to the product's single JSON error shape."""
from __future__ import annotations

import json
import threading

import marshmallow as ma
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

#: The documented body of a download (a PDF, a workbook, a ZIP): bytes of the response's type.
BINARY = {"type": "string", "format": "binary"}


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

    # The OpenAPI document is written when it is first read, not at start-up: describing
    # every view (each schema turned into JSON Schema) is most of what building the app
    # costs, and a worker that never serves /api/v1/openapi.json never needs it.

    @property
    def spec(self):
        """The OpenAPI document, with every registered blueprint's views described."""
        if self._undocumented:
            with self._documenting:
                # taken off the list once described: another thread finding it empty must
                # not read the document while the last blueprint is still being added
                while self._undocumented:
                    app, blp, name, parameters = self._undocumented[0]
                    blp.register_views_in_doc(self, app, self._spec, name=name,
                                              parameters=parameters)
                    self._spec.tag({"name": name, "description": blp.description})
                    self._undocumented.pop(0)
        return self._spec

    @spec.setter
    def spec(self, value):
        # a new application's document (init_app): what was waiting belonged to the last one
        self._spec = value
        self._undocumented: list = []
        self._documenting = threading.Lock()

    def register_blueprint(self, blp, *, parameters=None, **options):
        """Register ``blp`` in the application now, and in the document when it is read."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((self._app, blp, name, parameters))


class Parser(FlaskParser):
    """webargs' Flask parser plus the ``multipart`` location: a multipart form's fields and
    files read by one schema, so the OpenAPI document shows them in one request body (two
    ``@arguments``, ``form`` and ``files``, would document only the first)."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.files, req.form]), schema)

    def _raw_load_json(self, req):
        # An integer of more than 4300 digits is a ValueError, not a JSONDecodeError, to
        # Python's parser: said as malformed JSON (400) like any other, not a server error.
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except ValueError as exc:
            raise json.JSONDecodeError(str(exc), "(the request body)", 0) from exc


class Blueprint(_Blueprint):
    """flask-smorest's Blueprint with :class:`Parser` (``location="multipart"``), whose
    documented refusals (4xx, 5xx) show the error body unless told otherwise."""

    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**_Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}

    def alt_response(self, status_code, response=None, *, schema=None, **kwargs):
        if response is None and schema is None and int(status_code) >= 400:
            schema = ErrorSchema
        return super().alt_response(status_code, response, schema=schema, **kwargs)
