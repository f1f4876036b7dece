"""Settings, read from environment variables.

Every setting has a safe default for the embedded set-up (SQLite and local files under
``instance/``), so ``make run`` works on a fresh machine without any configuration. Production
sets at least ``SECRET_KEY`` and ``DATABASE_URL``.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .messages import Message

#: The levels ``LOG_LEVEL`` may name, and the formats of ``LOG_FORMAT`` (logs.py).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """A setting whose value the product cannot use. Raised at start-up, so a typo stops the
    app with one line naming the variable, instead of being ignored (``LOG_LEVEL=verbose``),
    disabling a protection (``LOGIN_RATE_LIMIT=lots``) or failing later without a name."""


def _raw(name: str) -> str | None:
    """The variable's value, or None when it is unset or blank (an ``.env`` line ``NAME=``
    means "the default", as it always has)."""
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


def _refuse(name: str, value: str, allowed: str) -> ConfigError:
    return ConfigError(Message("配置错误：环境变量 %(name)s 的值 “%(value)s” 无效，%(allowed)s",
                               name=name, value=value, allowed=allowed))


#: What a yes/no setting may say (anything else was read as "no": SESSION_COOKIE_SECURE=ture
#: would silently send session cookies over plain HTTP).
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() not in TRUE | FALSE:
        raise _refuse(name, value, Message("应为 true 或 false（也可写 1/0、yes/no、on/off）"))
    return value.lower() in TRUE


def _int(name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        allowed = (Message("应为 %(minimum)s 到 %(maximum)s 之间的整数", minimum=minimum,
                           maximum=maximum) if maximum is not None
                   else Message("应为不小于 %(minimum)s 的整数", minimum=minimum))
        raise _refuse(name, value, allowed)
    return number


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (compared case-insensitively, returned as spelt in ``choices``)."""
    value = _raw(name)
    if value is None:
        return default
    chosen = next((c for c in choices if c.lower() == value.lower()), None)
    if chosen is None:
        raise _refuse(name, value, Message("可选：%(choices)s", choices="、".join(choices)))
    return chosen


def _rate_limit(name: str, default: str) -> str:
    """A flask-limiter limit, checked with the parser flask-limiter uses: a string it cannot
    read makes it log an error on every request and let every attempt through."""
    value = _raw(name)
    if value is None:
        return default
    try:
        limits = parse_many(value)
    except ValueError:
        limits = []
    if not limits or any(limit.amount < 1 for limit in limits):
        raise _refuse(name, value, Message("应为限流写法，如 “20 per minute” 或 “5/minute;100/hour”"))
    return value


def _timezone(name: str, default: str) -> str:
    value = _raw(name)
    if value is None:
        return default
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise _refuse(name, value, Message("应为时区名称，如 Asia/Shanghai")) from None
    return value


#: The databases the product runs on, as SQLAlchemy names their dialect and driver: SQLite
#: (embedded set-up, tests) and PostgreSQL through psycopg 3, the one driver installed.
DATABASE_DRIVERS = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite",
                    "postgresql+psycopg": "postgresql"}


def _database_url(name: str, default: str) -> str:
    """The database URL, checked down to its driver: a scheme SQLAlchemy cannot load
    (``mysql://``, ``foo://``) or a driver that is not installed (``postgresql+psycopg2://``)
    would otherwise stop every worker with a traceback when the engine is made."""
    value = _raw(name) or default
    allowed = Message("应为数据库地址，如 postgresql+psycopg://用户:密码@主机/库名")
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # an unknown form; a port that is no number
        # not echoed: a mistyped URL may still hold the password
        raise _refuse(name, "…", allowed) from None
    if url.drivername in ("postgres", "postgresql"):
        # Heroku-style and driverless URLs name the old driver; psycopg 3 is what we install.
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
        url = url.set(drivername="postgresql+psycopg")
    # only the scheme is echoed, for the same reason
    if url.drivername not in DATABASE_DRIVERS:
        raise _refuse(name, f"{url.drivername}://…", Message(
            "只支持 SQLite（sqlite:///文件）和 PostgreSQL（postgresql+psycopg://用户:密码@主机/库名）"))
    try:
        url.get_dialect().import_dbapi()
    except ImportError:  # a broken install: the driver the product depends on is missing
        raise _refuse(name, f"{url.drivername}://…", Message(
            "数据库驱动未安装（PostgreSQL 需要 psycopg 3：pip install psycopg）")) from None
    return value


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once and kept in instance/.

    Keeping the generated key in a file means sessions survive a restart of the embedded
    set-up and every worker of one instance shares the same key.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _photo_storage(instance: Path) -> dict:
    """Where photo evidence is kept (evidence/storage.py), checked as far as can be without
    reaching the store: a missing bucket would otherwise pass start-up and fail every upload
    and photo view with a 500."""
    storage = _choice("PHOTO_STORAGE", "local", ("local", "s3"))
    settings = {key: _raw(key) for key in (
        "PHOTO_S3_BUCKET", "PHOTO_S3_ENDPOINT_URL", "PHOTO_S3_REGION",
        "PHOTO_S3_ACCESS_KEY_ID", "PHOTO_S3_SECRET_ACCESS_KEY")}
    if storage == "s3" and not settings["PHOTO_S3_BUCKET"]:
        raise _refuse("PHOTO_S3_BUCKET", "", Message("PHOTO_STORAGE=s3 时必须给出存储桶名称"))
    return {"PHOTO_STORAGE": storage,
            "PHOTO_STORAGE_ROOT": _raw("PHOTO_STORAGE_ROOT") or str(instance / "photos"),
            **settings,
            "PHOTO_S3_PREFIX": _raw("PHOTO_S3_PREFIX") or ""}


def load_config(instance_path: str) -> dict:
    """Build the configuration mapping for an app whose instance folder is ``instance_path``.

    Every setting the README documents is read here, typed and checked: a bad value raises
    :class:`ConfigError` naming the variable (``create_app`` turns it into one line and stops).
    """
    instance = Path(instance_path)
    database_url = _database_url("DATABASE_URL", f"sqlite:///{instance / 'inspect.sqlite3'}")
    return {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A database error in the log names the statement, never its values (password hashes,
        # names): what a failing request wrote stays out of the log.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
        # A pooled connection idle this long is pinged before use (inspect_app/db.py).
        "DB_PING_IDLE_SECONDS": _int("DB_PING_IDLE_SECONDS", 10, minimum=0),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 25) * 1024 * 1024,
        # Sessions: signed cookies, never readable from JavaScript.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_HOURS", 12)),
        # A session unused this long ends (auth/session.py), whatever SESSION_HOURS says.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 120),
        # Write the cookie only when the session changed (sign-in, language, the idle clock
        # once a minute): a request sent before a change would otherwise answer with the old
        # cookie and undo it, e.g. the language chosen while the page's API reads were running.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Sign-in protection.
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCKOUT_MINUTES": _int("LOGIN_LOCKOUT_MINUTES", 15),
        "LOGIN_RATE_LIMIT": _rate_limit("LOGIN_RATE_LIMIT", "20 per minute"),
        "RATELIMIT_STORAGE_URI": _raw("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: each worker counts in memory (a warning in the log) until it is back,
        # rather than refusing every sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Behind a reverse proxy (nginx): how many proxies' X-Forwarded-For/-Proto to trust,
        # for the client's address (rate limits, audit) and scheme. 0: trust none.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0, minimum=0, maximum=10),
        "API_TOKEN_HOURS": _int("API_TOKEN_HOURS", 24 * 7),
        # Files.
        # Photo evidence: see inspect_app/evidence/storage.py for the backends.
        **_photo_storage(instance),
        # Evidence flags (evidence/operations.py): farther than this from the outlet; a
        # difference hash this close to another photo's (at most 7 bits: the per-byte indexes).
        "PHOTO_MAX_DISTANCE_M": _int("PHOTO_MAX_DISTANCE_M", 500),
        "PHOTO_SIMILAR_HAMMING": _int("PHOTO_SIMILAR_HAMMING", 6, minimum=0, maximum=7),
        "APPEAL_DAYS": _int("APPEAL_DAYS", 7),
        # Bulk PDF exports (reports/jobs.py).
        "REPORT_WORKERS": _int("REPORT_WORKERS", 1),
        "REPORT_JOBS_SYNC": _bool("REPORT_JOBS_SYNC", False),
        "REPORT_JOB_STALE_MINUTES": _int("REPORT_JOB_STALE_MINUTES", 30),
        "REDIS_URL": _raw("REDIS_URL"),
        # Internationalisation: Simplified Chinese by default, English available.
        "BABEL_DEFAULT_LOCALE": _choice("DEFAULT_LOCALE", "zh", ("zh", "en")),
        "BABEL_DEFAULT_TIMEZONE": _timezone("TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ["zh", "en"],
        # OpenAPI document (flask-smorest).
        "API_TITLE": "客户满意银行 服务检查 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "LOG_LEVEL": _choice("LOG_LEVEL", "INFO", LOG_LEVELS),
        # "text" (one readable line per record) or "json" (one object per line): logs.py
        "LOG_FORMAT": _choice("LOG_FORMAT", "text", LOG_FORMATS),
    }
