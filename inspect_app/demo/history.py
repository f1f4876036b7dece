"""Synthetic inspection history: months of finalised inspections in every mode.

Used by the demo data (six months of 唐山分行, so rankings, trends and the watch-list show real
figures) and by the dashboard benchmark (2,000 outlets × 3 years). Rows are written with bulk
Core inserts, not the ORM, so millions of answers load in minutes; scores are computed with the
same rules as the scoring engine for the answer values generated here (full or no points per
item), which ``tests/watchlist`` checks against the engine itself.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from ..checklists.models import Checklist
from ..extensions import db
from ..i18n import bank_midnight, local_date
from ..inspections.models import (
    Finding,
    FindingStatus,
    Inspection,
    InspectionAnswer,
    InspectionScore,
    InspectionStatus,
    Mode,
)
from ..scoring import ScoringRules, total_percent
from ..scoring._numbers import cents

MODE_CHANCE = {Mode.self_check: 1.0, Mode.peer_check: 0.34, Mode.spot_check: 0.2,
               Mode.mystery_visit: 0.15}


@dataclass(frozen=True)
class OutletProfile:
    """How well an outlet does over time: pass probability by month index, and how much its
    own self-checks flatter it."""

    base: float = 0.9
    #: change of pass probability per month (negative: getting worse)
    drift: float = 0.0
    #: extra pass probability in self-checks (self-check inflation)
    self_bonus: float = 0.03

    def quality(self, month: int, mode: Mode) -> float:
        q = self.base + self.drift * month + (self.self_bonus if mode is Mode.self_check else 0)
        return max(0.3, min(0.995, q))


def _answer_value(item: dict[str, Any], passed: bool) -> Any:
    kind, config = item["response_type"], item["config"]
    if kind == "pass_fail":
        return "pass" if passed else "fail"
    if kind == "scale":
        return config["max"] if passed else 0
    if kind == "number":
        over = 5 if config.get("direction", "max") == "max" else -1
        return config["limit"] if passed else config["limit"] + over
    if kind == "deduction":
        return 0 if passed else item["weight"]
    return "无"


@dataclass
class _Form:
    items: list[dict[str, Any]]
    scored: list[dict[str, Any]]
    rules: ScoringRules
    #: The checklist's section weights, or None (:meth:`Checklist.section_weights`).
    section_weights: dict[str, Decimal] | None


def _forms(checklist: Checklist) -> dict[Mode, _Form]:
    rules = ScoringRules.from_dict(checklist.scoring_rules)
    weights = checklist.section_weights()
    forms = {}
    for mode in Mode:
        items = [i.to_document() for i in checklist.items_for_mode(mode.value)]
        forms[mode] = _Form(items, [i for i in items if i["response_type"] != "text"], rules,
                            weights)
    return forms


def _score(form: _Form, passed: dict[str, bool]) -> tuple[Decimal, str, str, bool]:
    """The engine's total for full-or-nothing answers, summed here because it is fast."""
    totals: dict[str, tuple[Fraction, Fraction]] = {}
    for item in form.scored:
        weight = Fraction(Decimal(str(item["weight"])))
        earned, possible = totals.get(item["section"], (Fraction(0), Fraction(0)))
        totals[item["section"]] = (earned + (weight if passed[item["code"]] else 0),
                                   possible + weight)
    exact = total_percent(totals, form.section_weights)
    assert exact is not None
    red_line = any(i["red_line"] and not passed[i["code"]] for i in form.scored)
    if red_line:
        rule = form.rules.red_line
        exact = min(exact, Fraction(rule.cap)) if rule.mode == "cap" else Fraction(0)
    total = cents(exact)
    band = form.rules.grade_for(total)
    return total, band.key, band.label, red_line


def generate(outlets: list[tuple[int, int | None]], checklist: Checklist, *, start: date,
             months: int, seed: int, profiles: dict[int, OutletProfile] | None = None,
             assignee_id: int, assignee_for: Callable[[Mode, int], int] | None = None,
             progress: Callable[[int], None] | None = None,
             until: datetime | None = None) -> int:
    """Write ``months`` months of finalised inspections for ``outlets`` starting at ``start``.

    ``outlets`` are (outlet id, self-check assignee or None) pairs; independent checks are
    assigned to ``assignee_for(mode, outlet id)`` if given (a shopper for mystery visits, another
    sub-branch's inspector for peer checks), else to ``assignee_id``. Returns the number of
    inspections written. The caller commits.

    With ``until`` (a moment), the month it falls in is written too, as far as it has gone:
    its independent checks only (its self-checks are the current campaign's tasks), on days
    up to ``until``'s and never later than ``until`` itself.
    """
    rng = random.Random(seed)
    forms = _forms(checklist)
    profiles = profiles or {}
    next_id = (db.session.scalar(sa.select(sa.func.max(Inspection.id))) or 0) + 1
    written = 0
    batch = _Batch()
    last = local_date(until) if until is not None else None
    for month in range(months + (1 if until is not None else 0)):
        first = _add_months(start, month)
        days = (_add_months(start, month + 1) - first).days
        partial = month == months  # the current month, up to ``until``
        if partial:
            if last is not None and last < first:
                break  # seeded in a month's first minutes: ``until`` is still last month's
            assert last is not None and first <= last < _add_months(first, 1), (first, last)
            days = (last - first).days + 1
        for outlet_id, inspector_id in outlets:
            profile = profiles.get(outlet_id) or OutletProfile(
                base=0.94 + rng.random() * 0.05, drift=rng.uniform(-0.002, 0.002))
            for mode in Mode:
                if rng.random() > MODE_CHANCE[mode] or (partial and mode is Mode.self_check):
                    continue
                day = first + timedelta(days=rng.randrange(days))
                quality = profile.quality(month, mode)
                form = forms[mode]
                passed = {i["code"]: rng.random() < (quality if not i["red_line"]
                                                     else max(quality, 0.995))
                          for i in form.scored}
                if mode is Mode.self_check and inspector_id:
                    who = inspector_id
                else:
                    who = assignee_for(mode, outlet_id) if assignee_for else assignee_id
                batch.add(next_id, outlet_id, mode, day, form, passed, checklist.id, who,
                          until)
                next_id += 1
                written += 1
        if len(batch) > 2000:
            batch.flush()
        if progress:
            progress(month + 1)
    batch.flush()
    _reset_sequences()
    # The rows went in through Core, past the session hook that keeps ranking figures current.
    from ..watchlist.period_scores import rebuild

    rebuild(db.session.connection())
    return written


class _Batch:
    """Rows waiting to be inserted, table by table."""

    def __init__(self) -> None:
        self.inspections: list[dict] = []
        self.answers: list[dict] = []
        self.scores: list[dict] = []
        self.findings: list[dict] = []

    def __len__(self) -> int:
        return len(self.inspections)

    def add(self, inspection_id: int, outlet_id: int, mode: Mode, day: date, form: _Form,
            passed: dict[str, bool], checklist_id: int, assignee_id: int,
            until: datetime | None = None) -> None:
        total, grade_key, grade, red_line = _score(form, passed)
        at = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in the bank
        if until is not None and at > until:  # today's, done earlier today
            at = max(bank_midnight(day), until).astimezone(UTC)
        self.inspections.append(dict(
            id=inspection_id, campaign_id=None, checklist_id=checklist_id, mode=mode,
            status=InspectionStatus.final, outlet_id=outlet_id, assignee_id=assignee_id,
            due_start=day, due_end=day, draft={}, events={}, version=1, started_at=at,
            submitted_at=at, submitted_by_id=assignee_id, finalised_at=at, total=total,
            grade_key=grade_key, red_line_failed=red_line, created_at=at, updated_at=at))
        self.scores.append(dict(
            inspection_id=inspection_id, number=1, total=total, grade_key=grade_key,
            grade=grade, detail={"generated": True}, checklist_id=checklist_id,
            rules_version=form.rules.version, reason="提交", created_at=at))
        for position, item in enumerate(form.items):
            scored = item["response_type"] != "text"
            ok = passed.get(item["code"], True)
            weight = Decimal(str(item["weight"])) if scored else Decimal(0)
            self.answers.append(dict(
                inspection_id=inspection_id, item_code=item["code"],
                section_code=item["section"], position=position,
                value=_answer_value(item, ok), note=None,
                earned=weight if ok else Decimal(0), possible=weight, failed=not ok,
                red_line=item["red_line"]))
            if not ok:
                self.findings.append(dict(
                    inspection_id=inspection_id, outlet_id=outlet_id, item_code=item["code"],
                    item_text=item["text"], severity=item["severity"],
                    red_line=item["red_line"], note="检查发现", fixed_on_spot=False,
                    status=FindingStatus.open, created_at=at, updated_at=at))

    def flush(self) -> None:
        for model, rows in ((Inspection, self.inspections), (InspectionScore, self.scores),
                            (InspectionAnswer, self.answers), (Finding, self.findings)):
            for chunk in _chunks(rows, 5000):
                db.session.execute(sa.insert(model.__table__), _plain(model, chunk))
        self.inspections, self.scores, self.answers, self.findings = [], [], [], []


def _plain(model, rows: list[dict]) -> list[dict]:
    """Enum members → their values for a Core insert (the ORM would do this for us)."""
    return [{k: (v.value if hasattr(v, "value") and k in ("mode", "status") else v)
             for k, v in row.items()} for row in rows]


def _chunks(rows: list[dict], size: int) -> Iterator[list[dict]]:
    for index in range(0, len(rows), size):
        yield rows[index:index + size]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _reset_sequences() -> None:
    """PostgreSQL: ids were given explicitly, so move the sequences past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("inspections", "inspection_scores", "inspection_answers", "findings"):
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {table}), 1))"))
