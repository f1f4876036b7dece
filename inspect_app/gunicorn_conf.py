"""gunicorn's settings for the product, as the README's deploy command uses them::

    gunicorn -c python:inspect_app.gunicorn_conf -w 4 -k gthread --threads 4 -b 127.0.0.1:8000 \\
        'inspect_app:create_app()'

- The settings are checked once, in gunicorn's master, before any worker boots: a bad one
  stops gunicorn with one ``配置错误`` line and exit status 4. (Without this, each worker
  prints the line and exits 4, and the arbiter ends with a traceback of its own.)
- ``LOG_FORMAT=json``: gunicorn's own lines (starting, booting a worker, a worker that failed,
  with its traceback) are JSON objects like the app's, so standard error is one JSON object
  per line throughout.

Any other gunicorn option is given on the command line as usual.
"""
from __future__ import annotations

import tempfile

from gunicorn import glogging

from . import APP_LOAD_ERROR
from .config import LOG_FORMATS, ConfigError, _choice, _timezone, load_config
from .logs import JsonFormatter


def _json_timezone() -> str | None:
    """The bank's zone when gunicorn should write JSON, else None. A bad value is refused by
    :func:`on_starting` a moment later, so it means "as gunicorn always did" here."""
    try:
        if _choice("LOG_FORMAT", "text", LOG_FORMATS) != "json":
            return None
        return _timezone("TIMEZONE", "Asia/Shanghai")
    except ConfigError:
        return None


class Logger(glogging.Logger):
    """gunicorn's logger, writing its lines with the app's JSON formatter under
    ``LOG_FORMAT=json`` (and exactly as gunicorn does under ``text``)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        zone = _json_timezone()
        if zone is None:
            return
        formatter = JsonFormatter(zone)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)


logger_class = Logger


def on_starting(server) -> None:
    """Check every setting in the master, as each worker's ``create_app`` would (a throwaway
    instance folder: nothing is written to the real one)."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            load_config(scratch)
        except ConfigError as exc:
            server.log.error("%s", exc)
            raise SystemExit(APP_LOAD_ERROR) from None
