"""Settings: every documented one is read from the environment, typed, and a bad value stops the
app at start-up with one line naming it (not silently ignored, not a traceback later)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from inspect_app import APP_LOAD_ERROR, create_app
from inspect_app.config import ConfigError, load_config

README = Path(__file__).resolve().parent.parent / "README.md"
#: A setting's name as the README writes it: `UPPER_CASE` in backticks.
NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def documented_settings() -> set[str]:
    """Every variable the README's configuration table names: those of its first column, and
    those named in its other columns (the S3 ones) — values such as `INFO` are not names, so
    outside the first column only names with an underscore count."""
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    section = section.split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first, *rest = line.strip("|").split("|")
        names |= set(NAME.findall(first))
        names |= {name for cell in rest for name in NAME.findall(cell) if "_" in name}
    return names


class RecordingEnviron(dict):
    """``os.environ`` that remembers which names were asked for."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def test_the_readme_table_is_parsed():
    """Does the parse find the table's settings (so the test below checks something)?"""
    names = documented_settings()
    assert {"DATABASE_URL", "APPEAL_DAYS", "SESSION_IDLE_MINUTES", "PHOTO_S3_BUCKET",
            "REPORT_JOBS_SYNC", "REPORT_WORKERS", "LOG_FORMAT", "REDIS_URL"} <= names
    assert "INFO" not in names and len(names) >= 25


def test_every_documented_setting_is_read_from_the_environment(monkeypatch, tmp_path):
    """Is every variable the README's configuration table lists read by load_config (a
    documented setting nobody reads is silently ignored: APPEAL_DAYS, REPORT_WORKERS …)?"""
    environ = RecordingEnviron(os.environ)
    monkeypatch.setattr(os, "environ", environ)
    load_config(str(tmp_path))
    assert sorted(documented_settings() - environ.read) == []


@pytest.mark.parametrize("name, value, key, expected", [
    ("APPEAL_DAYS", "3", "APPEAL_DAYS", 3),
    ("PHOTO_MAX_DISTANCE_M", "800", "PHOTO_MAX_DISTANCE_M", 800),
    ("PHOTO_SIMILAR_HAMMING", "4", "PHOTO_SIMILAR_HAMMING", 4),
    ("REPORT_WORKERS", "2", "REPORT_WORKERS", 2),
    ("REPORT_JOBS_SYNC", "true", "REPORT_JOBS_SYNC", True),
    ("REPORT_JOB_STALE_MINUTES", "10", "REPORT_JOB_STALE_MINUTES", 10),
    ("SESSION_IDLE_MINUTES", "30", "SESSION_IDLE_MINUTES", 30),
    ("LOG_LEVEL", "warning", "LOG_LEVEL", "WARNING"),
    ("LOG_FORMAT", "json", "LOG_FORMAT", "json"),
    ("LOGIN_RATE_LIMIT", "5/minute;100/hour", "LOGIN_RATE_LIMIT", "5/minute;100/hour"),
    ("SESSION_COOKIE_SECURE", "off", "SESSION_COOKIE_SECURE", False),
    ("MAX_UPLOAD_MB", "", "MAX_CONTENT_LENGTH", 25 * 1024 * 1024),  # empty: the default
])
def test_settings_are_typed(monkeypatch, tmp_path, name, value, key, expected):
    """Does each setting arrive in the app's configuration as the type the code uses?"""
    monkeypatch.setenv(name, value)
    assert load_config(str(tmp_path))[key] == expected


def test_defaults_without_settings(monkeypatch, tmp_path):
    """Are the documented defaults what the app gets when nothing is set?"""
    for name in documented_settings():
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path))
    assert (config["APPEAL_DAYS"], config["PHOTO_MAX_DISTANCE_M"], config["PHOTO_SIMILAR_HAMMING"],
            config["REPORT_WORKERS"], config["REPORT_JOBS_SYNC"],
            config["REPORT_JOB_STALE_MINUTES"], config["SESSION_IDLE_MINUTES"]) == (
        7, 500, 6, 1, False, 30, 120)


@pytest.mark.parametrize("name, value", [
    ("LOGIN_RATE_LIMIT", "lots"),
    ("SESSION_HOURS", "12h"),
    ("LOG_LEVEL", "verbose"),
    ("LOG_FORMAT", "xml"),
    ("SESSION_COOKIE_SECURE", "ture"),
    ("APPEAL_DAYS", "-1"),
    ("PHOTO_SIMILAR_HAMMING", "9"),
    ("REPORT_JOBS_SYNC", "maybe"),
    ("DEFAULT_LOCALE", "fr"),
    ("PHOTO_STORAGE", "ftp"),
    ("TIMEZONE", "Mars/Olympus"),
])
def test_a_bad_setting_is_refused_by_name(monkeypatch, tmp_path, name, value):
    """Is a value the product cannot use refused, naming the variable and the value?"""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path))
    assert name in str(refused.value) and value in str(refused.value)


def test_a_bad_setting_stops_the_app_with_one_line(monkeypatch, tmp_path, capsys):
    """Does create_app stop with one line on standard error (no traceback) and the status that
    makes gunicorn stop rather than restart workers into the same setting?"""
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "lots")
    with pytest.raises(SystemExit) as stopped:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert stopped.value.code == APP_LOAD_ERROR
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "LOGIN_RATE_LIMIT" in lines[0] and "lots" in lines[0]
    assert "20 per minute" in lines[0]  # what is allowed


def test_a_database_url_is_not_echoed(monkeypatch, tmp_path):
    """Is a malformed DATABASE_URL refused without writing it out (it may hold a password)?"""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:s3cret@host:port/db")
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path))
    assert "DATABASE_URL" in str(refused.value) and "s3cret" not in str(refused.value)


@pytest.mark.parametrize("url, scheme", [
    ("postgresql+psycopg2://u:s3cret@127.0.0.1/db", "postgresql+psycopg2"),  # psycopg 2: absent
    ("mysql://u:s3cret@127.0.0.1/db", "mysql"),
    ("foo://", "foo"),
])
def test_a_database_url_with_an_unusable_driver_stops_the_app(monkeypatch, tmp_path, capsys,
                                                               url, scheme):
    """Is a DATABASE_URL whose scheme or driver the product cannot load (psycopg2 is not
    installed; MySQL is not supported) refused at start-up with one line and exit 4, naming
    the scheme but not the password — not a traceback from every gunicorn worker?"""
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert stopped.value.code == APP_LOAD_ERROR
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "配置错误" in lines[0] and "DATABASE_URL" in lines[0] and f"{scheme}://" in lines[0]
    assert "postgresql+psycopg://" in lines[0] and "s3cret" not in lines[0]


@pytest.mark.parametrize("url", ["postgres://u:p@db.internal/inspect",
                                 "postgresql://u:p@db.internal/inspect"])
def test_postgresql_urls_without_the_driver_use_psycopg_3(monkeypatch, tmp_path, url):
    """Are Heroku-style and driverless PostgreSQL URLs taken as psycopg 3, the driver that is
    installed (SQLAlchemy's default for them is psycopg2)?"""
    monkeypatch.setenv("DATABASE_URL", url)
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://u:p@db.internal/inspect")


def test_an_empty_photo_storage_root_means_the_default(monkeypatch, tmp_path):
    """Does an ``.env`` line ``PHOTO_STORAGE_ROOT=`` mean instance/photos, as every other
    empty setting means its default (it gave "", and every upload a 500)?"""
    monkeypatch.setenv("PHOTO_STORAGE_ROOT", "")
    monkeypatch.setenv("PHOTO_S3_PREFIX", " ")
    config = load_config(str(tmp_path))
    assert config["PHOTO_STORAGE_ROOT"] == str(tmp_path / "photos")
    assert config["PHOTO_S3_PREFIX"] == ""


@pytest.mark.parametrize("bucket", [None, ""])
def test_s3_storage_without_a_bucket_stops_the_app(monkeypatch, tmp_path, capsys, bucket):
    """Is PHOTO_STORAGE=s3 without PHOTO_S3_BUCKET refused at start-up with one line and
    exit 4, rather than starting and failing every photo upload and view?"""
    monkeypatch.setenv("PHOTO_STORAGE", "s3")
    if bucket is None:
        monkeypatch.delenv("PHOTO_S3_BUCKET", raising=False)
    else:
        monkeypatch.setenv("PHOTO_S3_BUCKET", bucket)
    with pytest.raises(SystemExit) as stopped:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert stopped.value.code == APP_LOAD_ERROR
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "配置错误" in lines[0] and "PHOTO_S3_BUCKET" in lines[0], lines
