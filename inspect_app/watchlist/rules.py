"""Watch-list rules (名单式管理): which outlets and sub-branches enter, stay on and leave the list.

Everything here is pure: plain frozen dataclasses go in (:class:`UnitFacts`, :class:`RuleSet`,
:class:`EntryState`), plain frozen dataclasses come out (:class:`Decision`, :class:`RuleHit`).
No Flask, no database, no clock: the same input always gives the same decisions, whatever the
order of units or checks.

Rules are a registry (:data:`RULES`, CTFd's ``UPLOADERS`` pattern): one class per rule with a key,
a Chinese label, a description template rendered with the rule's parameters, the unit kinds it
applies to, typed parameters with defaults and validation, and ``evaluate(facts, params)``
returning a :class:`RuleHit` (Chinese explanation with the concrete figures) or None. A rule
finds the figures (``_evaluate``) and says what they mean (``explain``, one sentence per condition
met): the same sentences, through the catalogue, say a stored hit again in another language
(:mod:`inspect_app.watchlist.reasons`). A :class:`Decision` keeps its reason as data too
(``note``: what happened and the rules, dates and scores it names), worded by :func:`say`.

A rule *set* (:class:`RuleSet`) is versioned data stored as JSON: which rules are enabled with
which parameters, and the exit policy (:class:`ExitPolicy`). Use :meth:`RuleSet.from_dict` /
:meth:`RuleSet.to_dict` and :func:`validate_rule_set` (Chinese messages) at that edge.

What the caller (the database layer) must put into :class:`UnitFacts`
-------------------------------------------------------------------------
- ``unit_id`` is the organisation unit's id (unique across outlets and sub-branches).
- ``independent_checks`` / ``self_checks``: one :class:`CheckResult` per finalised inspection of
  the unit in the evaluation period, **plus** enough earlier independent checks for the exit
  policy (at least ``exit.consecutive_passing_checks`` since the unit entered the list). Set
  ``period_start`` so rules only look at the period; checks before it are used for exit only.
  Order does not matter (they are sorted here by date).
- For a **sub-branch**, the caller aggregates its outlets: every outlet's checks go into the
  sub-branch's lists (one :class:`CheckResult` per inspection, so a mean is the mean over all its
  outlets' inspections), ``open_items`` / ``overdue_items`` are sums over its outlets, and
  ``queue`` is the sum of its outlets' :class:`QueueStats`. Inspections of the sub-branch itself,
  if any, are added as well.
- ``open_items`` counts rectification items not yet closed (overdue ones included);
  ``overdue_items`` those of them past their deadline; ``newest_overdue_on`` the latest date on
  which one of them went overdue (needed only after a manual exit, see below).
- ``queue`` is the period's queue-system totals (:func:`inspect_app.watchlist.queue_csv.summarize`)
  or None when there is no queue data.

Manual exit
-----------
A service manager may take a unit off the list by hand with a written reason (a database-layer
concern). Its :class:`EntryState` then has ``on_list=False`` and ``manually_exited_at`` set, and
the unit re-enters only on facts **newer** than that date: checks dated on or before it are ignored,
overdue items count only if ``newest_overdue_on`` is after it, and queue data only if
``queue.last_day`` is after it (so the caller should summarise queue data from the day after the
manual exit). Everything else evaluates as usual.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar, Final

from ..messages import N_, Message

#: Unit kinds the rules know.
OUTLET: Final = "outlet"
SUBBRANCH: Final = "subbranch"
UNIT_KINDS: Final = (OUTLET, SUBBRANCH)
UNIT_KIND_LABELS_ZH: Final = {OUTLET: "网点", SUBBRANCH: "支行"}

#: Inspection modes, as in :data:`inspect_app.scoring.rules.MODES`.
SELF_MODE: Final = "self_check"
INDEPENDENT_MODES: Final = ("peer_check", "spot_check", "mystery_visit")

#: Decision actions.
ACTIONS: Final = ("enter", "stay", "update", "exit", "none")


class WatchlistError(ValueError):
    """Input the engine cannot work with; ``messages`` are Chinese sentences for users."""

    def __init__(self, messages: str | Iterable[str]):
        self.messages: list[str] = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("；".join(self.messages))


# --------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One finalised inspection of a unit, reduced to what the rules need."""

    date: date
    #: ``self_check``, ``peer_check``, ``spot_check`` or ``mystery_visit``
    mode: str
    #: total percentage 0–100; None when nothing could be scored
    total: float | None
    #: codes of red-line (一票否决) items that failed
    red_line_failures: tuple[str, ...] = ()
    #: codes of every failed item (red-line ones included)
    failed_items: tuple[str, ...] = ()
    #: codes of every passed item
    passed_items: tuple[str, ...] = ()
    #: the inspection's id, only to order checks of the same day deterministically
    ref: str = ""

    def sort_key(self) -> tuple:
        """A total order on checks: by date, then anything else that tells them apart."""
        return (self.date, self.ref, self.mode, -1.0 if self.total is None else self.total,
                self.red_line_failures, self.failed_items, self.passed_items)


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Queue-system totals of a unit over a period (排队系统数据)."""

    customers_served: int
    customers_over_limit: int
    #: number of days with data
    days: int = 0
    #: the latest day with data (used after a manual exit)
    last_day: date | None = None

    @property
    def over_limit_share(self) -> float | None:
        """Share of customers who waited over the limit (超时占比); None without customers."""
        if self.customers_served <= 0:
            return None
        return self.customers_over_limit / self.customers_served


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """Facts about one outlet or sub-branch for a period; see the module docstring."""

    unit_id: Hashable
    #: ``outlet`` or ``subbranch``
    unit_kind: str
    name: str = ""
    independent_checks: Sequence[CheckResult] = ()
    self_checks: Sequence[CheckResult] = ()
    open_items: int = 0
    overdue_items: int = 0
    queue: QueueStats | None = None
    #: first day of the evaluation period; earlier checks serve the exit policy only
    period_start: date | None = None
    #: the latest date an open item went overdue (only needed after a manual exit)
    newest_overdue_on: date | None = None

    def problems(self) -> list[str]:
        """Chinese messages for what is wrong with these facts (empty if they are fine)."""
        errors = []
        if self.unit_kind not in UNIT_KINDS:
            errors.append(f"单位 {self.unit_id} 的类型必须是 outlet（网点）或 subbranch（支行）")
        for check in self.independent_checks:
            if check.mode not in INDEPENDENT_MODES:
                errors.append(f"单位 {self.unit_id} 的独立检查方式无效：{check.mode}")
        for check in self.self_checks:
            if check.mode != SELF_MODE:
                errors.append(f"单位 {self.unit_id} 的自查方式无效：{check.mode}")
        for check in (*self.independent_checks, *self.self_checks):
            if check.total is not None and not (math.isfinite(check.total)
                                                and 0 <= check.total <= 100):
                errors.append(f"单位 {self.unit_id} 的检查得分必须在 0 到 100 之间：{check.total}")
        if self.open_items < 0 or self.overdue_items < 0:
            errors.append(f"单位 {self.unit_id} 的整改项数量不能为负数")
        if self.queue is not None and not (
                0 <= self.queue.customers_over_limit <= self.queue.customers_served):
            errors.append(f"单位 {self.unit_id} 的排队数据无效：超时客户数必须在 0 到服务客户数之间")
        return errors

    def _period(self, checks: Sequence[CheckResult]) -> list[CheckResult]:
        start = self.period_start
        return sorted((c for c in checks if start is None or c.date >= start),
                      key=CheckResult.sort_key)

    @property
    def period_independent(self) -> list[CheckResult]:
        """Independent checks inside the period, oldest first."""
        return self._period(self.independent_checks)

    @property
    def period_self(self) -> list[CheckResult]:
        """Self-checks inside the period, oldest first."""
        return self._period(self.self_checks)


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param:
    """A typed rule parameter: ``kind`` is ``int``, ``float`` (a number) or ``share`` (0–1)."""

    name: str
    label_zh: str
    kind: str
    default: float
    minimum: float | None = None
    maximum: float | None = None
    #: whether ``minimum`` itself is allowed
    minimum_inclusive: bool = True

    def coerce(self, value: Any) -> int | float:
        """The value as this parameter's Python type (call :meth:`problems` first)."""
        return int(value) if self.kind == "int" else float(value)

    def problems(self, value: Any, rule_label: str) -> list[str]:
        """Chinese messages for what is wrong with ``value`` (empty if it is fine)."""
        where = Message("规则「%(rule)s」的参数 %(name)s（%(label)s）", rule=Message(rule_label),
                        name=self.name, label=Message(self.label_zh))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [Message("%(where)s必须是数字", where=where)]
        if not math.isfinite(value):
            return [Message("%(where)s必须是有限的数字", where=where)]
        if self.kind == "int" and value != int(value):
            return [Message("%(where)s必须是整数", where=where)]
        low, high = self.minimum, self.maximum
        too_low = low is not None and (value < low if self.minimum_inclusive else value <= low)
        if not too_low and (high is None or value <= high):
            return []
        values = {"where": where, "low": self.format(low) if low is not None else None,
                  "high": self.format(high) if high is not None else None}
        if low is not None and high is not None:
            return [Message("%(where)s必须不小于 %(low)s 且不大于 %(high)s", **values)
                    if self.minimum_inclusive else
                    Message("%(where)s必须大于 %(low)s 且不大于 %(high)s", **values)]
        if low is not None:
            return [Message("%(where)s必须不小于 %(low)s", **values) if self.minimum_inclusive
                    else Message("%(where)s必须大于 %(low)s", **values)]
        return [Message("%(where)s不能大于 %(high)s", **values)]

    def format(self, value: float) -> str:
        """The value as shown to people: shares as percentages, numbers without trailing zeros."""
        if self.kind == "share":
            return _percent(value)
        return plain_number(value)


def plain_number(value: float) -> str:
    """``70`` for 70.0, ``68.5`` for 68.5, at most two decimals."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _percent(share: float) -> str:
    return f"{plain_number(share * 100)}%"


def _near(value: float, bound: float, *, percent: bool = False) -> str:
    """``value`` rounded, but with enough decimals that it never displays as equal to ``bound``
    when it is not (69.96 is "69.96", not "70.0", next to a threshold of 70)."""
    scale = 100 if percent else 1
    shown, limit = value * scale, bound * scale
    for digits in range(1, 7):
        text = f"{shown:.{digits}f}"
        if value == bound or float(text) != limit and (float(text) < limit) == (shown < limit):
            break
    if digits == 1 and text.endswith(".0"):
        text = text[:-2]
    return text + ("%" if percent else "")


def _zh(message: str, **figures: Any) -> str:
    """A rule's sentence in Chinese, the language its messages are written in; in another
    language :func:`flask_babel.gettext` takes this function's place."""
    return message % figures if figures else message


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return math.fsum(values) / len(values) if values else None


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that a unit met: its key, a Chinese explanation with the figures, and the figures."""

    rule_key: str
    label_zh: str
    explanation_zh: str
    figures: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, as stored with a watch-list entry."""
        return {"rule_key": self.rule_key, "label_zh": self.label_zh,
                "explanation_zh": self.explanation_zh, "figures": dict(self.figures)}


class WatchRule:
    """Base class of watch-list rules; subclasses set the class attributes, ``_evaluate`` and
    ``explain``."""

    key: ClassVar[str]
    label_zh: ClassVar[str]
    #: rendered with the resolved parameters, each formatted by :meth:`Param.format`
    description_zh: ClassVar[str]
    applies_to: ClassVar[frozenset[str]] = frozenset(UNIT_KINDS)
    params: ClassVar[tuple[Param, ...]] = ()

    def defaults(self) -> dict[str, int | float]:
        """Every parameter with its default value."""
        return {p.name: p.coerce(p.default) for p in self.params}

    def validate(self, params: Any) -> list[str]:
        """Chinese messages for what is wrong with ``params`` (missing ones take defaults)."""
        if not isinstance(params, Mapping):
            return [Message("规则「%(rule)s」的参数必须是键值对（JSON 对象）",
                            rule=Message(self.label_zh))]
        known = {p.name: p for p in self.params}
        errors = [Message("规则「%(rule)s」没有参数 %(name)s", rule=Message(self.label_zh), name=name)
                  for name in params if name not in known]
        for name, value in params.items():
            if name in known:
                errors += known[name].problems(value, self.label_zh)
        return errors

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, int | float]:
        """Defaults overridden by ``params``, each of its type; raises :class:`WatchlistError`."""
        params = dict(params or {})
        errors = self.validate(params)
        if errors:
            raise WatchlistError(errors)
        resolved = self.defaults()
        resolved.update({p.name: p.coerce(params[p.name]) for p in self.params if p.name in params})
        return resolved

    def describe(self, params: Mapping[str, Any] | None = None,
                 _: Callable[..., str] = _zh) -> str:
        """The description with the parameters filled in: Chinese, or through ``_``
        (:func:`flask_babel.gettext`) in the reader's language."""
        resolved = self.resolve(params)
        return _(self.description_zh).format(
            **{p.name: p.format(resolved[p.name]) for p in self.params})

    def evaluate(self, facts: UnitFacts, params: Mapping[str, Any] | None = None) -> RuleHit | None:
        """A :class:`RuleHit` if ``facts`` meet this rule with ``params``, else None.

        A unit kind the rule does not apply to never hits.
        """
        if facts.unit_kind not in self.applies_to:
            return None
        figures = self._evaluate(facts, self.resolve(params))
        parts = self.explain(figures) if figures is not None else []
        if not parts:
            return None
        return RuleHit(self.key, self.label_zh, _zh("；").join(parts), figures)

    def _evaluate(self, facts: UnitFacts,
                  p: dict[str, Any]) -> dict[str, Any] | None:  # pragma: no cover
        """The figures the rule judges by (None when there is nothing to judge)."""
        raise NotImplementedError

    def explain(self, f: Mapping[str, Any],
                _: Callable[..., str] = _zh) -> list[str]:  # pragma: no cover
        """One sentence per condition of the rule that the figures ``f`` meet (none: no hit).
        ``_`` says a sentence in the reader's language (Chinese by default)."""
        raise NotImplementedError


class LowIndependentScore(WatchRule):
    """Mean independent score in the period below a threshold."""

    key = "low_independent_score"
    label_zh = N_("独立检查得分偏低")
    description_zh = N_("独立检查（互查、抽查、暗访）平均得分低于 {threshold} 分"
                      "（期内至少 {min_checks} 次独立检查）")
    params = (Param("threshold", N_("分数线"), "float", 70, 0, 100),
              Param("min_checks", N_("最少检查次数"), "int", 1, 1, 100))

    def _evaluate(self, facts, p):
        totals = [c.total for c in facts.period_independent if c.total is not None]
        mean = _mean(totals)
        if mean is None or len(totals) < p["min_checks"] or not mean < p["threshold"]:
            return None
        return {"mean": mean, "count": len(totals), "threshold": p["threshold"]}

    def explain(self, f, _=_zh):
        return [_("独立检查平均 %(mean)s 分（%(count)s 次），低于 %(threshold)s 分",
                  mean=_near(f["mean"], f["threshold"]), count=f["count"],
                  threshold=plain_number(f["threshold"]))]


class RedLineRepeat(WatchRule):
    """Many red-line failures in the period, or the same red-line item failed twice in a row."""

    key = "red_line_repeat"
    label_zh = N_("红线问题反复出现")
    description_zh = N_("期内独立检查中红线（一票否决）项不合格累计 {count} 次及以上，"
                      "或同一红线项在连续两次独立检查中均不合格")
    params = (Param("count", N_("累计次数"), "int", 2, 1, 100),)

    def _evaluate(self, facts, p):
        checks = facts.period_independent
        failures = sum(len(set(c.red_line_failures)) for c in checks)
        repeated: dict[str, tuple[date, date]] = {}
        for before, after in zip(checks, checks[1:]):
            for code in sorted(set(before.red_line_failures) & set(after.red_line_failures)):
                repeated.setdefault(code, (before.date, after.date))
        return {"failures": failures, "count": p["count"], "repeated_items": sorted(repeated),
                "repeated_on": {code: [first.isoformat(), second.isoformat()]
                                for code, (first, second) in repeated.items()}}

    def explain(self, f, _=_zh):
        parts = []
        if f["failures"] >= f["count"]:
            parts.append(_("独立检查红线项不合格 %(failures)s 次，达到 %(count)s 次",
                           failures=f["failures"], count=f["count"]))
        for code in f["repeated_items"]:
            first, second = f["repeated_on"][code]
            parts.append(_("红线项 %(code)s 在连续两次独立检查（%(first)s、%(second)s）中均不合格",
                           code=code, first=first, second=second))
        return parts


class OverdueRectification(WatchRule):
    """Overdue rectification items above a count or a share of the open items."""

    key = "overdue_rectification"
    label_zh = N_("整改逾期")
    description_zh = N_("逾期未完成的整改项达到 {count} 项，或逾期项占未完成整改项的比例达到 {share}"
                      "（未完成整改项不少于 {share_min_open} 项时）")
    params = (Param("count", N_("逾期项数"), "int", 3, 1, 10_000),
              Param("share", N_("逾期占比"), "share", 0.3, 0, 1, minimum_inclusive=False),
              Param("share_min_open", N_("按占比判断的最少未完成项数"), "int", 1, 1, 10_000))

    def _evaluate(self, facts, p):
        overdue, open_ = facts.overdue_items, max(facts.open_items, facts.overdue_items)
        return {"overdue_items": overdue, "open_items": open_,
                "overdue_share": overdue / open_ if open_ else None, "count": p["count"],
                "share": p["share"], "share_min_open": p["share_min_open"]}

    def explain(self, f, _=_zh):
        overdue, open_, share = f["overdue_items"], f["open_items"], f["overdue_share"]
        parts = []
        if overdue >= f["count"]:
            parts.append(_("逾期整改项 %(overdue)s 项，达到 %(count)s 项", overdue=overdue,
                           count=f["count"]))
        if share is not None and open_ >= f["share_min_open"] and share >= f["share"]:
            parts.append(_("逾期整改项占未完成整改项 %(share)s（%(overdue)s/%(open)s），"
                           "达到 %(threshold)s", share=_near(share, f["share"], percent=True),
                           overdue=overdue, open=open_, threshold=_percent(f["share"])))
        return parts


class SelfCheckInflation(WatchRule):
    """Self-checks far above independent checks, or self-passed items failed by later checks."""

    key = "self_check_inflation"
    label_zh = N_("自查虚高")
    description_zh = N_("自查平均得分比独立检查平均得分高出超过 {gap} 分，"
                      "或自查合格的项目在其后的独立检查中不合格超过 {reversals} 次")
    params = (Param("gap", N_("分差"), "float", 15, 0, 100),
              # Over a quarter a sound outlet still sees a few of its self-passed items failed by
              # independent checks; a handful is noise, a dozen is a pattern.
              Param("reversals", N_("不合格次数"), "int", 10, 0, 10_000))

    def _evaluate(self, facts, p):
        independent, own = facts.period_independent, facts.period_self
        self_mean = _mean(c.total for c in own if c.total is not None)
        independent_mean = _mean(c.total for c in independent if c.total is not None)
        gap = (self_mean - independent_mean
               if self_mean is not None and independent_mean is not None else None)
        reversals, items = self._reversals(own, independent)
        return {"self_mean": self_mean, "independent_mean": independent_mean, "gap": gap,
                "reversals": reversals, "reversal_items": items, "gap_threshold": p["gap"],
                "reversal_threshold": p["reversals"]}

    def explain(self, f, _=_zh):
        parts = []
        if f["gap"] is not None and f["gap"] > f["gap_threshold"]:
            parts.append(_("自查平均 %(own)s 分，独立检查平均 %(independent)s 分，"
                           "高出 %(gap)s 分，超过 %(threshold)s 分",
                           own=plain_number(f["self_mean"]),
                           independent=plain_number(f["independent_mean"]),
                           gap=_near(f["gap"], f["gap_threshold"]),
                           threshold=plain_number(f["gap_threshold"])))
        if f["reversals"] > f["reversal_threshold"]:
            items = f["reversal_items"]
            listed = _("、").join(items[:5]) + (_("等") if len(items) > 5 else "")
            parts.append(_("自查合格的项目在其后的独立检查中不合格 %(count)s 次，"
                           "超过 %(threshold)s 次（%(items)s）", count=f["reversals"],
                           threshold=f["reversal_threshold"], items=listed))
        return parts

    @staticmethod
    def _reversals(own: list[CheckResult],
                   independent: list[CheckResult]) -> tuple[int, list[str]]:
        """Failures by an independent check of items the unit's latest earlier self-check that
        assessed the item had passed."""
        # per item: the dates of the self-checks that assessed it and whether they passed it,
        # in date order (``own`` is sorted), so each lookup is one bisection
        history: dict[str, tuple[list[date], list[bool]]] = {}
        wanted = {code for check in independent for code in check.failed_items}
        for own_check in own:
            ok, failed = set(own_check.passed_items), set(own_check.failed_items)
            for code in (ok | failed) & wanted:
                days, passed = history.setdefault(code, ([], []))
                days.append(own_check.date)
                passed.append(code not in failed)
        count, items = 0, set()
        for check in independent:
            for code in sorted(set(check.failed_items)):
                days, passed = history.get(code, ([], []))
                index = bisect_left(days, check.date)
                if index and passed[index - 1]:
                    count += 1
                    items.add(code)
        return count, sorted(items)


class QueueOvertime(WatchRule):
    """Share of customers waiting over the limit (超时占比) above a threshold."""

    key = "queue_overtime"
    label_zh = N_("排队超时")
    description_zh = N_("排队超时客户占比（超时占比）高于 {threshold}（期内服务客户不少于 {min_served} 人）；"
                      "目标是超时网点零发生")
    params = (Param("threshold", N_("超时占比"), "share", 0.05, 0, 1),
              Param("min_served", N_("最少服务客户数"), "int", 100, 0, 10_000_000))

    def _evaluate(self, facts, p):
        queue = facts.queue
        if queue is None or queue.customers_served < max(p["min_served"], 1):
            return None
        share = queue.over_limit_share
        if share is None or not share > p["threshold"]:
            return None
        return {"share": share, "customers_served": queue.customers_served,
                "customers_over_limit": queue.customers_over_limit, "threshold": p["threshold"]}

    def explain(self, f, _=_zh):
        return [_("超时等候客户占比 %(share)s（%(over)s/%(served)s 人），高于 %(threshold)s",
                  share=_near(f["share"], f["threshold"], percent=True),
                  over=f["customers_over_limit"], served=f["customers_served"],
                  threshold=_percent(f["threshold"]))]


#: Every rule by key; :func:`get_rule` looks one up.
RULES: Final[dict[str, WatchRule]] = {
    rule.key: rule for rule in (LowIndependentScore(), RedLineRepeat(), OverdueRectification(),
                                SelfCheckInflation(), QueueOvertime())
}


def get_rule(key: str) -> WatchRule:
    """The rule registered under ``key``; raises :class:`WatchlistError` for an unknown key."""
    try:
        return RULES[key]
    except KeyError:
        raise WatchlistError(Message("未知的名单规则：%(key)s", key=key)) from None


# --------------------------------------------------------------------------------------------
# Rule sets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """One rule in a rule set: enabled or not, its parameters and optionally fewer unit kinds."""

    key: str
    enabled: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)
    #: restrict the rule to these unit kinds; None means every kind the rule applies to
    unit_kinds: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"key": self.key, "enabled": self.enabled, "params": dict(self.params),
                "unit_kinds": None if self.unit_kinds is None else list(self.unit_kinds)}


@dataclass(frozen=True, slots=True)
class ExitPolicy:
    """When a unit leaves the list by rule: N consecutive passing independent checks since it
    entered, each scoring at least ``passing_score``, and (if required) nothing overdue."""

    consecutive_passing_checks: int = 2
    passing_score: float = 80
    require_nothing_overdue: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"consecutive_passing_checks": self.consecutive_passing_checks,
                "passing_score": self.passing_score,
                "require_nothing_overdue": self.require_nothing_overdue}


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A versioned watch-list rule set, stored as JSON with every parameter explicit."""

    version: int
    rules: tuple[RuleConfig, ...]
    exit: ExitPolicy = ExitPolicy()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data; :meth:`from_dict` reads it back to an equal rule set."""
        return {"version": self.version, "rules": [r.to_dict() for r in self.rules],
                "exit": self.exit.to_dict()}

    @classmethod
    def from_dict(cls, data: Any) -> RuleSet:
        """Read a rule set, filling left-out parameters with their defaults so the stored version
        stays explicit; raises :class:`WatchlistError` with every problem found."""
        errors = validate_rule_set(data)
        if errors:
            raise WatchlistError(errors)
        rules = []
        for raw in data["rules"]:
            kinds = raw.get("unit_kinds")
            rules.append(RuleConfig(
                key=raw["key"], enabled=raw.get("enabled", True),
                params=get_rule(raw["key"]).resolve(raw.get("params")),
                unit_kinds=None if kinds is None else tuple(k for k in UNIT_KINDS if k in kinds)))
        exit_ = {**ExitPolicy().to_dict(), **(data.get("exit") or {})}
        return cls(version=int(data["version"]), rules=tuple(rules), exit=ExitPolicy(
            consecutive_passing_checks=int(exit_["consecutive_passing_checks"]),
            passing_score=float(exit_["passing_score"]),
            require_nothing_overdue=exit_["require_nothing_overdue"]))

    def validate(self) -> list[str]:
        """Chinese messages for what is wrong with this rule set (empty if it is fine)."""
        return validate_rule_set(self.to_dict())

    def enabled_rules(self) -> list[tuple[WatchRule, RuleConfig]]:
        """The enabled rules with their configs, in rule-set order."""
        return [(get_rule(c.key), c) for c in self.rules if c.enabled]


def validate_rule_set(data: Any) -> list[str]:
    """Chinese messages for everything wrong with rule-set JSON data (empty if it is fine)."""
    if not isinstance(data, Mapping):
        return [Message("名单规则集必须是键值对（JSON 对象）")]
    errors = [Message("名单规则集中未知的配置项：%(key)s", key=key) for key in data
              if key not in ("version", "rules", "exit")]
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        errors.append(Message("规则集版本号（version）必须是不小于 1 的整数"))
    rules = data.get("rules")
    if not isinstance(rules, list):
        errors.append(Message("规则列表（rules）必须是列表"))
        rules = []
    seen: set[str] = set()
    for index, raw in enumerate(rules, start=1):
        if not isinstance(raw, Mapping):
            errors.append(Message("第 %(index)s 条规则必须是键值对（JSON 对象）", index=index))
            continue
        errors += [Message("第 %(index)s 条规则中未知的配置项：%(key)s", index=index, key=key)
                   for key in raw if key not in ("key", "enabled", "params", "unit_kinds")]
        key = raw.get("key")
        if not isinstance(key, str) or key not in RULES:
            errors.append(Message("第 %(index)s 条规则的规则键无效：%(key)s", index=index, key=key))
            continue
        rule = RULES[key]
        if key in seen:
            errors.append(Message("规则「%(rule)s」（%(key)s）重复出现", rule=Message(rule.label_zh),
                                  key=key))
        seen.add(key)
        if not isinstance(raw.get("enabled", True), bool):
            errors.append(Message("规则「%(rule)s」的启用状态（enabled）必须是 true 或 false",
                                  rule=Message(rule.label_zh)))
        errors += rule.validate(raw.get("params") or {})
        kinds = raw.get("unit_kinds")
        if kinds is not None:
            if not isinstance(kinds, list) or not kinds or any(
                    not isinstance(k, str) or k not in rule.applies_to for k in kinds):
                allowed = "、".join(f"{k}（{UNIT_KIND_LABELS_ZH[k]}）"
                                   for k in UNIT_KINDS if k in rule.applies_to)
                errors.append(Message("规则「%(rule)s」的适用对象（unit_kinds）必须是非空列表，取值为 %(allowed)s",
                                      rule=Message(rule.label_zh), allowed=allowed))
    exit_errors = _exit_errors(data.get("exit"))
    errors += exit_errors or _exit_below_entry(rules, data.get("exit"))
    return errors


def _exit_below_entry(rules: list, exit_: Any) -> list[str]:
    """An exit score below the low-score rule's threshold lets an outlet leave the list with
    scores that would put it back at the next evaluation."""
    score = (exit_ or {}).get("passing_score", ExitPolicy().passing_score)
    for raw in rules:
        if not isinstance(raw, Mapping) or raw.get("key") != LowIndependentScore.key \
                or raw.get("enabled", True) is not True:
            continue
        threshold = (raw.get("params") or {}).get("threshold", 70)
        if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) \
                and score < threshold:
            return [Message("出列合格分数线（%(score)s 分）不能低于规则「%(rule)s」的分数线"
                            "（%(threshold)s 分），否则出列的网点在下次评估时又会入列",
                            score=plain_number(score), threshold=plain_number(threshold),
                            rule=Message(LowIndependentScore.label_zh))]
    return []


def _exit_errors(exit_: Any) -> list[str]:
    if exit_ is None:
        return []
    if not isinstance(exit_, Mapping):
        return [Message("出列条件（exit）必须是键值对（JSON 对象）")]
    errors = [Message("出列条件中未知的配置项：%(key)s", key=key) for key in exit_
              if key not in ExitPolicy().to_dict()]
    n = exit_.get("consecutive_passing_checks", 2)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100:
        errors.append(Message("出列所需连续合格检查次数（consecutive_passing_checks）必须是 1 到 100 之间的整数"))
    score = exit_.get("passing_score", 80)
    if isinstance(score, bool) or not isinstance(score, (int, float)) \
            or not math.isfinite(score) or not 0 <= score <= 100:
        errors.append(Message("出列合格分数线（passing_score）必须是 0 到 100 之间的数字"))
    if not isinstance(exit_.get("require_nothing_overdue", True), bool):
        errors.append(Message("是否要求无逾期整改（require_nothing_overdue）必须是 true 或 false"))
    return errors


#: The rule set the product ships with: every rule enabled with its default parameters.
#: Self-check inflation is judged outlet by outlet: pooled over a sub-branch's outlets the
#: reversal count grows with the number of outlets, not with inflation.
_DEFAULT_KINDS: dict[str, tuple[str, ...]] = {"self_check_inflation": (OUTLET,)}

DEFAULT_RULE_SET: Final = RuleSet(
    version=1,
    rules=tuple(RuleConfig(key, True, rule.defaults(), _DEFAULT_KINDS.get(key))
                for key, rule in RULES.items()),
    exit=ExitPolicy(),
)


def describe(rule_set: RuleSet) -> list[str]:
    """The Chinese description of every enabled rule with its parameters, for the managers' page.

    A rule restricted to some unit kinds says so, e.g. "…（仅适用于网点）".
    """
    lines = []
    for rule, config in rule_set.enabled_rules():
        text = f"{rule.label_zh}：{rule.describe(config.params)}"
        if config.unit_kinds is not None and set(config.unit_kinds) != set(UNIT_KINDS):
            text += "（仅适用于" + "、".join(UNIT_KIND_LABELS_ZH[k] for k in config.unit_kinds) + "）"
        lines.append(text)
    return lines


def describe_exit(policy: ExitPolicy, _: Callable[..., str] = _zh) -> str:
    """The exit policy, e.g. "入列后连续 2 次独立检查得分均不低于 80 分，且没有逾期整改项"
    (through ``_`` in the reader's language)."""
    text = _("入列后连续 %(n)s 次独立检查得分均不低于 %(score)s 分",
             n=policy.consecutive_passing_checks, score=plain_number(policy.passing_score))
    if policy.require_nothing_overdue:
        text += _("，且没有逾期整改项")
    return text


# --------------------------------------------------------------------------------------------
# Decisions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryState:
    """What the list says about a unit now, as the database layer stored it."""

    on_list: bool = True
    #: the rule keys of the entry's latest decision
    hit_keys: frozenset[str] = frozenset()
    #: the day the unit (last) entered; exit counts independent checks after it
    entered_at: date | None = None
    #: set when a manager took the unit off the list by hand (then ``on_list`` is False)
    manually_exited_at: date | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one unit: ``enter``, ``stay``, ``update`` (still listed, other reasons),
    ``exit`` or ``none`` (not listed and stays off), with the hits and why, as data (``note``,
    said by :func:`say`)."""

    unit_id: Hashable
    action: str
    hits: tuple[RuleHit, ...]
    #: why, as plain JSON data: ``{"key": "entered", "rules": [...]}`` … (see :func:`say`)
    note: Mapping[str, Any]

    @property
    def reason_zh(self) -> str:
        """Why, in Chinese (as stored in the entry's history and logged)."""
        return say(self.note)

    @property
    def hit_keys(self) -> frozenset[str]:
        """The keys of the rules that hit."""
        return frozenset(hit.rule_key for hit in self.hits)

    @property
    def on_list_after(self) -> bool:
        """Whether the unit is on the list once this decision is applied."""
        return self.action in ("enter", "stay", "update")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"unit_id": self.unit_id, "action": self.action, "reason_zh": self.reason_zh,
                "note": dict(self.note), "hits": [hit.to_dict() for hit in self.hits]}


def hits_for(facts: UnitFacts, rule_set: RuleSet) -> tuple[RuleHit, ...]:
    """Every enabled rule of ``rule_set`` that ``facts`` meet, in rule-set order."""
    errors = facts.problems()
    if errors:
        raise WatchlistError(errors)
    hits = []
    for rule, config in rule_set.enabled_rules():
        if config.unit_kinds is not None and facts.unit_kind not in config.unit_kinds:
            continue
        hit = rule.evaluate(facts, config.params)
        if hit is not None:
            hits.append(hit)
    return tuple(hits)


def facts_after(facts: UnitFacts, cutoff: date) -> UnitFacts:
    """Only the facts newer than ``cutoff`` (a manual exit): later checks, overdue items only if
    one went overdue after it, queue data only if its last day is after it."""
    newer_overdue = facts.newest_overdue_on is not None and facts.newest_overdue_on > cutoff
    newer_queue = (facts.queue is not None and facts.queue.last_day is not None
                   and facts.queue.last_day > cutoff)
    return replace(
        facts,
        independent_checks=tuple(c for c in facts.independent_checks if c.date > cutoff),
        self_checks=tuple(c for c in facts.self_checks if c.date > cutoff),
        overdue_items=facts.overdue_items if newer_overdue else 0,
        open_items=facts.open_items if newer_overdue else 0,
        queue=facts.queue if newer_queue else None,
    )


def exit_shortfalls(facts: UnitFacts, policy: ExitPolicy,
                   entered_at: date | None) -> tuple[list[dict[str, Any]], list[float]]:
    """Why the exit policy does not hold yet (empty when it holds), as data :func:`say` can
    word, and the totals of the checks it looked at: the last N scored independent checks dated
    after ``entered_at``."""
    n = policy.consecutive_passing_checks
    since = [c for c in sorted(facts.independent_checks, key=CheckResult.sort_key)
             if c.total is not None and (entered_at is None or c.date > entered_at)]
    last = [c.total for c in since[-n:]]
    problems: list[dict[str, Any]] = []
    if len(last) < n:
        problems.append({"key": "too_few_checks", "count": len(last), "needed": n,
                         "score": policy.passing_score})
    else:
        low = [t for t in last if t < policy.passing_score]
        if low:
            problems.append({"key": "checks_too_low", "totals": last, "low": len(low),
                             "score": policy.passing_score})
    if policy.require_nothing_overdue and facts.overdue_items > 0:
        problems.append({"key": "still_overdue", "count": facts.overdue_items})
    return problems, last


def exit_progress(facts: UnitFacts, policy: ExitPolicy, entered_at: date | None,
                  hits: Iterable[RuleHit] = ()) -> dict[str, Any]:
    """Where a listed unit stands against the exit policy, as plain JSON data
    (:func:`say_progress` words it): the policy itself, how many of the latest scored
    independent checks since ``entered_at`` pass in a row (at most the number needed), their
    totals, the overdue items and the rules still met. The unit may leave when ``rules`` is
    empty, ``passing`` equals ``needed`` and (if required) nothing is overdue — exactly when
    :func:`exit_shortfalls` finds nothing."""
    n = policy.consecutive_passing_checks
    since = [c.total for c in sorted(facts.independent_checks, key=CheckResult.sort_key)
             if c.total is not None and (entered_at is None or c.date > entered_at)]
    run = 0
    for total in reversed(since):
        if total < policy.passing_score:
            break
        run += 1
    return {"needed": n, "score": policy.passing_score, "passing": min(run, n),
            "totals": since[-n:], "require_nothing_overdue": policy.require_nothing_overdue,
            "overdue": facts.overdue_items, "rules": _keys({hit.rule_key for hit in hits})}


def _nzh(singular: str, plural: str, num: int, **figures: Any) -> str:
    """:func:`_zh` for a sentence with a count (Chinese has one form)."""
    return singular % {"num": num, **figures}


def say_progress(progress: Mapping[str, Any], _: Callable[..., str] = _zh,
                 ngettext: Callable[..., str] = _nzh) -> list[str]:
    """What a listed unit still has to do to leave the list (:func:`exit_progress`), one short
    sentence per condition not met yet, e.g. "还需 1 次 ≥80 分的独立检查" — in Chinese, or through
    ``_`` / ``ngettext`` (:func:`flask_babel.gettext` / ``ngettext``) in the reader's language.
    Empty when nothing is left to do (the next evaluation takes the unit off the list).
    Raises ``KeyError`` (or ``TypeError``) for data it cannot word."""
    lines = []
    if progress["rules"]:  # the page shows which just above: this says it must end
        lines.append(_("须不再命中名单规则"))
    remaining = progress["needed"] - progress["passing"]
    score = plain_number(progress["score"])
    if remaining > 0:
        line = ngettext("还需 %(num)s 次 ≥%(score)s 分的独立检查",
                        "还需 %(num)s 次 ≥%(score)s 分的独立检查", remaining, score=score)
        if progress["passing"]:
            line += ngettext("（已连续 %(num)s 次达标）", "（已连续 %(num)s 次达标）",
                             progress["passing"])
        elif progress["totals"]:
            line += _("（入列后最近：%(totals)s 分）",
                      totals=_("、").join(plain_number(t) for t in progress["totals"]))
        lines.append(line)
    if progress["require_nothing_overdue"] and progress["overdue"]:
        lines.append(ngettext("还需完成 %(num)s 项逾期整改", "还需完成 %(num)s 项逾期整改",
                              progress["overdue"]))
    return lines


def progress_policy(progress: Mapping[str, Any]) -> ExitPolicy:
    """The exit policy an entry's progress was measured against."""
    return ExitPolicy(int(progress["needed"]), float(progress["score"]),
                      bool(progress["require_nothing_overdue"]))


def cleared_note(gone: Iterable[str], decision: Decision) -> dict[str, Any]:
    """The history note of a listed unit that meets no rule any more but may not leave yet
    (a ``stay`` decision with the reason ``not_yet``): which rules it no longer meets, and
    what the exit policy still misses."""
    return {"key": "cleared", "gone": _keys(gone), "problems": list(decision.note["problems"])}


def evaluate_unit(facts: UnitFacts, rule_set: RuleSet,
                  current: EntryState | None = None) -> Decision:
    """Decide what happens to one unit; deterministic and independent of check order.

    - Not on the list (``current`` None or ``on_list`` False): ``enter`` when at least one rule
      hits, else ``none``. After a manual exit only facts newer than it count (:func:`facts_after`).
    - On the list with hits: ``update`` when the set of hit rule keys changed, else ``stay``.
    - On the list without hits: ``exit`` only if the exit policy holds (:func:`exit_shortfalls`),
      otherwise ``stay`` with the reason "尚未满足出列条件：…".

    Raises :class:`WatchlistError` for invalid facts.
    """
    on_list = current is not None and current.on_list
    if not on_list and current is not None and current.manually_exited_at is not None:
        since = current.manually_exited_at.isoformat()
        hits = hits_for(facts_after(facts, current.manually_exited_at), rule_set)
        if not hits:
            return Decision(facts.unit_id, "none", (), {"key": "not_reentered", "since": since})
        return Decision(facts.unit_id, "enter", hits, {
            "key": "reentered", "since": since, "rules": _keys(h.rule_key for h in hits)})
    hits = hits_for(facts, rule_set)
    keys = frozenset(hit.rule_key for hit in hits)
    if not on_list:
        if hits:
            return Decision(facts.unit_id, "enter", hits, {"key": "entered", "rules": _keys(keys)})
        return Decision(facts.unit_id, "none", (), {"key": "none"})
    if hits:
        if keys != current.hit_keys:
            return Decision(facts.unit_id, "update", hits, {
                "key": "changed", "added": _keys(keys - current.hit_keys),
                "gone": _keys(current.hit_keys - keys), "rules": _keys(keys)})
        return Decision(facts.unit_id, "stay", hits, {"key": "still", "rules": _keys(keys)})
    problems, last = exit_shortfalls(facts, rule_set.exit, current.entered_at)
    if problems:
        return Decision(facts.unit_id, "stay", (), {"key": "not_yet", "problems": problems})
    return Decision(facts.unit_id, "exit", (), {
        "key": "exited", "count": len(last), "score": rule_set.exit.passing_score,
        "totals": last, "nothing_overdue": rule_set.exit.require_nothing_overdue})


def _keys(keys: Iterable[str]) -> list[str]:
    return sorted(keys)


def _names(keys: Iterable[str], _: Callable[..., str]) -> str:
    """Rules' names, "整改逾期、自查虚高"; ``KeyError`` for a rule that is no longer known."""
    return _("、").join(_(RULES[k].label_zh) for k in keys)


def _shortfall(problem: Mapping[str, Any], _: Callable[..., str]) -> str:
    key = problem["key"]
    if key == "too_few_checks":
        return _("入列后独立检查仅 %(count)s 次，需连续 %(needed)s 次不低于 %(score)s 分",
                 count=problem["count"], needed=problem["needed"],
                 score=plain_number(problem["score"]))
    if key == "checks_too_low":
        return _("最近 %(n)s 次独立检查（%(totals)s 分）中有 %(low)s 次低于 %(score)s 分",
                 n=len(problem["totals"]), low=problem["low"], score=plain_number(problem["score"]),
                 totals=_("、").join(plain_number(t) for t in problem["totals"]))
    if key == "still_overdue":
        return _("仍有 %(count)s 项逾期整改", count=problem["count"])
    raise KeyError(key)


def say(note: Mapping[str, Any], _: Callable[..., str] = _zh) -> str:
    """A decision's reason (:attr:`Decision.note`) as a sentence: in Chinese, as stored, or
    through ``_`` (:func:`flask_babel.gettext`) in the reader's language. Raises ``KeyError``
    (or ``TypeError``/``ValueError``) for data it cannot word."""
    key = note["key"]
    if key == "entered":
        return _("命中规则：%(now)s", now=_names(note["rules"], _))
    if key == "still":
        return _("继续命中规则：%(now)s", now=_names(note["rules"], _))
    if key == "changed":
        changes = [_("新增 %(rules)s", rules=_names(note["added"], _)) if note["added"] else None,
                   _("不再命中 %(rules)s", rules=_names(note["gone"], _)) if note["gone"] else None]
        return _("命中规则有变化（%(changes)s），现命中：%(now)s",
                 changes=_("；").join(c for c in changes if c), now=_names(note["rules"], _))
    if key == "reentered":
        return _("人工出列（%(date)s）后新情况命中规则：%(now)s", date=note["since"],
                 now=_names(note["rules"], _))
    if key == "not_reentered":
        return _("人工出列（%(date)s）后没有新的情况命中名单规则", date=note["since"])
    if key == "none":
        return _("未命中任何名单规则")
    if key == "not_yet":
        return _("尚未满足出列条件：%(problems)s",
                 problems=_("；").join(_shortfall(p, _) for p in note["problems"]))
    if key == "cleared":
        return _("已不再命中规则（此前：%(rules)s），待满足出列条件：%(problems)s",
                 rules=_names(note["gone"], _),
                 problems=_("；").join(_shortfall(p, _) for p in note["problems"]))
    if key == "exited":
        said = _("不再命中名单规则，且入列后最近 %(n)s 次独立检查均不低于 %(score)s 分"
                 "（%(totals)s 分）", n=note["count"], score=plain_number(note["score"]),
                 totals=_("、").join(plain_number(t) for t in note["totals"]))
        return said + _("，无逾期整改项") if note["nothing_overdue"] else said
    raise KeyError(key)


def _id_key(unit_id: Hashable) -> tuple:
    """Sort ids of any type: numbers first in numeric order, then everything else as text."""
    if isinstance(unit_id, (int, float)) and not isinstance(unit_id, bool):
        return (0, unit_id, "")
    return (1, 0, str(unit_id))


def evaluate_all(facts_list: Iterable[UnitFacts], rule_set: RuleSet,
                 current_entries: Mapping[Hashable, EntryState] | None = None) -> list[Decision]:
    """:func:`evaluate_unit` for every unit, sorted by unit id.

    ``current_entries`` maps unit ids to their :class:`EntryState`; a unit missing from it is not
    on the list. Units in ``current_entries`` without facts get no decision, so the caller passes
    facts (possibly empty) for every listed unit. Raises :class:`WatchlistError` for a unit id
    given twice or invalid facts.
    """
    current_entries = current_entries or {}
    facts_list = sorted(facts_list, key=lambda f: _id_key(f.unit_id))
    counts = Counter(f.unit_id for f in facts_list)
    duplicates = sorted((i for i, n in counts.items() if n > 1), key=_id_key)
    if duplicates:
        raise WatchlistError([f"单位 {i} 的事实重复提供" for i in duplicates])
    return [evaluate_unit(f, rule_set, current_entries.get(f.unit_id)) for f in facts_list]
