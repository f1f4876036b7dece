"""The health check a load balancer, nginx or the bank's gateway probes: ``GET /healthz``.

It answers 200 ``{"status": "ok"}`` when the database answers and is migrated to the latest
revision, else 503 in the JSON error shape: ``database_unavailable`` (unreachable, restarting;
with ``Retry-After``) or ``not_migrated`` (run ``flask db upgrade``). A worker that answers
200 can serve sign-ins; ``GET /login`` could not tell (it reads no table, and sets a cookie).

Public, exempt from rate limits, no session cookie, and cheap: one query on a pooled
connection; the latest revision is read from the migration scripts once per process. Its
request lines are DEBUG while healthy (a probe every few seconds is not news), WARNING when not.
"""
from __future__ import annotations

import functools

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import DBAPIError

from .errors import DomainError, database_unavailable
from .extensions import db, limiter
from .i18n import N_

bp = Blueprint("health", __name__)


class NotMigrated(DomainError):
    status, code = 503, "not_migrated"
    message = N_("数据库尚未迁移到最新版本，请运行 flask --app inspect_app db upgrade")


@functools.cache
def latest_revisions(directory: str) -> frozenset[str]:
    """The head revision(s) of the migration scripts in ``directory`` (read once)."""
    return frozenset(ScriptDirectory(directory).get_heads())


def _missing_table(exc: DBAPIError) -> bool:
    """Whether the database has no ``alembic_version`` table (nothing migrated yet)."""
    return (getattr(exc.orig, "sqlstate", None) == "42P01"  # psycopg: undefined_table
            or "no such table" in str(exc.orig).lower())  # SQLite


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when the database answers and is at the latest migration, else 503."""
    try:
        with db.engine.connect() as connection:
            current = connection.execute(
                sa.text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        if database_unavailable(exc) or not _missing_table(exc):
            raise  # errors.py: 503 database_unavailable, or a 500 with its traceback logged
        current = None
    if current not in latest_revisions(current_app.extensions["migrate"].directory):
        raise NotMigrated()
    return jsonify(status="ok")
