"""A watch-list reason in the reader's language.

An entry stores each rule it met as :meth:`RuleHit.to_dict` data: the rule's key, its Chinese
label and explanation, and the figures behind them. Chinese pages show the stored explanation as
it is. Other languages say it again from the key and the figures with the rule's own sentences
(:meth:`~inspect_app.watchlist.rules.WatchRule.explain`), through the catalogue; a reason whose
figures are not enough for that (e.g. stored before a rule kept all of them) keeps its Chinese
text rather than guessing, so nothing already stored needs migrating.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from ..i18n import N_, current_language
from .rules import RULES


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
# They are stored as Chinese sentences (:func:`~inspect_app.watchlist.rules.evaluate_unit`);
# another language says them again from what they name: rules, dates and scores. A note that
# does not read as one of these (a person's words, a rule no longer known) stays as stored.

_NUMBER = r"\d+(?:\.\d+)?"
_NOTES = (
    (re.compile(r"命中规则：(?P<now>[^（）：；]+)"), N_("命中规则：%(now)s")),
    (re.compile(r"命中规则有变化（(?:新增 (?P<added>[^（）：；]+))?；?"
                r"(?:不再命中 (?P<gone>[^（）：；]+))?），现命中：(?P<now>[^（）：；]+)"), None),
    (re.compile(r"人工出列（(?P<date>\d{4}-\d{2}-\d{2})）后新情况命中规则：(?P<now>[^（）：；]+)"),
     N_("人工出列（%(date)s）后新情况命中规则：%(now)s")),
    (re.compile(rf"不再命中名单规则，且入列后最近 (?P<n>\d+) 次独立检查均不低于 (?P<score>{_NUMBER}) 分"
                rf"（(?P<totals>{_NUMBER}(?:、{_NUMBER})*) 分）(?P<clean>，无逾期整改项)?"), None),
)
_LABELS = frozenset(rule.label_zh for rule in RULES.values())


def _rules(labels: str) -> str:
    """"整改逾期、自查虚高" → the rules' names in the reader's language; KeyError for a name
    that is not a known rule's."""
    names = labels.split("、")
    unknown = [name for name in names if name not in _LABELS]
    if unknown:
        raise KeyError(unknown[0])
    return gettext("、").join(gettext(name) for name in names)


def _say(pattern: re.Pattern, message: str | None, match: re.Match) -> str:
    parts = match.groupdict()
    if pattern is _NOTES[1][0]:
        changes = [gettext("新增 %(rules)s", rules=_rules(parts["added"])) if parts["added"]
                   else None,
                   gettext("不再命中 %(rules)s", rules=_rules(parts["gone"])) if parts["gone"]
                   else None]
        return gettext("命中规则有变化（%(changes)s），现命中：%(now)s",
                       changes=gettext("；").join(c for c in changes if c),
                       now=_rules(parts["now"]))
    if pattern is _NOTES[3][0]:
        said = gettext("不再命中名单规则，且入列后最近 %(n)s 次独立检查均不低于 %(score)s 分"
                       "（%(totals)s 分）", n=parts["n"], score=parts["score"],
                       totals=gettext("、").join(parts["totals"].split("、")))
        return said + gettext("，无逾期整改项") if parts["clean"] else said
    return gettext(message, **{k: _rules(v) if k == "now" else v for k, v in parts.items()})


def event_note(kind: str, note: str | None) -> str:
    """A history note (or a rule exit's reason) in the reader's language: the rules' own
    sentences said again, anything else — a manual exit's reason above all — as stored."""
    if not note or current_language() == "zh" or kind in ("manual_exit", "manual"):
        return note or ""
    for pattern, message in _NOTES:
        match = pattern.fullmatch(note)
        if match:
            try:
                return _say(pattern, message, match)
            except KeyError:
                return note
    return note
