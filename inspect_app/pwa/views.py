"""Pages of the app (thin shells filled from the JSON API), the service worker and the manifest."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.permissions import Permission
from ..auth.session import csrf_token, login_required
from ..i18n import bank_timezone
from ..inspections.campaigns import may_be_assigned
from ..rectification.access import reviews_fixes
from .strings import translated_strings

bp = Blueprint("pwa", __name__)

#: The app shell: the static files every app page needs offline (precached by the worker).
SHELL_ASSETS = ("css/app.css", "js/app.js", "js/idb.js", "js/api.js", "js/store.js",
                "js/sync.js", "js/photos.js", "js/form.js", "js/tasks.js", "js/results.js",
                "js/rectification.js", "js/paged.js",
                "icons/icon.svg", "icons/icon-192.png", "icons/icon-512.png",
                "icons/icon-maskable-512.png", "icons/apple-touch-icon.png")
#: Pages the service worker tries to keep for offline use (only cached when signed in).
SHELL_PAGES = ("/", "/tasks", "/results")
THEME_COLOR = "#c8102e"
BACKGROUND_COLOR = "#f5f6f8"


@bp.app_context_processor
def navigation():
    """``nav_links``: where the signed-in person can go; ``lang_url``: this page in a language."""
    return {"nav_links": _nav_links, "lang_url": _lang_url}


def _nav_links() -> list[tuple[str, str]]:
    user = g.get("user")
    if user is None:
        return []
    links = []
    if may_be_assigned(user):  # outlet managers too: their self-checks are assignments
        links.append((url_for("pwa.tasks"), _("我的任务")))
    if user.can(Permission.rectification_submit):
        links.append((url_for("pwa.rectification"), _("我的整改")))
    elif reviews_fixes(user):
        links.append((url_for("pwa.rectification"), _("整改验收")))
    if user.can(Permission.inspections_read):
        links.append((url_for("pwa.results"), _("我的结果")
                      if not user.can(Permission.inspections_review) else _("检查结果")))
    if user.can(Permission.inspections_review):
        links.append((url_for("pwa.appeals"), _("申诉处理")))
    if user.can(Permission.reports_read):  # what /manage/* asks of its readers
        links.append((url_for("manage.watchlist"), _("管理看板")))
    elif user.can(Permission.checklists_manage):  # an administrator: the standards only
        links.append((url_for("standards.index"), _("检查标准")))
    if not user.can(Permission.reports_read):  # a manager reaches these by the tabs
        if user.can(Permission.users_read):
            links.append((url_for("people.index"), _("人员管理")))
        if user.can(Permission.audit_read):
            links.append((url_for("audit_pages.index"), _("操作审计")))
    return links


def _lang_url(lang: str) -> str:
    """The current address with ``lang`` switched and every other parameter (e.g. ``next``) kept."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return request.path + "?" + urlencode(args, doseq=True)


def _shell(template: str, **context):
    # the bank's time zone: the scripts judge "today" (e.g. past a form's window) as it does
    return render_template(template, js_strings=translated_strings(),
                           bank_timezone=bank_timezone().key, **context)


@bp.get("/tasks")
@login_required
def tasks():
    """我的任务: the inspector's or mystery shopper's assignments with their sync state."""
    return _shell("pwa/tasks.html")


@bp.get("/tasks/<int:inspection_id>")
@login_required
def form(inspection_id: int):
    """The form of one assignment (the script reads the id from the address)."""
    return _shell("pwa/form.html")


@bp.get("/results")
@login_required
def results():
    """我的结果: submitted inspections of the outlets the user may see, read-only."""
    return _shell("pwa/results.html")


@bp.get("/results/<int:inspection_id>")
@login_required
def result(inspection_id: int):
    """One submitted inspection, read-only (mystery visits show "神秘人" and a date only)."""
    return _shell("pwa/result.html")


@bp.get("/appeals")
@login_required
def appeals():
    """申诉处理: reviewers uphold or overturn the outlets' appeals against findings."""
    return _shell("pwa/appeals.html")


@bp.get("/rectification")
@login_required
def rectification():
    """我的整改: the outlet's open rectification items, each fixed with an after-photo; for
    those who accept fixes (整改验收), the submitted fixes to accept or send back first."""
    user = g.user
    reviewer = reviews_fixes(user)
    heading = _("整改验收") if reviewer and not user.can(Permission.rectification_submit) \
        else _("我的整改")
    return _shell("pwa/rectification.html", reviewer=reviewer, heading=heading)


@bp.get("/app/session")
def session_info():
    """The session's CSRF token for the scripts (a cached page may hold an older one)."""
    if g.get("user") is None or g.get("auth_via") != "session":
        response = jsonify(error={"code": "not_authenticated", "message": _("请先登录")})
        response.status_code = 401
    else:
        response = jsonify(csrf_token=csrf_token(), username=g.user.username)
    response.headers["Cache-Control"] = "no-store"
    return response


def _static_files() -> list[Path]:
    root = Path(current_app.static_folder)
    return [root / name for name in SHELL_ASSETS]


@lru_cache(maxsize=4)
def _fingerprint(signature: tuple) -> str:
    digest = hashlib.sha256()
    for name, _mtime, _size in signature:
        digest.update(name.encode())
        digest.update(Path(name).read_bytes())
    return digest.hexdigest()[:12]


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so it may control every page. Its cache name carries a
    fingerprint of the shell's files, so changing any of them installs a new version."""
    root = Path(current_app.static_folder)
    files = _static_files()
    signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    precache = [url_for("static", filename=str(p.relative_to(root)).replace("\\", "/"))
                for p in files]
    precache.append(url_for("pwa.manifest"))
    source = (root / "js" / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__VERSION__", _fingerprint(signature)) \
        .replace("__PRECACHE__", json.dumps(precache)) \
        .replace("__PAGES__", json.dumps(list(SHELL_PAGES)))
    response = Response(source, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: what the phone needs to install the app."""
    icon = lambda name, size, purpose: {  # noqa: E731
        "src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}",
        "type": "image/png", "purpose": purpose}
    body = {
        "id": "/",
        "name": "客户满意银行服务检查",
        "short_name": "服务检查",
        "description": "网点服务检查：自查、互查、抽查与神秘人暗访，离线可用",
        "lang": "zh-CN",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [icon("icon-192.png", 192, "any"), icon("icon-512.png", 512, "any"),
                  icon("icon-maskable-512.png", 512, "maskable")],
    }
    response = Response(json.dumps(body, ensure_ascii=False),
                        mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
