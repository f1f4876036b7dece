"""客户满意银行 — service inspections for a bank's outlet network.

``create_app`` builds the Flask application: configuration, extensions, blueprints, CLI.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the application; ``config`` overrides settings (tests pass a database URL)."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    from .cli import CommandLine

    # before any extension adds a command (Flask-Migrate's db): each runs inside its handlers
    app.cli = CommandLine(app.name)
    app.config.update(_settings(app.instance_path))
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # the client's address and scheme as the trusted proxies saw them, not the proxy's
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    from . import logs

    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"],
                   app.config["BABEL_DEFAULT_TIMEZONE"])

    from . import errors, models, security  # noqa: F401  (models: every table known to Alembic)
    from .auth import session
    from .extensions import api, babel, db, limiter, migrate
    from .i18n import current_language, month_name, score_text, select_locale

    db.init_app(app)
    from .db import ping_when_idle

    with app.app_context():
        for engine in db.engines.values():
            ping_when_idle(engine, app.config["DB_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["month_name"] = month_name
    app.jinja_env.filters["score"] = score_text
    limiter.init_app(app)
    api.init_app(app, spec_kwargs={"info": {"description": _API_DESCRIPTION}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    logs.init_app(app)  # first: every later hook's log lines name the request
    session.init_app(app)
    security.init_app(app)  # after the session hooks: it reads g.user
    errors.register_error_handlers(app)
    _register_blueprints(app, api)
    _register_cli(app)
    if not app.testing and not _running_db_command():
        _warn_if_not_migrated(app)
    return app


def _running_db_command() -> bool:
    """Whether this process is ``flask db …``: its own job is the schema, it needs no hint."""
    return "db" in sys.argv[1:]


def _warn_if_not_migrated(app: Flask) -> None:
    """One ERROR line at start-up when the database has no tables or is behind the latest
    migration. Migrations are never applied automatically, and without this an unmigrated
    database only shows as a 500 on every sign-in (``relation "users" does not exist``).
    One query; a database that cannot be reached is left to the request-time handling."""
    import logging

    import sqlalchemy as sa
    from alembic.script import ScriptDirectory

    from .extensions import db

    try:
        with app.app_context(), db.engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                current = None
            else:
                current = connection.execute(
                    sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.OperationalError:
        return  # unreachable: not this check's business
    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    if current not in heads:
        state = ("has no tables" if current is None else
                 f"is not at the latest migration (it is at {current}, the latest is "
                 f"{', '.join(heads)})")
        logging.getLogger(__name__).error(
            "The database %s: run `flask --app inspect_app db upgrade` (every request that "
            "reads it will fail until then)", state)


#: gunicorn's exit status for "the app failed to load": the arbiter stops instead of starting
#: one worker after another into the same bad setting (any other status means "respawn").
APP_LOAD_ERROR = 4


def _settings(instance_path: str) -> dict[str, Any]:
    """The environment's settings; a bad one stops the process with one line naming it (no
    traceback: the line says everything the administrator needs)."""
    from .config import ConfigError, load_config

    try:
        return load_config(instance_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr, flush=True)
        raise SystemExit(APP_LOAD_ERROR) from None


_API_DESCRIPTION = (
    "网点服务检查（自查、互查、抽查、暗访）、整改与名单式管理的 JSON API。"
    "先用 `POST /api/v1/auth/token` 换取令牌，再在请求头中带上 `Authorization: Bearer <token>`。"
    "所有错误的格式都是 `{\"error\": {\"code\", \"message\", \"details\"}}`。"
)


def _register_blueprints(app: Flask, api) -> None:
    from .audit.api import blp as audit_api
    from .audit.views import bp as audit_pages
    from .auth.api import blp as auth_api
    from .auth.people import bp as people_pages
    from .auth.views import bp as auth_pages
    from .checklists.api import blp as checklists_api
    from .checklists.views import bp as standards_pages
    from .evidence.api import blp as evidence_api
    from .inspections.api import blp as inspections_api
    from .inspections.views import bp as campaign_pages
    from .orgs.api import blp as orgs_api
    from .rectification.api import blp as rectification_api
    from .watchlist import hooks as watchlist_hooks
    from .watchlist.api import blp as watchlist_api
    from .watchlist.views import bp as manage_pages

    for blueprint in (auth_api, orgs_api, audit_api, checklists_api, inspections_api,
                      evidence_api, watchlist_api, rectification_api):
        api.register_blueprint(blueprint)
    app.register_blueprint(auth_pages)
    app.register_blueprint(manage_pages)
    app.register_blueprint(standards_pages)
    app.register_blueprint(campaign_pages)
    app.register_blueprint(audit_pages)
    app.register_blueprint(people_pages)
    watchlist_hooks.init_app(app)
    from .pwa.views import bp as pwa_pages

    app.register_blueprint(pwa_pages)
    from .health import bp as health_check

    app.register_blueprint(health_check)


def _register_cli(app: Flask) -> None:
    from .backup.cli import register as register_backup
    from .cli import register
    from .rectification.cli import register as register_rectification
    from .watchlist.cli import register as register_watchlist

    register(app)
    register_backup(app)
    register_rectification(app)
    register_watchlist(app)
