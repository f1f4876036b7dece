"""The watch-list over the database: rule versions, evaluation, manual exit, coaching, queue data.

Evaluation gathers facts for every outlet and sub-branch with a handful of set-based queries
(never a query per unit), then hands them to the pure engine in :mod:`.rules` and stores its
decisions as entries and events. It is deterministic for a given day and data.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..audit.operations import record
from ..auth.models import User
from ..auth.permissions import Permission
from ..db import utcnow
from ..errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_, bank_midnight, local_date, local_today
from ..inspections.models import (
    Finding,
    FindingStatus,
    Inspection,
    InspectionAnswer,
    InspectionStatus,
    Mode,
)
from ..messages import Message
from ..orgs.models import OrgKind, OrgUnit
from ..orgs.operations import visible_units
from . import rules as engine
from .models import (
    ACTION_KINDS,
    CoachingAction,
    EntryStatus,
    QueueDay,
    WatchlistEntry,
    WatchlistEvent,
    WatchlistRuleSet,
)
from .queue_csv import parse_queue_csv

log = logging.getLogger(__name__)

#: How far back independent checks are read for the exit policy.
EXIT_LOOKBACK = timedelta(days=400)


def require_manager(by: User | None) -> None:
    if by is not None and not by.can(Permission.watchlist_manage):
        raise PermissionDenied(N_("只有服务管理人员可以管理名单"), code="not_watchlist_manager")


# -- rule versions -------------------------------------------------------------------------

#: The note of the rule set the product ships with (said in the reader's language on pages).
DEFAULT_NOTE = N_("默认规则")


def branch_id_of(path: str) -> int:
    """The id of the branch a unit lies in, from its path (``/4/27/311/`` → 4)."""
    return int(path.strip("/").split("/")[0])


def rule_sets_for(branch_ids: Iterable[int]) -> dict[int, WatchlistRuleSet]:
    """The rules in force in each of ``branch_ids``: the branch's newest version; for a branch
    that has never tuned its own, the newest of those every branch shared before (written
    before migration 0024), else the product's default as the branch's version 1 (not stored
    until it is tuned). One statement, whatever the number of branches."""
    branch_ids = set(branch_ids)
    newest = (sa.select(WatchlistRuleSet.branch_id,
                        sa.func.max(WatchlistRuleSet.version).label("version"))
              .where(sa.or_(WatchlistRuleSet.branch_id.in_(branch_ids),
                            WatchlistRuleSet.branch_id.is_(None)))
              .group_by(WatchlistRuleSet.branch_id).subquery())
    rows = {row.branch_id: row for row in db.session.scalars(
        sa.select(WatchlistRuleSet).join(newest, sa.and_(
            WatchlistRuleSet.branch_id.is_not_distinct_from(newest.c.branch_id),
            WatchlistRuleSet.version == newest.c.version)))}
    shared = rows.pop(None, None)
    return {branch_id: rows.get(branch_id) or shared or _default_rules(branch_id)
            for branch_id in sorted(branch_ids)}


def _default_rules(branch_id: int) -> WatchlistRuleSet:
    """The product's default as a branch's version 1, not stored: reading rules writes
    nothing (nor waits on a writer); tuning stores it first (:func:`update_rules`)."""
    return WatchlistRuleSet(branch_id=branch_id, version=1, period_days=90,
                            rules=engine.DEFAULT_RULE_SET.to_dict(), note=DEFAULT_NOTE,
                            created_at=utcnow())


def active_rule_set(branch: OrgUnit | int) -> WatchlistRuleSet:
    """The rules in force in ``branch`` (a branch or its id): see :func:`rule_sets_for`."""
    branch_id = branch if isinstance(branch, int) else branch.id
    return rule_sets_for([branch_id])[branch_id]


def rules_branches(by: User, permission: Permission = Permission.reports_read) -> list[OrgUnit]:
    """The branches whose watch-list rules ``by`` reads (or, with ``watchlist_manage``, tunes):
    those their roles lie in, by code."""
    ids = {branch_id_of(path) for path in by.scope_paths(permission)}
    return list(db.session.scalars(sa.select(OrgUnit).where(OrgUnit.id.in_(ids))
                                   .order_by(OrgUnit.code))) if ids else []


def rules_branch(by: User, branch_id: int | None, *, tuning: bool = False) -> OrgUnit:
    """The branch whose rules ``by`` asks for: ``branch_id``, or theirs when they have one (the
    first by code when reading, for a person with roles in several). Tuning another branch's
    rules is refused as not found, as reading them is."""
    branches = rules_branches(by, Permission.watchlist_manage if tuning
                              else Permission.reports_read)
    if not branches:
        if tuning:
            require_manager(by)
        raise PermissionDenied()
    if branch_id is None:
        if tuning and len(branches) > 1:
            raise InvalidInput(N_("您管理多个分行（%(branches)s）的名单，请选择要调整哪个分行的规则"),
                               code="branch_required",
                               branches="、".join(branch.name for branch in branches))
        return branches[0]
    chosen = next((branch for branch in branches if branch.id == branch_id), None)
    if chosen is None:
        raise NotFound(N_("未找到该分行"), code="branch_not_found")
    return chosen


def inflation_gaps(branch_ids: Iterable[int]) -> dict[int, float]:
    """The 自查虚高 rule's 分差 in force in each branch: charts mark the gaps its list acts on."""
    default = next(p.default for p in engine.SelfCheckInflation.params if p.name == "gap")
    gaps = {}
    for branch_id, row in rule_sets_for(branch_ids).items():
        rule = next((r for r in row.rules["rules"]
                     if r["key"] == engine.SelfCheckInflation.key), {"params": {}})
        gaps[branch_id] = float(rule["params"].get("gap", default))
    return gaps


def update_rules(rules: dict[str, Any], *, branch: OrgUnit, period_days: int, note: str | None,
                 by: User | None, base_version: int | None = None) -> WatchlistRuleSet:
    """Tune ``branch``'s rules: validated, stored as its next version, audited. Never edits a
    version, nor another branch's rules. ``base_version``, the version the change was made
    from, refuses it (409) when someone else has saved another since: theirs would be lost."""
    require_manager(by)
    if by is not None and not by.can(Permission.watchlist_manage, branch):
        if by.can(Permission.reports_read, branch):
            raise PermissionDenied(N_("只有本分行的服务管理人员可以调整名单规则"),
                                   code="not_watchlist_manager")
        raise NotFound(N_("未找到该分行"), code="branch_not_found")
    current = active_rule_set(branch)
    if base_version is not None and base_version != current.version:
        raise Conflict(N_("规则刚被他人调整为第 %(version)s 版，请刷新后再调整"),
                       code="rules_changed", version=current.version)
    data = {**rules, "version": current.version + 1}
    problems = engine.validate_rule_set(data)
    if problems:
        raise InvalidInput(N_("名单规则有误"), code="watchlist_rules_invalid", details=problems)
    if not 7 <= period_days <= 366:
        raise InvalidInput(N_("统计期间必须在 7 到 366 天之间"), code="invalid_period")
    rule_set = engine.RuleSet.from_dict(data)
    new = WatchlistRuleSet(branch=branch, version=rule_set.version, rules=rule_set.to_dict(),
                           period_days=period_days, note=note,
                           created_by_id=by.id if by else None)
    try:
        with db.session.begin_nested():
            if current.id is None:  # the default, stored as the version it was tuned from
                db.session.add(current)
            db.session.add(new)
    except IntegrityError:  # another manager saved this version a moment ago
        raise Conflict(N_("规则刚被他人调整为第 %(version)s 版，请刷新后再调整"),
                       code="rules_changed", version=rule_set.version) from None
    record("watchlist_rules.update", new, actor=by, reason=note,
           before={"version": current.version, "rules": current.rules,
                   "period_days": current.period_days},
           after={"version": new.version, "rules": new.rules, "period_days": period_days})
    return new


# -- facts -----------------------------------------------------------------------------------


def _end_of(day: date) -> datetime:
    return bank_midnight(day + timedelta(days=1))


def _start_of(day: date) -> datetime:
    return bank_midnight(day)


@dataclass
class _UnitChecks:
    independent: list[engine.CheckResult] = field(default_factory=list)
    self: list[engine.CheckResult] = field(default_factory=list)


def _checks_by_outlet(since: date, as_of: date) -> dict[int, _UnitChecks]:
    """Finalised inspections per outlet with their failed and red-line items."""
    rows = db.session.execute(
        sa.select(Inspection.id, Inspection.outlet_id, Inspection.mode, Inspection.total,
                  Inspection.submitted_at,
                  Inspection.scores_the_outlet().label("scored"))
        .where(Inspection.status == InspectionStatus.final,
               Inspection.submitted_at >= _start_of(since),
               Inspection.submitted_at < _end_of(as_of))).all()
    failed: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    ids = [row.id for row in rows]
    for chunk in range(0, len(ids), 5000):
        for inspection_id, code, red_line in db.session.execute(
                sa.select(Finding.inspection_id, Finding.item_code, Finding.red_line)
                .where(Finding.inspection_id.in_(ids[chunk:chunk + 5000]),
                       Finding.status != FindingStatus.overturned)):
            failed[inspection_id].append((code, red_line))
    # what each self-check scored: an item it answered 不适用 was not passed (nor failed)
    scored: dict[int, list[str]] = defaultdict(list)
    own = [row.id for row in rows if row.mode is Mode.self_check]
    for chunk in range(0, len(own), 5000):
        for inspection_id, code in db.session.execute(
                sa.select(InspectionAnswer.inspection_id, InspectionAnswer.item_code)
                .where(InspectionAnswer.inspection_id.in_(own[chunk:chunk + 5000]),
                       InspectionAnswer.possible > 0)):
            scored[inspection_id].append(code)
    result: dict[int, _UnitChecks] = defaultdict(_UnitChecks)
    for row in rows:
        fails = failed.get(row.id, [])
        failed_codes = tuple(sorted(code for code, _ in fails))
        check = engine.CheckResult(
            date=local_date(row.submitted_at), mode=row.mode.value,
            # a follow-up's failures count, its partial score does not
            total=float(row.total) if row.total is not None and row.scored else None,
            red_line_failures=tuple(sorted(code for code, red in fails if red)),
            failed_items=failed_codes, ref=f"{row.id:012d}")
        if row.mode is Mode.self_check:
            passed = tuple(sorted(c for c in scored[row.id] if c not in failed_codes))
            check = engine.CheckResult(check.date, check.mode, check.total,
                                       check.red_line_failures, failed_codes, passed, check.ref)
            result[row.outlet_id].self.append(check)
        else:
            result[row.outlet_id].independent.append(check)
    return result


def _queue_by_outlet(start: date, as_of: date) -> dict[int, engine.QueueStats]:
    rows = db.session.execute(
        sa.select(QueueDay.outlet_id, sa.func.sum(QueueDay.customers_served),
                  sa.func.sum(QueueDay.customers_over_limit), sa.func.count(),
                  sa.func.max(QueueDay.day))
        .where(QueueDay.day >= start, QueueDay.day <= as_of).group_by(QueueDay.outlet_id))
    return {outlet_id: engine.QueueStats(int(served), int(over), int(days), last)
            for outlet_id, served, over, days, last in rows}


def _rectification_by_outlet(as_of: date) -> dict[int, tuple[int, int, date | None]]:
    """(open items, overdue items, newest day one went overdue) per outlet, from the
    rectification items' current states and deadlines."""
    from ..rectification.models import OWED, RectificationItem, RectificationState

    not_done = RectificationItem.state.in_([RectificationState.open,
                                            RectificationState.submitted])
    overdue = sa.and_(RectificationItem.state.in_(OWED), RectificationItem.deadline < as_of)
    rows = db.session.execute(
        sa.select(RectificationItem.outlet_id,
                  sa.func.count().filter(not_done),
                  sa.func.count().filter(overdue),
                  sa.func.max(RectificationItem.deadline).filter(overdue))
        .where(not_done).group_by(RectificationItem.outlet_id))
    return {outlet_id: (open_count, overdue_count,
                        newest + timedelta(days=1) if newest is not None else None)
            for outlet_id, open_count, overdue_count, newest in rows}


def gather_facts(as_of: date, rule_set: WatchlistRuleSet, *,
                 checks: dict[int, _UnitChecks] | None = None,
                 items: dict[int, tuple[int, int, date | None]] | None = None
                 ) -> list[engine.UnitFacts]:
    """Facts for every active outlet and sub-branch as of ``as_of``, over ``rule_set``'s
    period. ``checks`` and ``items`` (the bank's checks since :data:`EXIT_LOOKBACK`, its
    unfinished items), when given, are not read again: branches with periods of their own
    share them."""
    period_start = as_of - timedelta(days=rule_set.period_days - 1)
    if checks is None:
        checks = _checks_by_outlet(min(period_start, as_of - EXIT_LOOKBACK), as_of)
    queue = _queue_by_outlet(period_start, as_of)
    if items is None:
        items = _rectification_by_outlet(as_of)
    units = db.session.execute(
        sa.select(OrgUnit.id, OrgUnit.kind, OrgUnit.name, OrgUnit.parent_id)
        .where(OrgUnit.is_active.is_(True),
               OrgUnit.kind.in_([OrgKind.outlet, OrgKind.subbranch]))).all()
    facts: list[engine.UnitFacts] = []
    by_subbranch: dict[int, list[int]] = defaultdict(list)
    names = {}
    for unit_id, kind, name, parent_id in units:
        names[unit_id] = name
        if kind is OrgKind.outlet:
            by_subbranch[parent_id].append(unit_id)
            own = checks.get(unit_id, _UnitChecks())
            open_items, overdue, newest = items.get(unit_id, (0, 0, None))
            facts.append(engine.UnitFacts(
                unit_id, engine.OUTLET, name, tuple(own.independent), tuple(own.self),
                open_items, overdue, queue.get(unit_id), period_start, newest))
    for unit_id, kind, name, _ in units:
        if kind is not OrgKind.subbranch:
            continue
        outlets = by_subbranch.get(unit_id, [])
        independent = [c for o in outlets for c in checks.get(o, _UnitChecks()).independent]
        own_self = [c for o in outlets for c in checks.get(o, _UnitChecks()).self]
        open_items = sum(items.get(o, (0, 0, None))[0] for o in outlets)
        overdue = sum(items.get(o, (0, 0, None))[1] for o in outlets)
        newest = max((items[o][2] for o in outlets if o in items and items[o][2]), default=None)
        stats = [queue[o] for o in outlets if o in queue]
        total_queue = engine.QueueStats(
            sum(s.customers_served for s in stats), sum(s.customers_over_limit for s in stats),
            sum(s.days for s in stats), max((s.last_day for s in stats if s.last_day),
                                            default=None)) if stats else None
        facts.append(engine.UnitFacts(unit_id, engine.SUBBRANCH, name, tuple(independent),
                                      tuple(own_self), open_items, overdue, total_queue,
                                      period_start, newest))
    return facts


# -- evaluation -------------------------------------------------------------------------------


@dataclass
class EvaluationReport:
    as_of: date
    #: each evaluated branch with the version of its rules: (code, name, version), by code
    branches: list[tuple[str, str, int]] = field(default_factory=list)
    actions: dict[str, int] = field(default_factory=dict)

    @property
    def rule_set_version(self) -> int | None:
        """The version of the rules applied, when one branch was evaluated (versions are
        numbered per branch)."""
        return self.branches[0][2] if len(self.branches) == 1 else None

    @property
    def rule_set_versions(self) -> dict[str, int]:
        """The version of the rules applied in each branch evaluated, by branch code."""
        return {code: version for code, _name, version in self.branches}

    def summary(self, _=engine._zh) -> str:
        """What the evaluation did, e.g. "2026-11-30 名单评估（规则第 2 版）：列入 1 个，继续在册 8 个"
        — in Chinese (as logged and answered by the API) or through ``_`` (a page). With several
        branches, each one's version of its rules is named."""
        names = {"enter": N_("列入 %(n)s 个"), "exit": N_("出列 %(n)s 个"),
                 "update": N_("原因变化 %(n)s 个"), "stay": N_("继续在册 %(n)s 个")}
        parts = _("，").join(_(names[a], n=self.actions[a]) for a in names
                            if self.actions.get(a)) or _("无变化")
        if self.rule_set_version is not None:
            return _("%(date)s 名单评估（规则第 %(version)s 版）：%(parts)s",
                     date=self.as_of.isoformat(), version=self.rule_set_version, parts=parts)
        if not self.branches:
            return _("%(date)s 名单评估：%(parts)s", date=self.as_of.isoformat(), parts=parts)
        versions = _("，").join(_("%(branch)s规则第 %(version)s 版", branch=name, version=version)
                               for _code, name, version in self.branches)
        return _("%(date)s 名单评估（%(versions)s）：%(parts)s", date=self.as_of.isoformat(),
                 versions=versions, parts=parts)


def _current_states() -> tuple[dict[int, engine.EntryState], dict[int, WatchlistEntry]]:
    states: dict[int, engine.EntryState] = {}
    active: dict[int, WatchlistEntry] = {}
    for entry in db.session.scalars(sa.select(WatchlistEntry).order_by(WatchlistEntry.id)):
        if entry.status is EntryStatus.active:
            active[entry.unit_id] = entry
            states[entry.unit_id] = engine.EntryState(
                True, frozenset(r["rule_key"] for r in entry.reasons), entry.entered_on)
        elif entry.exit_kind == "manual" and entry.unit_id not in active:
            states[entry.unit_id] = engine.EntryState(
                False, frozenset(), entry.entered_on, manually_exited_at=entry.exited_on)
        elif entry.unit_id in states and entry.unit_id not in active:
            states.pop(entry.unit_id)  # a later rule exit supersedes an earlier manual one
    return states, active


def _branch_of_units(unit_ids: set[int] | None) -> dict[int, int]:
    """The branch of every active outlet and sub-branch (of ``unit_ids`` only, if given)."""
    query = sa.select(OrgUnit.id, OrgUnit.path).where(
        OrgUnit.is_active.is_(True), OrgUnit.kind.in_([OrgKind.outlet, OrgKind.subbranch]))
    return {unit_id: branch_id_of(path) for unit_id, path in db.session.execute(query)
            if unit_ids is None or unit_id in unit_ids}


def evaluate(as_of: date | None = None, *, by: User | None = None,
             unit_ids: set[int] | None = None) -> EvaluationReport:
    """Evaluate every outlet and sub-branch (or only ``unit_ids``) and store the decisions.

    Each branch's units are judged by that branch's rules (:func:`rule_sets_for`). Run by a
    person (立即评估, the API), it covers the units they manage the list of: one branch's
    service manager neither evaluates another branch nor hears its counts. The nightly run
    (``by`` None) covers the bank.

    Every listed unit's reasons are those of this evaluation, with today's figures (the rules
    met on listing stay in its history), and its progress towards the exit policy is stored
    beside them. A unit that meets no rule any more but may not leave yet gets one history
    note saying so. The caller commits."""
    require_manager(by)
    if by is not None:
        mine = set(db.session.scalars(visible_units(by, Permission.watchlist_manage)
                                      .with_only_columns(OrgUnit.id)))
        unit_ids = mine if unit_ids is None else set(unit_ids) & mine
    today = local_today()
    as_of = as_of or today
    if as_of > today:
        # entries dated ahead of today read "-20 天", count overdue items not yet due and take
        # no follow-up (one must fall between the entry and today)
        raise InvalidInput(N_("评估日期不能晚于今天（%(today)s）"), code="as_of_in_future",
                           today=today.isoformat())
    branch_of = _branch_of_units(unit_ids)
    rule_sets = rule_sets_for(set(branch_of.values()))
    branches = {unit.id: unit for unit in db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.id.in_(rule_sets)))}
    states, active = _current_states()
    report = EvaluationReport(as_of)
    gathered: dict[int, list[engine.UnitFacts]] = {}  # by period: branches mostly share one
    shared = {}
    if len({row.period_days for row in rule_sets.values()}) > 1:  # read the bank's once
        longest = max(row.period_days for row in rule_sets.values())
        since = min(as_of - timedelta(days=longest - 1), as_of - EXIT_LOOKBACK)
        shared = {"checks": _checks_by_outlet(since, as_of),
                  "items": _rectification_by_outlet(as_of)}
    done: list[tuple[OrgUnit, int, dict[str, int]]] = []
    for branch_id, row in sorted(rule_sets.items(), key=lambda item: branches[item[0]].code):
        if row.period_days not in gathered:
            gathered[row.period_days] = gather_facts(as_of, row, **shared)
        facts = [f for f in gathered[row.period_days] if branch_of.get(f.unit_id) == branch_id]
        branch = branches[branch_id]
        report.branches.append((branch.code, branch.name, row.version))
        done.append((branch, row.version,
                     _store_decisions(facts, row, states, active, as_of, report)))
    db.session.flush()
    # one entry per branch, filed under it: a branch's auditors read their own list's
    # evaluation, not another branch's counts
    for branch, version, actions in done:
        changed = {k: v for k, v in actions.items() if k in ("enter", "exit", "update")}
        record("watchlist.evaluate", branch, object_type="watchlist",
               object_id=as_of.isoformat(), actor=by,
               after={"rule_set_version": version, **changed})
    if not done:  # nothing to evaluate (no open unit yet): the run is still on record
        record("watchlist.evaluate", object_type="watchlist", object_id=as_of.isoformat(),
               actor=by, after={})
    log.info(report.summary())
    return report


def _store_decisions(facts: list[engine.UnitFacts], rule_set_row: WatchlistRuleSet,
                     states: dict[int, engine.EntryState], active: dict[int, WatchlistEntry],
                     as_of: date, report: EvaluationReport) -> dict[str, int]:
    """Judge ``facts`` (one branch's units) by ``rule_set_row`` and store the decisions; the
    number of each action, also added to ``report``'s."""
    rule_set = engine.RuleSet.from_dict(rule_set_row.rules)
    facts_of = {f.unit_id: f for f in facts}
    version = rule_set_row.version
    actions: dict[str, int] = defaultdict(int)
    for decision in engine.evaluate_all(facts, rule_set, states):
        report.actions[decision.action] = report.actions.get(decision.action, 0) + 1
        actions[decision.action] += 1
        hits = [hit.to_dict() for hit in decision.hits]
        entry = active.get(decision.unit_id)
        if decision.action == "enter":
            entry = WatchlistEntry(unit_id=decision.unit_id, status=EntryStatus.active,
                                   entered_on=as_of, reasons=hits, rule_set_version=version,
                                   last_evaluated_on=as_of)
            entry.events.append(WatchlistEvent(kind="entered", on=as_of, hits=hits,
                                               note=decision.reason_zh,
                                               note_data=dict(decision.note),
                                               rule_set_version=version))
            db.session.add(entry)
        elif entry is not None and decision.action in ("stay", "update"):
            note = dict(decision.note)
            if decision.action == "stay" and not hits and entry.reasons:
                # it met rules until now: say once that it meets none, and what it still misses
                note = engine.cleared_note((r["rule_key"] for r in entry.reasons), decision)
            if decision.action == "update" or note["key"] == "cleared":
                entry.events.append(WatchlistEvent(kind="reasons_changed", on=as_of, hits=hits,
                                                   note=engine.say(note), note_data=note,
                                                   rule_set_version=version))
            entry.reasons, entry.rule_set_version, entry.last_evaluated_on = hits, version, as_of
        elif entry is not None and decision.action == "exit":
            entry.status = EntryStatus.exited
            entry.exited_on, entry.exit_kind = as_of, "rule"
            entry.exit_reason, entry.exit_note = decision.reason_zh, dict(decision.note)
            entry.last_evaluated_on, entry.exit_progress = as_of, None  # nothing left to do
            entry.events.append(WatchlistEvent(kind="exited", on=as_of, note=decision.reason_zh,
                                               note_data=dict(decision.note),
                                               rule_set_version=version))
        if entry is not None and decision.on_list_after:
            entry.exit_progress = engine.exit_progress(
                facts_of[decision.unit_id], rule_set.exit, entry.entered_on, decision.hits)
    return dict(actions)


def listable_unit(text: str, by: User) -> OrgUnit:
    """The outlet or sub-branch a manager means by ``text``: its code, or its name when only
    one unit they may see bears it (two 文化路分理处 need their codes)."""
    text = text.strip()
    visible = sa.and_(OrgUnit.is_active.is_(True),
                      OrgUnit.kind.in_([OrgKind.outlet, OrgKind.subbranch]))
    unit = db.session.scalar(sa.select(OrgUnit).where(visible, OrgUnit.code == text.upper()))
    if unit is None:
        named = db.session.scalars(sa.select(OrgUnit).where(visible, OrgUnit.name == text)
                                   .order_by(OrgUnit.code).limit(10)).all()
        named = [u for u in named if by.can(Permission.reports_read, u)]
        if len(named) > 1:
            raise InvalidInput(N_("有多个单位名为「%(name)s」，请填写编码：%(codes)s"),
                               code="unit_ambiguous", name=text,
                               codes="、".join(u.code for u in named))
        unit = named[0] if named else None
    if unit is None or not by.can(Permission.reports_read, unit):
        raise NotFound(N_("未找到编码或名称为「%(text)s」的网点或支行"), code="unit_not_found",
                       text=text)
    return unit


def manual_enter(unit: OrgUnit, *, reason: str, on: date | None = None,
                 by: User | None) -> WatchlistEntry:
    """A service manager puts a unit on the list by hand, with a written reason (the mirror of
    :func:`manual_exit`). The rules it meets today, if any, are its reasons beside the written
    one; it leaves by the exit policy like any entry, or by hand."""
    require_manager(by)
    if unit.kind not in (OrgKind.outlet, OrgKind.subbranch) or not unit.is_active:
        raise InvalidInput(N_("只能将在用的网点或支行列入名单"), code="not_listable")
    if db.session.scalar(sa.select(WatchlistEntry.id).where(
            WatchlistEntry.unit_id == unit.id, WatchlistEntry.status == EntryStatus.active)):
        raise IllegalTransition(N_("该单位已在名单上"), code="already_on_list")
    on = on or local_today()
    rule_set_row = active_rule_set(branch_id_of(unit.path))
    rule_set = engine.RuleSet.from_dict(rule_set_row.rules)
    facts = next(f for f in gather_facts(on, rule_set_row) if f.unit_id == unit.id)
    hits = engine.hits_for(facts, rule_set)
    entry = WatchlistEntry(unit=unit, status=EntryStatus.active, entered_on=on,
                           entry_kind="manual", entry_reason=reason,
                           reasons=[hit.to_dict() for hit in hits],
                           rule_set_version=rule_set_row.version, last_evaluated_on=on,
                           exit_progress=engine.exit_progress(facts, rule_set.exit, on, hits))
    entry.events.append(WatchlistEvent(kind="manual_entry", on=on, note=reason,
                                       hits=[hit.to_dict() for hit in hits],
                                       rule_set_version=rule_set_row.version))
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:  # listed meanwhile (a second tap, the evaluation): one stay
        raise IllegalTransition(N_("该单位已在名单上"), code="already_on_list") from None
    record("watchlist.manual_entry", entry, actor=by, reason=reason,
           after={"unit_id": unit.id, "entered_on": on})
    return entry


def manual_exit(entry: WatchlistEntry, *, reason: str, on: date | None = None,
                by: User | None) -> WatchlistEntry:
    """A service manager takes a unit off the list, with a written reason."""
    require_manager(by)
    if entry.status is not EntryStatus.active:
        raise IllegalTransition(N_("该单位已不在名单上"), code="not_on_list")
    return _exit_by_hand(entry, reason, on or local_today(), by)


def exit_closed_unit(unit: OrgUnit, *, by: User | None) -> WatchlistEntry | None:
    """A unit that is deactivated (closed, merged) leaves the list the same day: evaluations
    only cover active units, so its entry would otherwise stay open for good, counted among
    those on the list. Said in its history and the audit log."""
    entry = db.session.scalar(sa.select(WatchlistEntry).where(
        WatchlistEntry.unit_id == unit.id, WatchlistEntry.status == EntryStatus.active))
    if entry is None:
        return None
    # stored as a manager's written reason is, in the bank's language
    return _exit_by_hand(entry, "机构已停用", local_today(), by)


def _exit_by_hand(entry: WatchlistEntry, reason: str, on: date,
                  by: User | None) -> WatchlistEntry:
    entry.status, entry.exited_on, entry.exit_kind, entry.exit_reason = (
        EntryStatus.exited, on, "manual", reason)
    entry.events.append(WatchlistEvent(kind="manual_exit", on=on, note=reason))
    db.session.flush()
    record("watchlist.manual_exit", entry, actor=by, reason=reason)
    return entry


def log_action(entry: WatchlistEntry, *, kind: str, held_on: date, people: str, notes: str,
               attachments: list[dict[str, Any]], by: User,
               client_id: str | None = None) -> tuple[CoachingAction, bool]:
    """Record a follow-up (送教上门, 驻点辅导, 约谈…) on an entry. A ``client_id`` already
    recorded on the entry (a retry, a second tap) gives that record back, not a second one:
    ``(action, created)``."""
    require_manager(by)
    sent_before = _action_sent(entry, client_id)
    if sent_before is not None:
        return sent_before, False
    if kind not in ACTION_KINDS:
        raise InvalidInput(N_("未知的辅导类型"), code="invalid_kind")
    if entry.status is not EntryStatus.active:  # the follow-up of a unit on the list
        raise IllegalTransition(N_("该单位已不在名单上，不能再记录跟进"), code="not_on_list")
    if held_on > local_today():  # a record of what was done, not a plan
        raise InvalidInput(N_("跟进日期不能晚于今天（%(today)s）"), code="held_in_future",
                           today=local_today().isoformat())
    if held_on < entry.entered_on:
        raise InvalidInput(N_("跟进日期不能早于列入名单的日期（%(day)s）"),
                           code="held_before_listing", day=entry.entered_on.isoformat())
    # by id: joined to ``entry.actions`` only once written (a savepoint flushes the session)
    action = CoachingAction(entry_id=entry.id, kind=kind, held_on=held_on, people=people,
                            notes=notes, attachments=attachments, created_by_id=by.id,
                            client_id=client_id)
    try:
        with db.session.begin_nested():
            db.session.add(action)
            db.session.flush()
    except IntegrityError:  # the same record sent twice at once: the first one stands
        return _action_sent(entry, client_id), False
    db.session.expire(entry, ["actions"])
    record("coaching_action.create", action, actor=by,
           after={"entry_id": entry.id, "kind": kind, "held_on": held_on})
    return action, True


def _action_sent(entry: WatchlistEntry, client_id: str | None) -> CoachingAction | None:
    if client_id is None:
        return None
    return db.session.scalar(sa.select(CoachingAction).where(
        CoachingAction.entry_id == entry.id, CoachingAction.client_id == client_id))


def import_queue_csv(data: bytes, *, by: User | None) -> dict[str, Any]:
    """Import queue-system data; any problem refuses the whole file. Re-importing a day
    replaces its figures. The caller commits (and may then evaluate)."""
    from .queue_csv import COLUMN_LABELS_ZH

    def column(key: str | None) -> Message | None:
        # every problem names its column as the file heads it (in the reader's language),
        # whether the parser or the outlet look-up below found it
        return Message(COLUMN_LABELS_ZH[key]) if key in COLUMN_LABELS_ZH else None

    require_manager(by)
    parsed = parse_queue_csv(data)
    problems = [{"row": p.row, "column": column(p.column), "message": p.message_zh}
                for p in parsed.problems]
    codes = {row.outlet_code for row in parsed.rows}
    # the outlets whose list the importer keeps (the CLI: the whole bank's); another branch's
    # outlet is as unknown as one that does not exist
    scope = [] if by is None else [OrgUnit.path.startswith(path)
                                   for path in by.scope_paths(Permission.watchlist_manage)]
    outlets = dict(db.session.execute(sa.select(OrgUnit.code, OrgUnit.id).where(
        OrgUnit.code.in_(codes), OrgUnit.kind == OrgKind.outlet,
        sa.or_(*scope) if scope else sa.true())).all()) if codes else {}
    for row in parsed.rows:
        if row.outlet_code not in outlets:
            problems.append({"row": row.row, "column": column("outlet_code"),
                             "message": Message("网点编码 %(code)s 不存在", code=row.outlet_code)})
    if problems or not parsed.rows:
        raise InvalidInput(N_("排队数据有误，未导入任何内容"), code="queue_import_invalid",
                           details=problems or [{"row": None, "column": None,
                                                 "message": Message("文件中没有数据")}])
    existing = {(o, d): q for q, o, d in db.session.execute(
        sa.select(QueueDay, QueueDay.outlet_id, QueueDay.day).where(
            QueueDay.outlet_id.in_(set(outlets.values())),
            QueueDay.day.in_({r.day for r in parsed.rows})))}
    for row in parsed.rows:
        key = (outlets[row.outlet_code], row.day)
        if key in existing:
            existing[key].customers_served = row.customers_served
            existing[key].customers_over_limit = row.customers_over_limit
        else:
            db.session.add(QueueDay(outlet_id=key[0], day=row.day,
                                    customers_served=row.customers_served,
                                    customers_over_limit=row.customers_over_limit))
    db.session.flush()
    result = {"rows": len(parsed.rows), "outlets": len({r.outlet_code for r in parsed.rows}),
              "first_day": min(r.day for r in parsed.rows).isoformat(),
              "last_day": max(r.day for r in parsed.rows).isoformat()}
    record("queue_data.import", object_type="queue_data", object_id=result["last_day"],
           actor=by, after=result)
    return result


def watch_listed_outlet_ids() -> set[int]:
    """Outlets on the list, or in a sub-branch on the list (spot checks weigh them more)."""
    listed = set(db.session.scalars(sa.select(WatchlistEntry.unit_id).where(
        WatchlistEntry.status == EntryStatus.active)))
    if not listed:
        return set()
    return set(db.session.scalars(sa.select(OrgUnit.id).where(
        OrgUnit.kind == OrgKind.outlet,
        sa.or_(OrgUnit.id.in_(listed), OrgUnit.parent_id.in_(listed)))))


def get_entry(entry_id: int, by: User) -> WatchlistEntry:
    entry = db.session.get(WatchlistEntry, entry_id)
    if entry is None or not by.can(Permission.reports_read, entry.unit):
        raise NotFound(N_("未找到该名单记录"), code="entry_not_found")
    return entry


def annotate(entries: list[WatchlistEntry], as_of: date | None = None) -> list[WatchlistEntry]:
    """Add what the list shows beside each entry: days on the list, open/overdue items, the
    last independent score and a trend arrow — a few queries for the whole page, however
    many entries it holds.

    A sub-branch's figures are those of its open outlets, as its evaluation's facts
    (:func:`gather_facts`) and its trend are: the overdue items of a closed outlet count on
    its row no more than in its exit progress."""
    from .dashboards import pooled_outlets, trend_arrow, trends

    as_of = as_of or local_today()
    items = _rectification_by_outlet(as_of)
    outlets_of = pooled_outlets(list({entry.unit_id: entry.unit for entry in entries}.values()))
    latest = _latest_independent({o for outlets in outlets_of.values() for o in outlets})
    arrows = {unit_id: trend_arrow(points)
              for unit_id, points in trends(outlets_of, end=as_of, months=3).items()}
    for entry in entries:
        outlets = outlets_of[entry.unit_id]
        entry.days_on_list = ((entry.exited_on or as_of) - entry.entered_on).days
        entry.open_items = sum(items.get(o, (0, 0, None))[0] for o in outlets)
        entry.overdue_items = sum(items.get(o, (0, 0, None))[1] for o in outlets)
        last = max((latest[o] for o in outlets if o in latest), default=None)
        entry.last_independent_score = float(last[1]) if last is not None else None
        entry.trend = arrows[entry.unit_id]
    return entries


def _latest_independent(outlet_ids: set[int]) -> dict[int, tuple[datetime, Any]]:
    """Each outlet's last independent result that scores it: (submitted at, total)."""
    if not outlet_ids:
        return {}
    newest = sa.func.row_number().over(
        partition_by=Inspection.outlet_id,
        order_by=(Inspection.submitted_at.desc(), Inspection.id.desc())).label("newest")
    ranked = (sa.select(Inspection.outlet_id, Inspection.submitted_at, Inspection.total, newest)
              .where(Inspection.outlet_id.in_(sorted(outlet_ids)),
                     Inspection.mode != Mode.self_check,
                     Inspection.status.in_([InspectionStatus.submitted, InspectionStatus.final]),
                     Inspection.total.is_not(None), Inspection.scores_the_outlet())
              .subquery())
    return {outlet_id: (submitted_at, total) for outlet_id, submitted_at, total in
            db.session.execute(sa.select(ranked.c.outlet_id, ranked.c.submitted_at,
                                         ranked.c.total).where(ranked.c.newest == 1))}
