"""Who is asking: the signed-in user from the session cookie or a bearer token, plus CSRF.

Pages use a signed session cookie (HttpOnly, SameSite) and a CSRF token on every state-changing
request. API clients use ``Authorization: Bearer <token>``; requests authenticated that way
carry no ambient credentials and need no CSRF token.
"""
from __future__ import annotations

import functools
import hmac
import secrets
from datetime import timedelta

from flask import Blueprint, Flask, abort, current_app, g, redirect, request, session, url_for

from ..db import utcnow
from ..errors import DomainError, NotAuthenticated
from ..extensions import db
from ..i18n import N_
from ..logs import note_user
from .models import ApiToken, User
from .operations import user_for_token
from .permissions import Permission

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class CSRFFailed(DomainError):
    status, code, message = 400, "csrf_failed", N_("页面已过期或请求来源不可信，请刷新页面后重试")


def csrf_token() -> str:
    """The CSRF token of this session, created on first use (templates call this)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def sign_in(user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token too: no session fixation)."""
    note_user(user.username)  # the sign-in's own log line names who signed in
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["epoch"] = user.session_epoch
    session["auth_at"] = utcnow().timestamp()
    session["seen_at"] = session["auth_at"]
    session["csrf"] = secrets.token_urlsafe(32)
    if lang:
        session["lang"] = lang


def sign_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _session_user() -> User | None:
    uid = session.get("uid")
    if uid is None:
        return None
    now = utcnow().timestamp()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    if now - session.get("seen_at", 0) > idle or now - session.get("auth_at", 0) > absolute:
        sign_out()
        return None
    user = db.session.get(User, uid)
    if user is None or not user.is_active or session.get("epoch") != user.session_epoch:
        sign_out()
        return None
    if now - session.get("seen_at", 0) > 60:  # avoid rewriting the cookie on every request
        session["seen_at"] = now
    return user


#: The usernames behind the bearer tokens (by hash) and sessions (by user id) this process saw
#: lately. Only for the log: when the database is unavailable the user cannot be loaded, and
#: the 503's line still names whose request it refused. Emptied when full.
_RECENT_NAMES: dict[str, str] = {}
RECENT_NAMES_MAX = 4096


def _credential_key() -> str | None:
    """What identifies the request's credential in :data:`_RECENT_NAMES` (never the secret)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return "token:" + ApiToken.hash(header[7:].strip())
    uid = session.get("uid")
    return f"uid:{uid}" if uid is not None else None


def load_current_user() -> None:
    """``before_request``: set ``g.user`` and how they authenticated (``g.auth_via``)."""
    g.user, g.auth_via, g.token = None, None, None
    # for the log lines (logs.py), which must not query the database: until the user is
    # loaded, whoever last came with the same credential (kept if loading fails: a 503)
    key = _credential_key()
    g.username = _RECENT_NAMES.get(key, "-") if key else "-"
    _load_current_user()
    g.username = g.user.username if g.user is not None else "-"
    if g.user is not None and key and _RECENT_NAMES.get(key) != g.username:
        if len(_RECENT_NAMES) >= RECENT_NAMES_MAX:
            _RECENT_NAMES.clear()
        _RECENT_NAMES[key] = g.username


def _load_current_user() -> None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        found = user_for_token(header[7:].strip())
        if found is not None:
            g.user, g.token = found
            g.auth_via = "token"
            if g.token.last_used_at is None or utcnow() - g.token.last_used_at > timedelta(minutes=5):
                g.token.last_used_at = utcnow()
                db.session.commit()
        else:
            g.auth_via = "invalid_token"
        return
    user = _session_user()
    if user is not None:
        g.user, g.auth_via = user, "session"


def check_csrf() -> None:
    """``before_request``: refuse a state-changing request that rides on the session cookie
    (or posts a page form) without the session's CSRF token."""
    if request.method not in UNSAFE_METHODS or g.auth_via in {"token", "invalid_token"}:
        return
    is_api = request.path.startswith("/api/")
    if is_api and g.auth_via is None:
        return  # no ambient credentials to abuse (e.g. POST /api/v1/auth/token)
    expected = session.get("csrf")
    given = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CSRFFailed()


def current_user() -> User:
    """The signed-in user, or a 401 error."""
    if g.get("user") is None:
        if g.get("auth_via") == "invalid_token":
            raise NotAuthenticated(N_("访问令牌无效、已过期或已撤销"), code="invalid_token")
        raise NotAuthenticated()
    return g.user


def login_required(view):
    """Page decorator: send anonymous visitors to the sign-in page and back afterwards."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def pages_need(blueprint: Blueprint, permission: Permission) -> None:
    """Every page of ``blueprint``: sign-in first (a visitor is sent to the sign-in page), then
    ``permission`` somewhere (403 without it); finer checks stay with each view."""

    @blueprint.before_request
    @login_required
    def require_permission():
        if not g.user.can(permission):
            abort(403)


def may(permission: str) -> bool:
    """For templates: whether the signed-in person holds ``permission`` (e.g. "reports.read")."""
    user = g.get("user")
    return user is not None and user.can(Permission(permission))


def init_app(app: Flask) -> None:
    app.before_request(load_current_user)
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["may"] = may

    @app.context_processor
    def inject_user():
        return {"current_user": g.get("user")}


