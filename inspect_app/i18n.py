"""Language choice: Simplified Chinese unless the user picked English."""
from __future__ import annotations

from flask import current_app, request, session


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
