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


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


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


def load_config(instance_path: str) -> dict:
    """Build the configuration mapping for an app whose instance folder is ``instance_path``."""
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'inspect.sqlite3'}"
    if database_url.startswith("postgres://"):
        # Heroku-style URLs name the old driver; psycopg 3 is what we install.
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A database error in the log names the statement, never its values (password hashes,
        # names): what a failing request wrote stays out of the log.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
        # A pooled connection idle this long is pinged before use (inspect_app/db.py).
        "DB_PING_IDLE_SECONDS": _int("DB_PING_IDLE_SECONDS", 10),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 25) * 1024 * 1024,
        # Sessions: signed cookies, never readable from JavaScript.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_HOURS", 12)),
        # Write the cookie only when the session changed (sign-in, language, the idle clock
        # once a minute): a request sent before a change would otherwise answer with the old
        # cookie and undo it, e.g. the language chosen while the page's API reads were running.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Sign-in protection.
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCKOUT_MINUTES": _int("LOGIN_LOCKOUT_MINUTES", 15),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "20 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: each worker counts in memory (a warning in the log) until it is back,
        # rather than refusing every sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Behind a reverse proxy (nginx): how many proxies' X-Forwarded-For/-Proto to trust,
        # for the client's address (rate limits, audit) and scheme. 0: trust none.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "API_TOKEN_HOURS": _int("API_TOKEN_HOURS", 24 * 7),
        # Files.
        # Photo evidence: see inspect_app/evidence/storage.py for the backends.
        "PHOTO_STORAGE": os.environ.get("PHOTO_STORAGE", "local"),
        "PHOTO_STORAGE_ROOT": os.environ.get("PHOTO_STORAGE_ROOT", str(instance / "photos")),
        **{key: os.environ.get(key) for key in (
            "PHOTO_S3_BUCKET", "PHOTO_S3_ENDPOINT_URL", "PHOTO_S3_REGION",
            "PHOTO_S3_ACCESS_KEY_ID", "PHOTO_S3_SECRET_ACCESS_KEY")},
        "PHOTO_S3_PREFIX": os.environ.get("PHOTO_S3_PREFIX", ""),
        "REDIS_URL": os.environ.get("REDIS_URL"),
        # Internationalisation: Simplified Chinese by default, English available.
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "zh"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
        "LANGUAGES": ["zh", "en"],
        # OpenAPI document (flask-smorest).
        "API_TITLE": "客户满意银行 服务检查 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # "text" (one readable line per record) or "json" (one object per line): logs.py
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
    }
