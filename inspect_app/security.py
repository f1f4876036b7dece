"""Browser-facing hardening: security headers on every response, and deny-by-default for the API.

- A strict Content-Security-Policy: scripts, styles, workers and the manifest only from this
  origin, no inline code, no framing. Pages and the PWA therefore keep every script and style
  in ``static/`` (a test crawls the pages for inline ``<script>`` and ``on*=`` attributes).
- ``Cache-Control: no-store`` on authenticated API JSON, so a shared phone or a proxy never
  keeps a copy of findings, people or audit entries.
- ``Strict-Transport-Security`` once cookies are marked Secure (i.e. the site is behind HTTPS).
- Every ``/api/`` endpoint needs a signed-in caller unless it is listed in
  :data:`PUBLIC_API_ENDPOINTS`: a new endpoint that forgets ``current_user()`` is still closed.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from werkzeug.routing import IntegerConverter

from .api.fields import MAX_ID, UNSTORABLE, unstorable
from .auth.session import UNSAFE_METHODS
from .errors import InvalidInput, MalformedInput, NotAuthenticated, UnsupportedMediaType
from .i18n import N_

#: The policy the pages and the PWA are written for (no inline scripts or styles).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
])

#: Inspectors take photos and the app records where; nothing else is needed from the device.
PERMISSIONS_POLICY = ("camera=(self), geolocation=(self), microphone=(), payment=(), usb=(), "
                      "interest-cohort=()")

STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: ``(endpoint, method)`` pairs under ``/api/`` that anonymous callers may reach.
PUBLIC_API_ENDPOINTS = {
    ("auth_api.Tokens", "POST"),          # exchange a password for a token
    ("api-docs.openapi_json", "GET"),     # the OpenAPI document itself
}


def require_api_authentication() -> None:
    """``before_request``: refuse anonymous calls to any API endpoint not explicitly public.

    Runs after the user is loaded, so an invalid or expired token gets its own 401 code.
    Unknown paths fall through to the normal 404.
    """
    if not request.path.startswith("/api/") or request.endpoint is None:
        return
    if request.method == "OPTIONS" or g.get("user") is not None:
        return
    method = "GET" if request.method == "HEAD" else request.method
    if (request.endpoint, method) in PUBLIC_API_ENDPOINTS:
        return
    if g.get("auth_via") == "invalid_token":
        raise NotAuthenticated(N_("访问令牌无效、已过期或已撤销"), code="invalid_token")
    raise NotAuthenticated()


def refuse_unstorable_text() -> None:
    """``before_request``: refuse text no database stores (:func:`~.api.fields.unstorable`)
    anywhere in a query, a form or a JSON body. A NUL character (``\\0``) PostgreSQL cannot
    store and SQLite would keep, so the same request would be saved on one database and refused
    on the other, and a backup from SQLite could not be restored on PostgreSQL; half a
    surrogate pair neither can encode (a 500). No person types either.

    Also the one place a JSON body is first decoded: JSON nested beyond the parser's depth is
    a 400 here (Flask caches the result for the view)."""
    found = unstorable([value for _, values in request.args.lists() for value in values])
    if not found and request.is_json:
        try:
            found = unstorable(request.get_json(silent=True))
        except RecursionError:
            raise MalformedInput(N_("请求内容嵌套层次过深"), code="too_deep") from None
    elif not found and request.mimetype in FORM_TYPES:
        found = unstorable([value for _, values in request.form.lists() for value in values])
    if found:
        raise InvalidInput(UNSTORABLE[found], code=found)


#: Bodies whose fields Werkzeug parses into ``request.form``.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def refuse_unknown_body_types() -> None:
    """``before_request``: an API request whose body is neither JSON nor a form gets 415, not
    a 422 saying that every field is missing (its body would never be read)."""
    if (request.path.startswith("/api/") and request.method in UNSAFE_METHODS
            and request.content_length and not request.is_json
            and request.mimetype not in FORM_TYPES):
        raise UnsupportedMediaType(N_("请求内容须为 JSON（application/json）或表单"),
                                   code="unsupported_media_type")


def add_security_headers(response: Response) -> Response:
    """``after_request``: the headers every page, file and JSON answer carries."""
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security",
                                    "max-age=31536000; includeSubDomains")
    if (request.path.startswith("/api/") and g.get("user") is not None
            and response.mimetype == "application/json"):
        # Personal data: never cached by a browser, a proxy or the PWA's HTTP cache.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` that only matches numbers an id column can hold: a larger one is simply not
    found (404) instead of overflowing the database query (a 500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Install the hooks; call after the session hooks (they set ``g.user``) and before any
    blueprint is registered (their rules use the ``int`` converter)."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(require_api_authentication)
    app.before_request(refuse_unknown_body_types)
    app.before_request(refuse_unstorable_text)
    app.after_request(add_security_headers)
