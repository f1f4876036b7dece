"""Score one inspection, and combine an outlet's inspections over a period.

Pure functions over plain data. Points and percentages are ``Decimal`` rounded half up to two
places (sums are exact before rounding); ``to_dict()`` turns them into JSON floats.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..messages import Message
from ._numbers import ZERO, as_decimal, cents, json_number
from .errors import ScoringError
from .items import Answer, ChecklistItem
from .rules import DEFAULT_RULES, INDEPENDENT_MODES, MODE_LABELS_ZH, MODES, ScoringRules


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class ItemScore:
    """How one item scored; ``possible`` is 0 for N.A. and unscored (text) items."""

    code: str
    section: str
    earned: Decimal
    possible: Decimal
    #: The answer is a finding (整改项).
    failed: bool
    red_line: bool
    na: bool
    answered: bool
    scored: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "code": self.code, "section": self.section, "earned": float(self.earned),
            "possible": float(self.possible), "failed": self.failed, "red_line": self.red_line,
            "na": self.na, "answered": self.answered, "scored": self.scored,
        }


@dataclass(frozen=True)
class SectionScore:
    """Subtotal of one section (module); ``percent`` is None when nothing in it counts.

    ``weight`` is the section's weight (分区权重) when the total combined section percentages
    by weight, None when it added up the items' points.
    """

    section: str
    earned: Decimal
    possible: Decimal
    percent: Decimal | None
    weight: Decimal | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"section": self.section, "earned": float(self.earned),
                "possible": float(self.possible), "percent": _number(self.percent),
                "weight": None if self.weight is None else json_number(self.weight)}


@dataclass(frozen=True)
class RedLineOutcome:
    """What the red-line rule did: its mode and cap, and the total before and after it."""

    mode: str
    cap: Decimal | None
    total_before: Decimal | None
    total_after: Decimal

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"mode": self.mode, "cap": _number(self.cap),
                "total_before": _number(self.total_before), "total_after": float(self.total_after)}


@dataclass(frozen=True)
class InspectionScore:
    """The result of :func:`score_inspection`.

    ``earned``/``possible`` are raw points (before any red-line rule); ``total`` is the final
    percentage (0..100) after it, or None when nothing could be scored. With section weights the
    total is the weighted mean of the section percentages, so it is not ``earned / possible``.
    """

    items: tuple[ItemScore, ...]
    sections: tuple[SectionScore, ...]
    earned: Decimal
    possible: Decimal
    total: Decimal | None
    grade: str | None
    grade_key: str | None
    red_line_failures: tuple[str, ...]
    red_line_applied: RedLineOutcome | None
    rules_version: str

    @property
    def section_weights(self) -> dict[str, Decimal] | None:
        """The section weights the total was combined with; None when it added up points."""
        weights = {s.section: s.weight for s in self.sections if s.weight is not None}
        return weights or None

    @property
    def nothing_applicable(self) -> bool:
        """Whether every scored item was answered N.A.: nothing was checked, so the inspection
        has no score to give (its submission is refused rather than shown as 未发现问题)."""
        scored = [item for item in self.items if item.scored]
        return bool(scored) and all(item.na for item in scored)

    @property
    def nothing_to_score(self) -> bool:
        """Whether the form holds no scored item at all (text notes only, its scored items
        being for other modes): it can have no score, so its submission is refused."""
        return not any(item.scored for item in self.items)

    @property
    def failed_items(self) -> tuple[str, ...]:
        """Codes of every failed item, in checklist order (each becomes a 整改项)."""
        return tuple(item.code for item in self.items if item.failed)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "items": [item.to_dict() for item in self.items],
            "sections": [section.to_dict() for section in self.sections],
            "earned": float(self.earned), "possible": float(self.possible),
            "total": _number(self.total), "grade": self.grade, "grade_key": self.grade_key,
            "failed_items": list(self.failed_items),
            "red_line_failures": list(self.red_line_failures),
            "red_line_applied": (self.red_line_applied.to_dict()
                                 if self.red_line_applied else None),
            "rules_version": self.rules_version,
            # stored with the score: a later re-score (an appeal) combines the same way
            "section_weights": (None if self.section_weights is None else
                                {code: json_number(weight)
                                 for code, weight in self.section_weights.items()}),
        }


def score_inspection(items: Iterable[ChecklistItem | Mapping[str, Any]],
                     answers: Mapping[str, Answer | Mapping[str, Any]],
                     rules: ScoringRules = DEFAULT_RULES, *,
                     mode: str | None = None,
                     section_weights: Mapping[str, Any] | None = None) -> InspectionScore:
    """Score one inspection: weighted items, section subtotals, total, grade and red-line rule.

    ``items`` are :class:`ChecklistItem` or checklist JSON dicts; ``answers`` maps item code to
    ``{"value": ..., "note": ...}``. Given ``mode``, items that do not apply to it are skipped.
    ``section_weights`` maps section code to the section's weight (分区权重); None or empty
    means the checklist has none.

    - An item earns ``fraction × weight`` of ``weight`` possible points; N.A. answers leave the
      denominator (possible 0); text items are never scored.
    - Without section weights the total is all earned points over all possible points. With
      them it is Σ(weight × section %) / Σ weight over the sections that have possible points:
      a section with nothing to score (all N.A., or not in this mode's form) leaves the
      denominator as an N.A. item does. The red-line rule then applies to that total.
    - An unanswered scored item counts as possible with 0 earned and is not a finding: drafts
      can be scored as they go, and submission refuses unanswered required items anyway.
    - A failed red-line item always triggers ``rules.red_line``: ``cap`` limits the total to the
      cap, ``fail`` sets it to 0. If nothing else could be scored, the total becomes 0.
    - If every item is N.A. (nothing possible) and no red line failed, ``total`` and ``grade`` are
      None: the inspection has no score rather than a perfect one.

    Raises :class:`ScoringError` for invalid items, duplicate codes, an unknown mode or answer
    values the item's type refuses. Answers for codes not in ``items`` are ignored, and deduction
    reasons are not checked here (use :func:`validate_answers` on submission).
    """
    checklist = _applicable(items, mode)
    errors: list[str] = []
    results = [_score_item(item, answers.get(item.code), errors) for item in checklist]
    if errors:
        raise ScoringError(errors)
    scores = [score for score, _ in results]

    totals: dict[str, tuple[Fraction, Fraction]] = {}
    for score, (item_earned, item_possible) in results:
        earned, possible = totals.get(score.section, (Fraction(0), Fraction(0)))
        totals[score.section] = (earned + item_earned, possible + item_possible)
    weights = _section_weights(section_weights, totals)
    sections = tuple(SectionScore(name, cents(earned), cents(possible), _percent(earned, possible),
                                  None if weights is None else cents(weights[name]))
                     for name, (earned, possible) in totals.items())
    earned = sum((pair[0] for pair in totals.values()), Fraction(0))
    possible = sum((pair[1] for pair in totals.values()), Fraction(0))

    red_line_failures = tuple(s.code for s in scores if s.red_line and s.failed)
    exact = total_percent(totals, weights)
    total = None if exact is None else cents(exact)
    outcome = None
    if red_line_failures:
        outcome = _apply_red_line(rules, exact)
        total = outcome.total_after
    band = rules.grade_for(total)
    return InspectionScore(
        items=tuple(scores), sections=sections, earned=cents(earned), possible=cents(possible),
        total=total, grade=band.label if band else None, grade_key=band.key if band else None,
        red_line_failures=red_line_failures, red_line_applied=outcome,
        rules_version=rules.version,
    )


def _applicable(items: Iterable[ChecklistItem | Mapping[str, Any]],
                mode: str | None) -> list[ChecklistItem]:
    if mode is not None and mode not in MODES:
        raise ScoringError(Message("未知的检查方式：%(mode)s", mode=mode))
    checklist = [item if isinstance(item, ChecklistItem) else ChecklistItem.from_dict(item)
                 for item in items]
    duplicates = [code for code, n in Counter(item.code for item in checklist).items() if n > 1]
    if duplicates:
        raise ScoringError([Message("检查项编号重复：%(code)s", code=code) for code in duplicates])
    return [item for item in checklist if mode is None or mode in item.modes]


def _score_item(item: ChecklistItem, raw: Answer | Mapping[str, Any] | None,
                errors: list[str]) -> tuple[ItemScore, tuple[Fraction, Fraction]]:
    """The item's score and exact (earned, possible) points; invalid answers go to ``errors``."""
    kind = item.kind
    ratio: Fraction | None = Fraction(0)
    failed = answered = False
    try:
        value = None if raw is None else Answer.from_dict(raw).value
        answered = value is not None
        if answered:
            ratio, failed = kind.evaluate(value, item.config, weight=item.weight)
    except ScoringError as exc:
        errors.extend(Message("%(code)s：%(message)s", code=item.code, message=message)
                      for message in exc.messages)
    counts = kind.scored and ratio is not None
    earned = Fraction(item.weight) * ratio if counts and ratio is not None else Fraction(0)
    possible = Fraction(item.weight) if counts else Fraction(0)
    score = ItemScore(
        code=item.code, section=item.section, earned=cents(earned), possible=cents(possible),
        failed=failed, red_line=item.red_line, na=kind.scored and answered and ratio is None,
        answered=answered, scored=kind.scored,
    )
    return score, (earned, possible)


def _percent(earned: Fraction, possible: Fraction) -> Decimal | None:
    return cents(earned / possible * 100) if possible else None


def _section_weights(weights: Mapping[str, Any] | None,
                     totals: Mapping[str, Any]) -> dict[str, Fraction] | None:
    """The weights of the scored sections as exact numbers; None when there are none.

    Every section with items needs a weight above 0: a section left out could only be scored
    by guessing (checklist validation refuses such checklists before they are published).
    """
    if not weights:
        return None
    exact: dict[str, Fraction] = {}
    errors = []
    for section in totals:
        raw = weights.get(section)
        weight = raw if isinstance(raw, Fraction) else as_decimal(raw, allow_str=True)
        if weight is None or weight <= 0:
            errors.append(Message("分区 %(section)s 没有大于 0 的权重：分区权重要么每个分区都设，"
                                  "要么都不设", section=section))
        else:
            exact[section] = Fraction(weight)
    if errors:
        raise ScoringError(errors)
    return exact


def total_percent(totals: Mapping[str, tuple[Any, Any]],
                  section_weights: Mapping[str, Any] | None = None) -> Fraction | None:
    """The exact total percentage (before any red-line rule) from each section's
    ``(earned, possible)`` points; None when nothing can be scored.

    Without ``section_weights``: all earned points over all possible points. With them: the
    weighted mean of the percentages of the sections that have possible points. Public so that
    code writing scores in bulk (the demo history) totals exactly as :func:`score_inspection`.
    """
    pairs = {name: (Fraction(earned), Fraction(possible))
             for name, (earned, possible) in totals.items()}
    if not section_weights:
        earned = sum((pair[0] for pair in pairs.values()), Fraction(0))
        possible = sum((pair[1] for pair in pairs.values()), Fraction(0))
        return earned / possible * 100 if possible else None
    weights = _section_weights(section_weights, pairs)
    assert weights is not None
    counted = [(weights[name], earned / possible * 100)
               for name, (earned, possible) in pairs.items() if possible]
    weight_sum = sum((weight for weight, _ in counted), Fraction(0))
    if not weight_sum:
        return None
    return sum((weight * percent for weight, percent in counted), Fraction(0)) / weight_sum


def _apply_red_line(rules: ScoringRules, exact: Fraction | None) -> RedLineOutcome:
    rule = rules.red_line
    before = None if exact is None else cents(exact)
    if rule.mode == "fail":
        after = ZERO
    else:
        assert rule.cap is not None
        base = exact if exact is not None else Fraction(0)
        after = cents(min(base, Fraction(rule.cap)))
    return RedLineOutcome(mode=rule.mode, cap=rule.cap, total_before=before, total_after=after)


def validate_answers(items: Iterable[ChecklistItem | Mapping[str, Any]],
                     answers: Mapping[str, Answer | Mapping[str, Any]], *,
                     mode: str | None = None,
                     require_all: bool = True,
                     notes: bool = True) -> dict[str, list[str]]:
    """Chinese messages per item code for answers that cannot be submitted (empty dict if none).

    Unlike :func:`score_inspection` this also checks answers to unknown items, with ``notes``
    the notes (a deduction needs its reason) and, with ``require_all``, unanswered scored items.
    A draft passes neither: a reason may follow its deduction, an item its answer.
    """
    checklist = _applicable(items, mode)
    codes = {item.code for item in checklist}
    problems: dict[str, list[str]] = {
        code: [Message("该检查项不在本次检查的清单中")] for code in answers if code not in codes
    }
    for item in checklist:
        raw = answers.get(item.code)
        try:
            answer = Answer() if raw is None else Answer.from_dict(raw)
        except ScoringError as exc:
            problems[item.code] = exc.messages
            continue
        if answer.value is None:
            if require_all and item.kind.scored:
                problems[item.code] = [Message("尚未作答")]
            continue
        found = (item.kind.validate_answer(answer.value, item.config, note=answer.note,
                                           weight=item.weight) if notes else
                 item.kind.validate_answer(answer.value, item.config, weight=item.weight))
        if found:
            problems[item.code] = found
    return problems


# -- period scores ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionResult:
    """One finished inspection of an outlet, as the period score needs it."""

    mode: str
    #: Total percentage, or None for an inspection where everything was N.A.
    total: Decimal | None
    date: dt.date

    def __post_init__(self) -> None:
        if self.total is not None and not isinstance(self.total, Decimal):
            total = as_decimal(self.total)
            if total is None:
                raise ScoringError(Message("检查得分（total）必须是 0 到 100 之间的数字"))
            object.__setattr__(self, "total", total)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InspectionResult:
        """Build from ``{"mode", "total", "date"}``; ``date`` may be an ISO string or a date."""
        mode, raw_total, raw_date = data.get("mode"), data.get("total"), data.get("date")
        errors = [] if mode in MODES else [Message("未知的检查方式：%(mode)s", mode=mode)]
        total = None if raw_total is None else as_decimal(raw_total)
        if raw_total is not None and (total is None or not 0 <= total <= 100):
            errors.append(Message("检查得分（total）必须是 0 到 100 之间的数字"))
        date: dt.date | None = None
        if isinstance(raw_date, dt.datetime):
            date = raw_date.date()
        elif isinstance(raw_date, dt.date):
            date = raw_date
        elif isinstance(raw_date, str):
            try:
                date = dt.date.fromisoformat(raw_date[:10])
            except ValueError:
                pass
        if date is None:
            errors.append(Message("检查日期（date）必须是 YYYY-MM-DD 格式的日期"))
        if errors:
            raise ScoringError(errors)
        assert date is not None
        return cls(mode=mode, total=total, date=date)


@dataclass(frozen=True)
class ModeScore:
    """Mean total of one mode's inspections in the period (None when it has none)."""

    mode: str
    label_zh: str
    count: int
    mean: Decimal | None
    weight: Decimal

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"mode": self.mode, "label_zh": self.label_zh, "count": self.count,
                "mean": _number(self.mean), "weight": float(self.weight)}


@dataclass(frozen=True)
class PeriodScore:
    """An outlet's score over a period, from :func:`period_score`."""

    #: Every mode in :data:`MODES` order, including those with no inspections.
    modes: tuple[ModeScore, ...]
    #: Weighted mean of the mode means present; None when no weighted mode has a score.
    combined: Decimal | None
    grade: str | None
    grade_key: str | None
    #: Mean of all independent (peer, spot, mystery) inspections, each counted once.
    independent_mean: Decimal | None
    #: Self-check mean minus independent mean; a large positive gap means a lenient self-check.
    self_vs_independent_gap: Decimal | None
    #: Inspections with a total, and those without one (all N.A.) that were left out.
    count: int
    unscored: int
    first_date: dt.date | None
    last_date: dt.date | None
    rules_version: str

    def mode(self, name: str) -> ModeScore:
        """The summary of one mode."""
        return next(summary for summary in self.modes if summary.mode == name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (dates as ISO strings)."""
        return {
            "modes": [summary.to_dict() for summary in self.modes],
            "combined": _number(self.combined), "grade": self.grade, "grade_key": self.grade_key,
            "independent_mean": _number(self.independent_mean),
            "self_vs_independent_gap": _number(self.self_vs_independent_gap),
            "count": self.count, "unscored": self.unscored,
            "first_date": self.first_date and self.first_date.isoformat(),
            "last_date": self.last_date and self.last_date.isoformat(),
            "rules_version": self.rules_version,
        }


def period_score(inspections: Iterable[InspectionResult | Mapping[str, Any]],
                 rules: ScoringRules = DEFAULT_RULES, *,
                 start: dt.date | None = None, end: dt.date | None = None) -> PeriodScore:
    """Combine one outlet's inspections into a period score.

    Each mode is averaged separately; ``combined`` is the mean of the mode means weighted by
    ``rules.mode_weights`` (independent checks weigh more than self-checks by default), over the
    modes that have a scored inspection. ``start``/``end`` (inclusive) filter by date; inspections
    without a total are counted in ``unscored`` and otherwise ignored.
    """
    records = [r if isinstance(r, InspectionResult) else InspectionResult.from_dict(r)
               for r in inspections]
    records = [r for r in records
               if (start is None or r.date >= start) and (end is None or r.date <= end)]
    scored = [r for r in records if r.total is not None]
    by_mode: dict[str, list[Fraction]] = {mode: [] for mode in MODES}
    for record in scored:
        assert record.total is not None
        by_mode[record.mode].append(Fraction(record.total))
    means = {mode: _mean(totals) for mode, totals in by_mode.items()}

    weighted = [(rules.mode_weights[mode], mean) for mode, mean in means.items()
                if mean is not None and rules.mode_weights[mode] > 0]
    weight_sum = sum((Fraction(weight) for weight, _ in weighted), Fraction(0))
    combined_exact = (sum((Fraction(w) * mean for w, mean in weighted), Fraction(0)) / weight_sum
                      if weight_sum else None)
    combined = None if combined_exact is None else cents(combined_exact)

    independent = _mean([total for mode in INDEPENDENT_MODES for total in by_mode[mode]])
    self_mean = means["self_check"]
    gap = (None if self_mean is None or independent is None else cents(self_mean - independent))
    band = rules.grade_for(combined)
    dates = [r.date for r in records]
    return PeriodScore(
        modes=tuple(ModeScore(mode, MODE_LABELS_ZH[mode], len(by_mode[mode]),
                              None if means[mode] is None else cents(means[mode]),
                              rules.mode_weights[mode])
                    for mode in MODES),
        combined=combined, grade=band.label if band else None,
        grade_key=band.key if band else None,
        independent_mean=None if independent is None else cents(independent),
        self_vs_independent_gap=gap, count=len(scored), unscored=len(records) - len(scored),
        first_date=min(dates, default=None), last_date=max(dates, default=None),
        rules_version=rules.version,
    )


def _mean(values: list[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


def combined_mean(mode_means: Mapping[str, Fraction | Decimal | float | None],
                  mode_weights: Mapping[str, Decimal | float]) -> float | None:
    """The combined score from per-mode means already aggregated elsewhere (e.g. by SQL for
    thousands of outlets): the weighting of :func:`period_score` — the mean of the mode means
    weighted by ``mode_weights`` (pass ``rules.mode_weights``) — computed exactly and rounded
    once, half up, to two places as :func:`period_score` does (97.005 is 97.01, never the
    97.00 a binary float's ``round`` gives). Pass exact means (``Fraction``) where there are
    some; a float is read as the decimal it prints as. None when no mode with a positive
    weight has a mean."""
    total = weight_sum = Fraction(0)
    for mode, mean in mode_means.items():
        weight = _exact(mode_weights.get(mode, 0))
        if mean is not None and weight > 0:
            total += weight * _exact(mean)
            weight_sum += weight
    return float(cents(total / weight_sum)) if weight_sum else None


def _exact(value: Fraction | Decimal | float | int) -> Fraction:
    """``value`` as an exact fraction; a float as the decimal it prints as (0.1 is 1/10)."""
    if isinstance(value, Fraction):
        return value
    number = as_decimal(value)
    if number is None:
        raise TypeError(f"not a number: {value!r}")
    return Fraction(number)
