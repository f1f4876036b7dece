"""A watch-list reason in the reader's language.

An entry stores each rule it met as :meth:`RuleHit.to_dict` data: the rule's key, its Chinese
label and explanation, and the figures behind them. Chinese pages show the stored explanation as
it is. Other languages say it again from the key and the figures, through the catalogue; a
reason whose figures are not enough for that (e.g. stored before a rule kept all of them) keeps
its Chinese text rather than guessing, so nothing already stored needs migrating.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext

from ..i18n import current_language
from .rules import RULES, _near, _number, _percent

Figures = Mapping[str, Any]


def _low_independent_score(f: Figures) -> list[str]:
    return [gettext("独立检查平均 %(mean)s 分（%(count)s 次），低于 %(threshold)s 分",
                    mean=_near(f["mean"], f["threshold"]), count=f["count"],
                    threshold=_number(f["threshold"]))]


def _red_line_repeat(f: Figures) -> list[str]:
    parts = []
    if f["failures"] >= f["count"]:
        parts.append(gettext("独立检查红线项不合格 %(failures)s 次，达到 %(count)s 次",
                             failures=f["failures"], count=f["count"]))
    for code in f["repeated_items"]:
        first, second = f["repeated_on"][code]
        parts.append(gettext("红线项 %(code)s 在连续两次独立检查（%(first)s、%(second)s）中均不合格",
                             code=code, first=first, second=second))
    return parts


def _overdue_rectification(f: Figures) -> list[str]:
    overdue, open_, share = f["overdue_items"], f["open_items"], f["overdue_share"]
    parts = []
    if overdue >= f["count"]:
        parts.append(gettext("逾期整改项 %(overdue)s 项，达到 %(count)s 项", overdue=overdue,
                             count=f["count"]))
    if share is not None and open_ >= f["share_min_open"] and share >= f["share"]:
        parts.append(gettext("逾期整改项占未完成整改项 %(share)s（%(overdue)s/%(open)s），"
                             "达到 %(threshold)s", share=_near(share, f["share"], percent=True),
                             overdue=overdue, open=open_, threshold=_percent(f["share"])))
    return parts


def _self_check_inflation(f: Figures) -> list[str]:
    parts = []
    if f["gap"] is not None and f["gap"] > f["gap_threshold"]:
        parts.append(gettext("自查平均 %(own)s 分，独立检查平均 %(independent)s 分，"
                             "高出 %(gap)s 分，超过 %(threshold)s 分",
                             own=_number(f["self_mean"]),
                             independent=_number(f["independent_mean"]),
                             gap=_near(f["gap"], f["gap_threshold"]),
                             threshold=_number(f["gap_threshold"])))
    if f["reversals"] > f["reversal_threshold"]:
        items = f["reversal_items"]
        listed = gettext("、").join(items[:5]) + (gettext("等") if len(items) > 5 else "")
        parts.append(gettext("自查合格的项目在其后的独立检查中不合格 %(count)s 次，"
                             "超过 %(threshold)s 次（%(items)s）", count=f["reversals"],
                             threshold=f["reversal_threshold"], items=listed))
    return parts


def _queue_overtime(f: Figures) -> list[str]:
    return [gettext("超时等候客户占比 %(share)s（%(over)s/%(served)s 人），高于 %(threshold)s",
                    share=_near(f["share"], f["threshold"], percent=True),
                    over=f["customers_over_limit"], served=f["customers_served"],
                    threshold=_percent(f["threshold"]))]


#: How each rule's explanation is said again from its figures, by rule key.
EXPLAINERS: dict[str, Callable[[Figures], list[str]]] = {
    "low_independent_score": _low_independent_score,
    "red_line_repeat": _red_line_repeat,
    "overdue_rectification": _overdue_rectification,
    "self_check_inflation": _self_check_inflation,
    "queue_overtime": _queue_overtime,
}


def explain(reason: Mapping[str, Any]) -> str | None:
    """The explanation of a stored reason, said from its figures in the current language;
    None when its figures are not enough (or its rule is unknown)."""
    explainer = EXPLAINERS.get(reason.get("rule_key"))
    if explainer is None:
        return None
    try:
        parts = explainer(reason.get("figures") or {})
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
