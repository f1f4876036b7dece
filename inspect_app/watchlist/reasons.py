"""A watch-list reason in the reader's language.

An entry stores each rule it met as :meth:`RuleHit.to_dict` data: the rule's key, its Chinese
label and explanation, and the figures behind them. Chinese pages show the stored explanation as
it is. Other languages say it again from the key and the figures with the rule's own sentences
(:meth:`~inspect_app.watchlist.rules.WatchRule.explain`), through the catalogue; a reason whose
figures are not enough for that (e.g. stored before a rule kept all of them) keeps its Chinese
text rather than guessing, so nothing already stored needs migrating. The notes the rules write
into an entry's history are said again the same way, from the data stored with them.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from ..i18n import current_language
from .rules import RULES, say


def explain(reason: Mapping[str, Any]) -> str | None:
    """The explanation of a stored reason, said from its figures in the current language;
    None when its figures are not enough (or its rule is unknown)."""
    rule = RULES.get(reason.get("rule_key"))
    if rule is None:
        return None
    try:
        parts = rule.explain(reason.get("figures") or {}, gettext)
    except (KeyError, TypeError, ValueError):
        return None
    return gettext("；").join(parts) if parts else None


def reason_label(reason: Mapping[str, Any]) -> str:
    """The rule's name in the reader's language (the stored Chinese one if the rule is gone)."""
    rule = RULES.get(reason.get("rule_key"))
    return gettext(rule.label_zh) if rule is not None else reason.get("label_zh", "")


def reason_text(reason: Mapping[str, Any]) -> str:
    """The reason's explanation in the reader's language: the stored Chinese text on Chinese
    pages and whenever it cannot be said again from the figures."""
    stored = reason.get("explanation_zh", "")
    if current_language() == "zh":
        return stored
    return explain(reason) or stored


# -- the notes the rules write into an entry's history -------------------------------------


def event_note(note: str | None, data: Mapping[str, Any] | None = None) -> str:
    """A history note (or a rule exit's reason) in the reader's language: the rules' reason
    said again from its data (:func:`~inspect_app.watchlist.rules.say`); a note without data —
    a person's words above all — as stored."""
    if not data or current_language() == "zh":
        return note or ""
    try:
        return say(data, gettext)
    except (KeyError, TypeError, ValueError):
        return note or ""
