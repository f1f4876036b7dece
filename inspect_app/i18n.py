"""Language choice (Simplified Chinese unless the user picked English) and the bank's time zone."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, request, session
from flask_babel import gettext
from marshmallow import fields


def N_(message: str) -> str:
    """Mark a label for the catalogue where it is defined; it is translated where it is shown
    (``_()`` in templates, :class:`Label` in the API). Chinese is the source language: the
    label itself is the message id, so error messages and PDFs keep using it as it is."""
    return message


def translated(label: str | None) -> str | None:
    """A Chinese label (a mode, a state, a grade …) in the user's language; one the catalogue
    does not know (e.g. a rule set's own grade name) as it is."""
    return gettext(label) if label else label


class Label(fields.String):
    """A Chinese label (e.g. ``Mode.label``) serialised in the user's language."""

    def _serialize(self, value, attr, obj, **kwargs):
        return translated(value)


def select_locale() -> str:
    """``?lang=en`` switches and is remembered in the session; the default is Chinese."""
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    chosen = session.get("lang")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """``"zh"`` or ``"en"`` for templates (``<html lang>``, the language switch)."""
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale is not None else "zh"


def bank_timezone() -> ZoneInfo:
    """Where the bank is (``TIMEZONE``, Asia/Shanghai by default): dates people see are its."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or "Asia/Shanghai")


def local_date(moment: datetime | None) -> date | None:
    """The calendar date of ``moment`` where the bank is (what pages and PDFs print)."""
    return moment.astimezone(bank_timezone()).date() if moment is not None else None


def local_today() -> date:
    return datetime.now(bank_timezone()).date()
