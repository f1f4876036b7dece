"""Language choice (Simplified Chinese unless the user picked English), messages said in it, and
the bank's time zone."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, request, session
from flask_babel import gettext, pgettext
from marshmallow import fields

from .messages import N_ as N_  # where the app's modules import it from
from .messages import NP_ as NP_
from .messages import Message
from .schema_messages import schema_message


def translated(label: str | None) -> str | None:
    """A Chinese label (a mode, a state, a grade …) in the user's language; one the catalogue
    does not know (e.g. a rule set's own grade name) as it is. A label marked with its context
    (:func:`~inspect_app.messages.NP_`) is looked up under it."""
    if not label:
        return label
    context = getattr(label, "context", None)
    return pgettext(context, label) if context else gettext(label)


def localized(value: Any) -> Any:
    """``value`` (a message, or an error's details: dicts and lists) with every
    :class:`~inspect_app.messages.Message` in it said in the user's language; anything else is
    left as it is, since details may carry the user's own words (a draft's notes)."""
    if isinstance(value, Message):
        if not value.params:
            return gettext(value.template)
        return gettext(value.template, **{k: _value(v) for k, v in value.params.items()})
    if isinstance(value, dict):
        return {key: localized(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [localized(item) for item in value]
    return value


def _value(value: Any) -> Any:
    if isinstance(value, Message):
        return localized(value)
    if isinstance(value, Enum) and hasattr(value, "label"):
        return translated(value.label)
    return value


def say(text: str) -> str:
    """A message in the user's language: a :class:`~inspect_app.messages.Message` with its
    values, one of marshmallow's own (English) refusals through its Chinese
    (:mod:`inspect_app.schema_messages`), any other text through the catalogue (as it is when
    the catalogue does not know it)."""
    if not isinstance(text, Message):
        text = schema_message(text) or text
    return localized(text) if isinstance(text, Message) else translated(text)


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


def month_name(day: date) -> str:
    """The month ``day`` is in, in the reader's language: 2026年12月, December 2026."""
    from babel.dates import format_skeleton
    from flask_babel import get_locale

    return format_skeleton("yMMMM", day, locale=get_locale() or "zh")


def bank_timezone() -> ZoneInfo:
    """Where the bank is (``TIMEZONE``, Asia/Shanghai by default): dates people see are its."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or "Asia/Shanghai")


def local_date(moment: datetime | None) -> date | None:
    """The calendar date of ``moment`` where the bank is (what pages and PDFs print, and the
    day, week or month a submission counts in). A naive moment is UTC, as the database keeps."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(bank_timezone()).date()


def score_text(value: float | None) -> str:
    """A score as pages show it, always to two decimals (``100.00`` beside ``75.57``, not
    ``100.0``), or ``—`` when there is none. The ``score`` template filter."""
    return "—" if value is None else f"{float(value):.2f}"


def bank_midnight(day: date) -> datetime:
    """The moment ``day`` begins where the bank is. Periods are the bank's days, weeks and
    months: a submission at 01:00 Beijing time counts on that day, not on the UTC day before."""
    return datetime.combine(day, time.min, tzinfo=bank_timezone())


def bank_now() -> datetime:
    """This moment, in the bank's time zone."""
    return datetime.now(bank_timezone())


def local_today() -> date:
    """The bank's today (UTC's is still yesterday from 16:00 to 24:00 UTC)."""
    return bank_now().date()
