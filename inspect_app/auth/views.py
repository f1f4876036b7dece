"""Pages: sign in, who am I, sign out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import DomainError, http_error_response, too_many_message, wants_json
from ..extensions import db, limiter
from ..i18n import say
from .operations import authenticate
from .permissions import ROLE_PERMISSIONS
from .session import login_required, sign_in, sign_out

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("auth.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if request.method == "GET":
        if g.user is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("auth/login.html", username="")
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")[:256]
    try:
        user = authenticate(username, password)
    except DomainError as exc:
        db.session.commit()  # the failure count and its audit entry must stick
        return render_template("auth/login.html", username=username,
                               error=say(exc.message)), exc.status
    db.session.commit()
    sign_in(user)
    return redirect(_safe_next(request.args.get("next")))


@bp.errorhandler(429)
def too_many_sign_ins(exc):
    """The sign-in page refused for too many attempts: the form again, saying how long to
    wait, rather than a bare error page (an API client gets the JSON error as everywhere)."""
    if request.endpoint != "auth.login" or wants_json():
        return http_error_response(exc)
    return render_template("auth/login.html", username=request.form.get("username", "")[:64],
                           error=say(too_many_message())), 429


@bp.post("/logout")
def logout():
    sign_out()
    flash(_("您已安全退出"))
    return redirect(url_for("auth.login"))


@bp.get("/")
@login_required
def home():
    """The signed-in person, their roles and what each role allows."""
    grants = [(grant, sorted(ROLE_PERMISSIONS[grant.role], key=lambda p: p.value))
              for grant in g.user.grants]
    return render_template("auth/me.html", grants=grants)
