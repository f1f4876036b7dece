"""A watch-list reason in the reader's language.

An entry stores each rule it met as :meth:`RuleHit.to_dict` data: the rule's key, its Chinese
label and explanation, and the figures behind them. Chinese pages show the stored explanation as
it is. Other languages say it again from the key and the figures with the rule's own sentences
(:meth:`~inspect_app.watchlist.rules.WatchRule.explain`), through the catalogue; a reason whose
figures are not enough for that (e.g. stored before a rule kept all of them) keeps its Chinese
text rather than guessing, so nothing already stored needs migrating. The notes the rules write
into an entry's history are said again the same way, from the data stored with them, and so is
what a listed unit still has to do to leave the list (its exit progress).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import has_request_context, request
from flask_babel import gettext, ngettext, pgettext

from ..i18n import current_language
from .models import EntryStatus, WatchlistEntry
from .rules import RULES, RuleSet, describe_exit, progress_policy, say, say_progress


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


def event_label(kind: str) -> str:
    """The name of a change on the list in the reader's language (列入名单, 人工出列 …)."""
    names = {"entered": gettext("列入名单"), "manual_entry": pgettext("event", "人工列入"),
             "reasons_changed": gettext("原因变化"), "exited": gettext("按规则出列"),
             "manual_exit": pgettext("event", "人工出列")}
    return names.get(kind, kind)


def reasons_while_listed(entry: WatchlistEntry) -> list[Mapping[str, Any]]:
    """The rules an entry met while on the list, as its page shows once it left: those of its
    latest evaluation, or — when by then it met none (the exit policy needs that) — those of
    the latest change in its history that named rules."""
    if entry.reasons:
        return list(entry.reasons)
    return next((list(event.hits) for event in reversed(entry.events) if event.hits), [])


# -- where a listed unit stands ---------------------------------------------------------------


def status_note(entry: WatchlistEntry) -> str | None:
    """Said in place of the reasons of a unit on the list that meets no rule (any more): it
    stays until it meets the exit policy. None otherwise."""
    if entry.status is not EntryStatus.active or entry.reasons:
        return None
    if entry.entry_kind == "manual" and not any(event.hits for event in entry.events):
        return gettext("目前未命中名单规则，待满足出列条件")
    return gettext("已不再命中规则，待满足出列条件")


def exit_condition(entry: WatchlistEntry) -> str:
    """The exit policy the entry is measured against, in the reader's language (its branch's
    rules in force, for an entry not evaluated since it was listed)."""
    if entry.exit_progress:
        try:
            return describe_exit(progress_policy(entry.exit_progress), gettext)
        except (KeyError, TypeError, ValueError):
            pass
    from .operations import branch_id_of

    return describe_exit(_exit_policy(branch_id_of(entry.unit.path)), gettext)


def _exit_policy(branch_id: int):
    """The exit policy in force in a branch, read once per request (a list of entries asks
    it of every one not evaluated since it was listed)."""
    from .operations import active_rule_set

    known = request.__dict__.setdefault("_exit_policies", {}) if has_request_context() else {}
    if branch_id not in known:
        known[branch_id] = RuleSet.from_dict(active_rule_set(branch_id).rules).exit
    return known[branch_id]


def exit_steps(entry: WatchlistEntry) -> list[str]:
    """What a unit on the list still has to do to leave it, one sentence each (e.g. "还需 1 次
    ≥80 分的独立检查"), as of its latest evaluation; empty once it is off the list, before its
    first evaluation, or when nothing is left (the next evaluation takes it off)."""
    if entry.status is not EntryStatus.active or not entry.exit_progress:
        return []
    try:
        return say_progress(entry.exit_progress, gettext, ngettext)
    except (KeyError, TypeError, ValueError):
        return []
