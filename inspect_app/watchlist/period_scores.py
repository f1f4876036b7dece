"""Per-period figures kept current as inspections change: every unit's scores, and how often
each item failed in the whole branch.

Rankings of a branch list every one of its outlets; computing them per request means reading
and combining every inspection of the period, then building thousands of rows in Python. The
figures change only when an inspection's score does, so they are kept in
:class:`~inspect_app.watchlist.models.PeriodScore` rows instead — one per period (the week,
the month and the quarter of the submission), mode filter and unit — and a ranking is one
indexed read.

How the rows stay right:

- :func:`_after_flush` (a session event) notes every flushed change of an inspection's
  status, score, outlet, mode or submission time, new or deleted inspections, and outlets that
  move to another sub-branch or are (de)activated; :func:`_before_commit` recomputes the
  affected rows from the inspections themselves just before the commit, in the same
  transaction: nothing commits without its figures.
- On PostgreSQL the recomputation first takes transaction-scoped advisory locks on the units
  (and items) concerned, in one sorted batch, so two transactions touching the same outlet or
  sub-branch recompute one after the other and the second sees the first's committed
  inspections (no lost update, no duplicate key, no deadlock between them).
- Bulk writers that bypass the ORM (the synthetic history, a restore) call :func:`rebuild`;
  so does ``flask --app inspect_app watchlist rebuild-scores``, the repair for rows changed by
  hand in SQL, and the migration that created the table.

Failed items work the same way (:class:`~inspect_app.watchlist.models.PeriodFailure`, one row
per period, branch and item), counting the findings of results that count (submitted or
final, as scores do): a finding flushed new, overturned, moved or deleted, or whose inspection
changes status (sent back, resubmitted), recomputes its item's rows for the week, month and
quarter of its creation, under an advisory lock on (branch, item).

The figures themselves come from :func:`figures`, the one place that combines per-mode sums
(the scoring engine's mode weighting), so a rebuilt row and an incrementally kept one agree.

Which rules: a period is combined and graded by the mode weights and grade bands of the
checklist version in force at its end — the one last published before it ended, or for the
current period the latest published (:func:`rules_for`); the default rules before any. A period
that has ended keeps its figures whatever is published later; publishing a version with other
weights or bands re-grades the periods still running (:func:`regrade_running`).
"""
from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from ..checklists.models import Checklist
from ..extensions import db
from ..i18n import bank_midnight, local_date
from ..inspections.models import RESULT_VISIBLE, Finding, FindingStatus, Inspection
from ..orgs.models import OrgKind, OrgUnit
from ..scoring import DEFAULT_RULES, ScoringRules, combined_mean
from ..scoring._numbers import cents
from .models import PeriodFailure, PeriodScore

#: Period kinds a ranking can ask for.
KINDS = ("week", "month", "quarter")
#: ``mode`` of the rows over all modes (the combined score).
ALL_MODES = ""

_VISIBLE = [status.value for status in RESULT_VISIBLE]
_INSPECTION_FIELDS = ("status", "total", "outlet_id", "mode", "submitted_at")
_OUTLET_FIELDS = ("parent_id", "is_active")
_FINDING_FIELDS = ("status", "created_at", "outlet_id", "item_code")
#: First keys of PostgreSQL advisory locks taken here (the second is a unit or an item).
_LOCK_SPACE, _ITEM_LOCK_SPACE = 7301, 7302
_TABLE = PeriodScore.__table__
_FAILURES = PeriodFailure.__table__
_OVERTURNED = FindingStatus.overturned.value


def period_start(kind: str, day: date) -> date:
    """First day of the week (Monday), month or quarter containing ``day``."""
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, day.month, 1)


def period_end(kind: str, start: date) -> date:
    """The day after the period starting at ``start``."""
    if kind == "week":
        return start + timedelta(days=7)
    months = 3 if kind == "quarter" else 1
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def _day(moment: datetime) -> date:
    """The bank's day of a submission time (periods are bounded at the bank's midnight)."""
    return local_date(moment)


def _r(value: Fraction | None) -> float | None:
    """An exact figure rounded once, half up, to two places (as the scoring engine rounds:
    a mean of exactly 97.005 is 97.01)."""
    return float(cents(value)) if value is not None else None


#: When each version's rules came into force: ``(published_at, rules)``, oldest first.
Timeline = list[tuple[datetime, ScoringRules]]


def rules_timeline(conn: sa.Connection) -> Timeline:
    """Every published (or since retired) version's rules, by publication, in one read."""
    checklists = Checklist.__table__
    return [(published_at, ScoringRules.from_dict(rules)) for published_at, rules in conn.execute(
        sa.select(checklists.c.published_at, checklists.c.scoring_rules)
        .where(checklists.c.published_at.is_not(None))
        .order_by(checklists.c.published_at, checklists.c.id))]


def rules_at(timeline: Timeline, moment: datetime) -> ScoringRules:
    """The rules in force just before ``moment``: the last published before it."""
    earlier = [rules for published_at, rules in timeline if published_at < moment]
    return earlier[-1] if earlier else DEFAULT_RULES


def rules_for(kind: str, start: date, timeline: Timeline | None = None) -> ScoringRules:
    """The rules a period is combined and graded by: those in force at its end."""
    if timeline is None:
        timeline = rules_timeline(db.session.connection())
    return rules_at(timeline, _bounds(kind, start)[1])


def _period_rules(rules: ScoringRules) -> tuple:
    """What of a rule set the period figures use: the modes' weights and the grade bands."""
    return tuple(rules.mode_weights.items()), rules.grade_bands


def regrade_running(conn: sa.Connection, published: datetime) -> int:
    """A version published at ``published``: if its weights or bands differ from those in
    force before, recompute the rows of every period still running then (they are graded by
    the new rules now). Returns the number of rows written."""
    timeline = rules_timeline(conn)
    if _period_rules(rules_at(timeline, published)) == _period_rules(
            rules_at(timeline, published + timedelta(microseconds=1))):
        return 0
    day = _day(published)
    periods = {(kind, period_start(kind, day)) for kind in KINDS}
    units = conn.execute(sa.select(_TABLE.c.unit_id, _TABLE.c.unit_kind).distinct().where(
        sa.or_(*(sa.and_(_TABLE.c.period_kind == kind, _TABLE.c.period_start == start)
                 for kind, start in periods)))).all()
    cells = {(kind, start, unit_id, unit_kind)
             for kind, start in periods for unit_id, unit_kind in units}
    if not cells:
        return 0
    _lock(conn, (unit_id for _, _, unit_id, _ in cells))
    _delete(conn, _TABLE, ("period_kind", "period_start", "unit_id"), cells)
    rows = _computed(conn, cells=cells)
    if rows:
        conn.execute(_TABLE.insert(), rows)
    return len(rows)


def figures(modes: Mapping[str, tuple[float, int]], rules: ScoringRules = DEFAULT_RULES) -> tuple:
    """``(combined, grade, inspections, self_mean, independent_mean, gap)`` from per-mode
    ``(sum of scores, number of inspections)``, each rounded once, half up, to two places
    (the engine's :func:`~inspect_app.scoring.period_score` arithmetic), combined and graded
    by ``rules`` (see :func:`rules_for`)."""
    count = independent_cents = independent_n = 0
    self_mean = None
    means: dict[str, Fraction] = {}
    # Scores have two decimals: their sum in whole cents is exact whatever the order they were
    # added in (SQL here, Python in a rebuild); the means are exact fractions of it.
    for mode in sorted(modes):
        total, n = modes[mode]
        cents_ = round(total * 100)
        means[mode] = Fraction(cents_, n * 100)
        count += n
        if mode == "self_check":
            self_mean = means[mode]
        else:
            independent_cents += cents_
            independent_n += n
    combined = combined_mean(means, rules.mode_weights)
    independent = Fraction(independent_cents, independent_n * 100) if independent_n else None
    band = rules.grade_for(combined)
    gap = (self_mean - independent
           if self_mean is not None and independent is not None else None)
    return (combined, band.label if band else None, count, _r(self_mean), _r(independent),
            _r(gap))


def _rows(kind: str, start: date, unit_id: int, unit_kind: str,
          modes: Mapping[str, tuple[float, int]], rules: ScoringRules) -> list[dict]:
    """The rows of one unit and period: all modes together, then each mode alone."""
    rows = []
    for mode, subset in [(ALL_MODES, modes), *((m, {m: v}) for m, v in modes.items())]:
        combined, grade, count, self_mean, independent, gap = figures(subset, rules)
        rows.append({"period_kind": kind, "period_start": start, "mode": mode,
                     "unit_id": unit_id, "unit_kind": unit_kind, "inspections": count,
                     "combined": combined, "grade": grade, "self_mean": self_mean,
                     "independent_mean": independent, "gap": gap})
    return rows


def _bounds(kind: str, start: date) -> tuple[datetime, datetime]:
    return bank_midnight(start), bank_midnight(period_end(kind, start))


def _delete(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...],
            cells: set[tuple], chunk: int = 200) -> None:
    """Delete the rows of ``table`` whose ``columns`` equal the leading values of one of
    ``cells``, in slices small enough for one ``OR`` (SQLite refuses expressions deeper than
    1,000 terms; a transaction touching many units or items may have more cells)."""
    keys = sorted({cell[:len(columns)] for cell in cells})
    for index in range(0, len(keys), chunk):
        conn.execute(table.delete().where(sa.or_(*(
            sa.and_(*(table.c[name] == value for name, value in zip(columns, key, strict=True)))
            for key in keys[index:index + chunk]))))


def _lock(conn: sa.Connection, keys: Iterable[int], space: int = _LOCK_SPACE) -> None:
    """PostgreSQL: transaction-scoped advisory locks on ``keys``, taken in order."""
    if conn.dialect.name != "postgresql":
        return  # SQLite has one writer at a time already
    for key in sorted(set(keys)):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                     {"space": space, "key": key})


def _item_key(root_id: int, item_code: str) -> int:
    return zlib.crc32(f"{root_id}:{item_code}".encode()) & 0x7FFFFFFF


def _root(path: str) -> int:
    """Id of the top-level unit of a unit's path (``/1/5/23/`` → 1; that unit's own path is
    ``/1/``, see :meth:`OrgUnit.refresh_path`)."""
    return int(path.split("/")[1])


def refresh_failures(conn: sa.Connection, touched: Iterable[tuple[int, str, date]]) -> None:
    """Recompute the failed-item rows of ``touched`` (outlet id, item code, day of creation)
    findings for the week, month and quarter of each day: one delete, one read, one insert."""
    touched = set(touched)
    if not touched:
        return
    units = OrgUnit.__table__
    paths = dict(conn.execute(sa.select(units.c.id, units.c.path)
                              .where(units.c.id.in_({o for o, _, _ in touched}))).all())
    cells = {(kind, period_start(kind, day), _root(paths[outlet_id]), code)
             for outlet_id, code, day in touched if outlet_id in paths for kind in KINDS}
    if not cells:
        return
    _lock(conn, (_item_key(root, code) for _, _, root, code in cells), _ITEM_LOCK_SPACE)
    _delete(conn, _FAILURES, ("period_kind", "period_start", "unit_id", "item_code"), cells)
    rows = _computed_failures(conn, cells)
    if rows:
        conn.execute(_FAILURES.insert(), rows)


def _computed_failures(conn: sa.Connection,
                       only: set[tuple[str, date, int, str]] | None = None) -> list[dict]:
    """Every failed-item row as computed from the findings, or only the rows ``only``
    (period kind, period start, branch id, item code)."""
    findings, units, inspections = Finding.__table__, OrgUnit.__table__, Inspection.__table__
    query = (sa.select(units.c.path, findings.c.outlet_id, findings.c.item_code,
                       findings.c.item_text, findings.c.created_at)
             .join(units, units.c.id == findings.c.outlet_id)
             .join(inspections, inspections.c.id == findings.c.inspection_id)
             .where(sa.cast(findings.c.status, sa.String) != _OVERTURNED,
                    # a result sent back for correction counts again once resubmitted
                    sa.cast(inspections.c.status, sa.String).in_(_VISIBLE)))
    if only is not None:
        spans = [_bounds(kind, start) for kind, start, _, _ in only]
        query = query.where(
            findings.c.item_code.in_({code for _, _, _, code in only}),
            findings.c.created_at >= min(low for low, _ in spans),
            findings.c.created_at < max(high for _, high in spans),
            sa.or_(*(units.c.path.startswith(f"/{root}/")
                     for root in sorted({root for _, _, root, _ in only}))))
    cells: dict[tuple[str, date, int, str], list] = {}
    for path, outlet_id, code, text, created_at in conn.execute(query):
        day, root = _day(created_at), _root(path)
        for kind in KINDS:
            key = (kind, period_start(kind, day), root, code)
            if only is not None and key not in only:
                continue
            cell = cells.get(key)
            if cell is None:
                cells[key] = [1, {outlet_id}, text]
            else:
                cell[0] += 1
                cell[1].add(outlet_id)
                cell[2] = min(cell[2], text)
    return [{"period_kind": kind, "period_start": start, "unit_id": root, "item_code": code,
             "item_text": text, "failures": failures, "outlets": len(outlets)}
            for (kind, start, root, code), (failures, outlets, text) in cells.items()]


def refresh(conn: sa.Connection, touched: Iterable[tuple[int, date]]) -> None:
    """Recompute the rows of the outlets and sub-branches of ``touched`` (outlet id, day of
    submission) pairs, for the week, month and quarter of each day.

    A handful of statements however many rows: one delete, one read of the inspections the
    rows are made of, one insert."""
    touched = set(touched)
    if not touched:
        return
    outlets = OrgUnit.__table__
    parents = dict(conn.execute(sa.select(outlets.c.id, outlets.c.parent_id)
                                .where(outlets.c.id.in_({o for o, _ in touched}))).all())
    cells: set[tuple[str, date, int, str]] = set()
    for outlet_id, day in touched:
        for kind in KINDS:
            start = period_start(kind, day)
            cells.add((kind, start, outlet_id, OrgKind.outlet.value))
            if parents.get(outlet_id) is not None:
                cells.add((kind, start, parents[outlet_id], OrgKind.subbranch.value))
    _lock(conn, (unit_id for _, _, unit_id, _ in cells))
    _delete(conn, _TABLE, ("period_kind", "period_start", "unit_id"), cells)
    rows = _computed(conn, cells=cells)
    if rows:
        conn.execute(_TABLE.insert(), rows)


def _computed(conn: sa.Connection, only: set[int] | None = None,
              cells: set[tuple[str, date, int, str]] | None = None) -> list[dict]:
    """Every row as computed from the inspections, or only the rows of sub-branches ``only``,
    or only those of ``cells`` (period kind, period start, unit id, unit kind)."""
    inspections, outlets = Inspection.__table__, OrgUnit.__table__
    query = (sa.select(inspections.c.outlet_id, outlets.c.parent_id, outlets.c.is_active,
                       sa.cast(inspections.c.mode, sa.String), inspections.c.submitted_at,
                       sa.cast(inspections.c.total, sa.Float))
             .join(outlets, outlets.c.id == inspections.c.outlet_id)
             .where(sa.cast(inspections.c.status, sa.String).in_(_VISIBLE),
                    inspections.c.total.is_not(None), inspections.c.submitted_at.is_not(None),
                    Inspection.scores_the_outlet()))
    if only is not None:
        query = query.where(outlets.c.parent_id.in_(only))
    if cells is not None:
        # the inspections of these units over the span of these periods; the rest is sorted
        # out below, by cell
        spans = [_bounds(kind, start) for kind, start, _, _ in cells]
        units = defaultdict(set)
        for _, _, unit_id, unit_kind in cells:
            units[unit_kind].add(unit_id)
        query = query.where(
            inspections.c.submitted_at >= min(low for low, _ in spans),
            inspections.c.submitted_at < max(high for _, high in spans),
            sa.or_(inspections.c.outlet_id.in_(units[OrgKind.outlet.value] or [-1]),
                   outlets.c.parent_id.in_(units[OrgKind.subbranch.value] or [-1])))
    sums: dict[tuple[str, date, int, str], dict[str, list[float]]] = defaultdict(dict)
    starts: dict[date, list[tuple[str, date]]] = {}
    for outlet_id, parent_id, active, mode, submitted_at, total in conn.execute(query):
        day = _day(submitted_at)
        periods = starts.get(day)
        if periods is None:
            periods = starts[day] = [(kind, period_start(kind, day)) for kind in KINDS]
        units = [] if only is not None else [(outlet_id, OrgKind.outlet.value)]
        if parent_id is not None and active:
            units.append((parent_id, OrgKind.subbranch.value))
        for kind, start in periods:
            for unit_id, unit_kind in units:
                if cells is not None and (kind, start, unit_id, unit_kind) not in cells:
                    continue
                cell = sums[(kind, start, unit_id, unit_kind)].setdefault(mode, [0.0, 0])
                cell[0] += total
                cell[1] += 1
    if not sums:
        return []
    timeline = rules_timeline(conn)
    rules = {period: rules_for(*period, timeline)
             for period in {(kind, start) for kind, start, _, _ in sums}}
    return [row for (kind, start, unit_id, unit_kind), modes in sums.items()
            for row in _rows(kind, start, unit_id, unit_kind, modes, rules[kind, start])]


def rebuild(conn: sa.Connection, *, subbranch_ids: Iterable[int] | None = None) -> int:
    """Recompute every row from the inspections and findings (or only the score rows of
    ``subbranch_ids``, after outlets moved between them). Returns the number of rows written."""
    only = set(subbranch_ids) if subbranch_ids is not None else None
    if only is not None:
        if not only:
            return 0
        _lock(conn, only)
        conn.execute(_TABLE.delete().where(_TABLE.c.unit_id.in_(only)))
    else:
        conn.execute(_TABLE.delete())
    rows = _computed(conn, only)
    for index in range(0, len(rows), 5000):
        conn.execute(_TABLE.insert(), rows[index:index + 5000])
    if only is None:
        conn.execute(_FAILURES.delete())
        failures = _computed_failures(conn)
        for index in range(0, len(failures), 5000):
            conn.execute(_FAILURES.insert(), failures[index:index + 5000])
        return len(rows) + len(failures)
    return len(rows)


def differences(conn: sa.Connection) -> list[str]:
    """Stored rows that differ from a fresh computation, described; empty when all agree."""
    return (_compare(conn, _TABLE, ("period_kind", "period_start", "mode", "unit_id"),
                     _computed(conn))
            + _compare(conn, _FAILURES, ("period_kind", "period_start", "unit_id", "item_code"),
                       _computed_failures(conn)))


def _compare(conn: sa.Connection, table: sa.Table, key: tuple[str, ...],
             computed: list[dict]) -> list[str]:
    expected = {tuple(row[k] for k in key): row for row in computed}
    stored = {tuple(row[k] for k in key): dict(row)
              for row in conn.execute(sa.select(table)).mappings()}
    problems = [f"{table.name}: missing {k}" for k in expected.keys() - stored.keys()]
    problems += [f"{table.name}: extra {k}" for k in stored.keys() - expected.keys()]
    for k in expected.keys() & stored.keys():
        got, want = stored[k], expected[k]
        fields = [f for f in want if f not in key and not _same(got[f], want[f])]
        if fields:
            problems.append(f"{table.name} {k}: "
                            + ", ".join(f"{f} {got[f]!r} ≠ {want[f]!r}" for f in fields))
    return sorted(problems)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 0.005
    return a == b


def _changed(obj: object, fields: tuple[str, ...]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _old_and_new(obj: object, name: str) -> list:
    history = attributes.get_history(obj, name)
    return [v for v in (*history.deleted, *history.unchanged, *history.added) if v is not None]


def _pending(session: Session) -> dict:
    return session.info.setdefault("period_figures", {
        "touched": set(), "failed": set(), "status": set(), "moved": set(),
        "roots_changed": False})


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    """Note which figures a flush changed; :func:`_before_commit` recomputes them."""
    pending = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Finding):
            if obj in session.dirty and not _changed(obj, _FINDING_FIELDS):
                continue
            pending = pending or _pending(session)
            for outlet_id in _old_and_new(obj, "outlet_id"):
                for code in _old_and_new(obj, "item_code"):
                    for created in _old_and_new(obj, "created_at") or [obj.created_at]:
                        pending["failed"].add((outlet_id, code, _day(created)))
        elif isinstance(obj, Inspection):
            if obj in session.dirty and not _changed(obj, _INSPECTION_FIELDS):
                continue
            pending = pending or _pending(session)
            if obj in session.dirty and _changed(obj, ("status",)):
                pending["status"].add(obj.id)  # its findings count, or stop counting
            for outlet_id in _old_and_new(obj, "outlet_id"):
                for submitted in _old_and_new(obj, "submitted_at"):
                    pending["touched"].add((outlet_id, _day(submitted)))
        elif (isinstance(obj, OrgUnit) and obj in session.dirty and obj.kind is OrgKind.outlet
              and _changed(obj, _OUTLET_FIELDS)):
            pending = pending or _pending(session)
            pending["moved"].update(_old_and_new(obj, "parent_id"))
            pending["roots_changed"] |= _changed(obj, ("path",)) and len(
                {_root(p) for p in _old_and_new(obj, "path") if p}) > 1


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    """Recompute the noted figures just before the outermost commit, in its transaction.

    Doing it once here, rather than after each flush, takes every advisory lock in one
    sorted batch (units, then items) and holds them only for the commit: transactions that
    touch the same outlets or items queue briefly and can never deadlock on these locks.
    """
    if session.in_nested_transaction():
        return  # the outer commit will do it
    session.flush()
    pending = session.info.pop("period_figures", None)
    if not pending:
        return
    conn = session.connection()
    refresh(conn, pending["touched"])
    if pending["status"]:
        findings = Finding.__table__
        pending["failed"].update(
            (outlet_id, code, _day(created)) for outlet_id, code, created in conn.execute(
                sa.select(findings.c.outlet_id, findings.c.item_code, findings.c.created_at)
                .where(findings.c.inspection_id.in_(pending["status"]))))
    refresh_failures(conn, pending["failed"])
    if pending["roots_changed"]:
        rebuild(conn)  # an outlet changed branch: every figure may move
    elif pending["moved"]:
        rebuild(conn, subbranch_ids=pending["moved"])


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    """A transaction that ends without committing (a rollback, a read) leaves nothing noted."""
    if transaction.parent is None:
        session.info.pop("period_figures", None)
