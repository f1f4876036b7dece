"""Managers' figures: rankings, most-failed items, self vs independent, trends, bulletins.

Every figure comes from scores written at submission — never by re-scoring raw answers:
rankings (and the inflation view built on them) read the per-period figures of
:mod:`.period_scores`, kept current at every score change; trends and most-failed items run
set-based queries over indexed columns (``inspections.total``, findings). A branch of thousands
of outlets answers in milliseconds.
Scope follows the reader: service managers see everything, a sub-branch manager sees their
own sub-branch's details and only its rank among the others.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from ..auth.models import User
from ..auth.permissions import Permission
from ..checklists.models import ChecklistItem
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_, bank_midnight, local_date
from ..inspections.models import RESULT_VISIBLE, Finding, FindingStatus, Inspection, Mode
from ..orgs.models import OrgKind, OrgUnit
from ..scoring import ScoringRules
from . import period_scores
from .models import PeriodFailure, PeriodScore


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str
    #: ``week``, ``month`` or ``quarter``
    kind: str = "month"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return bank_midnight(self.start), bank_midnight(self.end + timedelta(days=1))


def period_for(kind: str, day: date) -> Period:
    """The week (Monday–Sunday), month or quarter containing ``day``."""
    kind = kind if kind in ("week", "quarter") else "month"
    start = period_scores.period_start(kind, day)
    end = period_scores.period_end(kind, start) - timedelta(days=1)
    if kind == "week":
        label = f"{start.isoformat()} 至 {end.isoformat()}（第 {start.isocalendar()[1]} 周）"
    elif kind == "quarter":
        label = f"{day.year}年第{(start.month - 1) // 3 + 1}季度"
    else:
        label = f"{day.year}年{day.month}月"
    return Period(start, end, label, kind)


def _reader_paths(by: User) -> list[str]:
    paths = by.scope_paths(Permission.reports_read)
    if not paths:
        raise PermissionDenied(N_("您无权查看统计报表"), code="not_reader")
    return paths


def _paths(by: User, subbranch_id: int | None) -> list[str]:
    """Where ``by`` reads figures: their scope, or only the sub-branch ``subbranch_id`` — one
    within that scope (404 otherwise, as any unit out of reach)."""
    paths = _reader_paths(by)
    if subbranch_id is None:
        return paths
    unit = db.session.get(OrgUnit, subbranch_id)
    if unit is None or unit.kind is not OrgKind.subbranch \
            or not any(unit.path.startswith(p) for p in paths):
        raise NotFound(N_("未找到该机构"), code="org_unit_not_found")
    return [unit.path]


def _branch_roots(paths: list[str]) -> list[str]:
    """The paths of the branches ``paths`` lie in: rankings compare units within a branch."""
    return sorted({"/".join(path.split("/")[:2]) + "/" for path in paths})


@dataclass(frozen=True)
class _Organisation:
    """Every org unit as light rows, by kind, and every unit's name by id."""

    #: per kind, plain tuples ``(id, code, name, parent_id, path, is_benchmark, is_active)``
    by_kind: dict[OrgKind, list[tuple]]
    names: dict[int, str]


#: Per database URL: (stamp, organisation). A process normally talks to one database.
_ORGANISATIONS: dict[str, tuple[tuple, _Organisation]] = {}
_ORGANISATIONS_LOCK = threading.Lock()


def _organisation() -> _Organisation:
    """The organisation's units (id, code, name, parent, path, benchmark and active flags),
    kept per process and database while the organisation is unchanged.

    A ranking lists thousands of units, and reading them is most of its cost; the structure
    changes a few times a year. Every call still asks the database for the organisation's
    stamp — the newest ``updated_at`` and the number of units, which every ORM change to a
    unit moves (``onupdate``) — and reloads the rows when it differs, so a renamed, moved,
    flagged or deactivated unit shows in the very next ranking, in every worker.
    """
    stamp = tuple(db.session.execute(
        sa.select(sa.func.max(OrgUnit.updated_at), sa.func.count()).select_from(OrgUnit)).one())
    key = db.engine.url.render_as_string(hide_password=True)
    cached = _ORGANISATIONS.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = db.session.execute(sa.select(
        OrgUnit.id, OrgUnit.kind, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id, OrgUnit.path,
        OrgUnit.is_benchmark, OrgUnit.is_active).order_by(OrgUnit.code)).all()
    by_kind: dict[OrgKind, list[tuple]] = {kind: [] for kind in OrgKind}
    for id_, kind, code, name, parent_id, path, benchmark, active in rows:
        by_kind[kind].append((id_, code, name, parent_id, path, benchmark, active))
    organisation = _Organisation(by_kind, {row[0]: row[3] for row in rows})
    with _ORGANISATIONS_LOCK:
        if len(_ORGANISATIONS) >= 8:
            _ORGANISATIONS.clear()
        _ORGANISATIONS[key] = (stamp, organisation)
    return organisation


def _in(paths: list[str]):
    return sa.or_(*[OrgUnit.path.startswith(p) for p in paths])


def _ranking(period: Period, kind: OrgKind, mode: str | None, paths: list[str] | None
             ) -> list[dict[str, Any]]:
    """Active units of ``kind`` (within ``paths``) with their figures for the period, best
    first and numbered (equal scores share a rank); units without a score last, unnumbered,
    by code.

    A range read of :class:`~inspect_app.watchlist.models.PeriodScore` (clustered by period
    and mode filter) merged with the organisation's units, the figures kept current at every
    score change by :mod:`.period_scores`: a branch of thousands of outlets is ranked without
    touching a single inspection.
    """
    if period.kind not in period_scores.KINDS:
        raise ValueError(f"rankings cover a week, a month or a quarter, not {period.kind!r}")
    scores = PeriodScore.__table__
    figures = {row[0]: row[1:] for row in db.session.connection().execute(
        sa.select(scores.c.unit_id, scores.c.combined, scores.c.grade, scores.c.inspections,
                  scores.c.self_mean, scores.c.independent_mean, scores.c.gap)
        .where(scores.c.period_kind == period.kind, scores.c.period_start == period.start,
               scores.c.mode == (mode or period_scores.ALL_MODES),
               scores.c.unit_kind == kind.value)).all()}
    units = _organisation()
    prefixes = tuple(paths) if paths is not None else ("",)
    empty = (None, None, 0, None, None, None)
    rows = []
    names = units.names
    for id_, code, name, parent_id, path, benchmark, active in units.by_kind[kind]:
        if active and path.startswith(prefixes):
            combined, grade, count, self_mean, independent, gap = figures.get(id_, empty)
            rows.append({"id": id_, "code": code, "name": name,
                         "subbranch": names.get(parent_id), "is_benchmark": benchmark,
                         "combined": combined, "grade": grade, "count": count,
                         "self_mean": self_mean, "independent_mean": independent, "gap": gap})
    rows.sort(key=_CODE)
    scored = [r for r in rows if r["combined"] is not None]
    # Best first. Scores equal as shown (two decimals) share a rank (1, 1, 3 …); among them a
    # score confirmed by independent checks comes first, then the one resting on more
    # inspections, then code order: an unchecked self-assessment never heads a tie.
    scored.sort(key=lambda r: (-_shown(r["combined"]), r["independent_mean"] is None,
                               -r["count"]))
    for position, row in enumerate(scored):
        before = scored[position - 1] if position else None
        row["rank"] = before["rank"] if before and _shown(before["combined"]) == _shown(
            row["combined"]) else position + 1
    return scored + [r for r in rows if r["combined"] is None]


_CODE = itemgetter("code")


def _shown(score: float) -> float:
    """A score as the pages show it: ranks follow what people read."""
    return round(float(score), 2)


def best_and_worst(ranking: list[dict[str, Any]], n: int = 5
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The top ``n`` and, worst first, the bottom ``n`` (抓两头带中间). With fewer than ``2n``
    ranked, the upper half is the best and the lower half the worst: no outlet on both sides,
    and the lowest score is never shown among the best of a small ranking.

    Equal scores share a rank, so the worst side only holds units ranked below every unit on
    the best side: an outlet tied for first place (or with the last of the best) is never
    listed among the worst, however many share that rank — the worst side is then shorter,
    or empty. :func:`tied_with_best` says how many tied units the best side leaves out."""
    best = ranking[:min(n, (len(ranking) + 1) // 2)]
    lowest = best[-1]["rank"] if best else 0
    below = [row for row in ranking[len(best):] if row["rank"] > lowest]
    return best, list(reversed(below[-n:]))


def tied_with_best(ranking: list[dict[str, Any]], best: list[dict[str, Any]]
                   ) -> dict[str, int] | None:
    """When more units share the rank of the last one on the best side than the best side
    shows (31 outlets at 100.00 for five places): ``{"rank": that rank, "count": how many
    more}``; None when the best side ends where a rank does."""
    if not best:
        return None
    shown = {id(row) for row in best}
    count = sum(1 for row in ranking if row.get("rank") == best[-1]["rank"]
                and id(row) not in shown)
    return {"rank": best[-1]["rank"], "count": count} if count else None


def ends_for(ranking: list[dict[str, Any]], standing: list[dict[str, Any]]
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Best and worst for a reader of the ranking; none for a reader of single outlets (an
    outlet manager), whose ``standing`` says where their outlets are: their one row would
    stand among the best, whatever its place in the branch."""
    return ([], []) if standing else best_and_worst(ranking)


def needs_attention(row: dict[str, Any], rules: ScoringRules) -> bool:
    """Whether a ranked unit is below 良好 (合格 or 不合格) by the period's ``rules``
    (:func:`period_rules`): marked 重点关注 on charts."""
    band = rules.grade_for(row["combined"]) if row["combined"] is not None else None
    return band is not None and band.key in {"pass", "fail"}


def period_rules(period: Period) -> ScoringRules:
    """The rules the period's figures are combined and graded by (in force at its end)."""
    return period_scores.rules_for(period.kind, period.start)


def outlet_ranking(period: Period, by: User, *, mode: str | None = None,
                   subbranch_id: int | None = None) -> list[dict[str, Any]]:
    """Outlets in the reader's scope (or of one sub-branch in it) by combined score (or by
    one mode's mean), best first, with their self-check and independent means."""
    return _ranking(period, OrgKind.outlet, mode, _paths(by, subbranch_id))


def outlet_standing(period: Period, by: User) -> list[dict[str, Any]]:
    """For a reader of single outlets (an outlet manager): each of their outlets' place among
    all the outlets of its branch, ``{"id", "name", "rank", "of"}`` (rank None without a
    score), without the other outlets' names or figures. Empty for readers of a sub-branch or
    more, who see the ranking itself."""
    paths = _reader_paths(by)
    outlets = db.session.execute(sa.select(OrgUnit.id, OrgUnit.path).where(
        OrgUnit.kind == OrgKind.outlet, OrgUnit.path.in_(paths))).all()
    if len(outlets) != len(paths):
        return []
    standing = []
    for root in _branch_roots([path for _, path in outlets]):
        ranked = _ranking(period, OrgKind.outlet, None, [root])
        of = sum(1 for r in ranked if r["combined"] is not None)
        mine = {id_ for id_, path in outlets if path.startswith(root)}
        standing += [{"id": r["id"], "name": r["name"], "rank": r.get("rank"), "of": of}
                     for r in ranked if r["id"] in mine]
    return standing


def subbranch_ranking(period: Period, by: User, *, mode: str | None = None
                      ) -> list[dict[str, Any]]:
    """The sub-branches of the reader's branch by combined score, ranked within it. A
    sub-branch manager sees every rank but the details of their own sub-branch only
    (抓两头带中间 without exposing the others); an outlet manager likewise sees their outlet's
    sub-branch; a reader of the whole branch sees them all. Another branch's sub-branches are
    neither shown nor counted."""
    paths = _reader_paths(by)
    ranked = [row for root in _branch_roots(paths)
              for row in _ranking(period, OrgKind.subbranch, mode, [root])]
    for row in ranked:
        del row["subbranch"], row["is_benchmark"]
    own = {id_ for id_, path in db.session.execute(
        sa.select(OrgUnit.id, OrgUnit.path).where(OrgUnit.kind == OrgKind.subbranch))
        if any(p.startswith(path) or path.startswith(p) for p in paths)}
    return [row if row["id"] in own else {"rank": row.get("rank"), "own": False}
            for row in ranked]


def most_failed_items(period: Period, by: User, *, limit: int = 10,
                      subbranch_id: int | None = None) -> list[dict[str, Any]]:
    """Checklist items failed most often in the period (findings of results that count, as
    scores do: overturned ones and those of results sent back for correction excluded).

    A reader whose scope is a whole branch reads the branch's per-period counts kept by
    :mod:`.period_scores` (one row per item); a narrower scope, or a sub-branch filter,
    counts its findings from the covering index on (creation time, status, item, outlet).
    """
    paths = _paths(by, subbranch_id)
    roots = _whole_branches(paths) if subbranch_id is None else None
    if roots and period.kind in period_scores.KINDS:
        failures = PeriodFailure.__table__
        failed, outlets = sa.func.sum(failures.c.failures), sa.func.sum(failures.c.outlets)
        rows = db.session.execute(
            sa.select(failures.c.item_code, sa.func.min(failures.c.item_text), failed, outlets)
            .where(failures.c.period_kind == period.kind,
                   failures.c.period_start == period.start, failures.c.unit_id.in_(roots))
            .group_by(failures.c.item_code)
            .order_by(failed.desc(), failures.c.item_code).limit(limit)).all()
    else:
        start, end = period.bounds
        failed = sa.func.count()
        query = (sa.select(Finding.item_code, sa.func.min(Finding.item_text), failed,
                           sa.func.count(sa.distinct(Finding.outlet_id)))
                 .join(OrgUnit, Finding.outlet_id == OrgUnit.id)
                 .join(Inspection, Finding.inspection_id == Inspection.id)
                 .where(Finding.created_at >= start, Finding.created_at < end,
                        Finding.status != FindingStatus.overturned,
                        Inspection.status.in_(RESULT_VISIBLE), _in(paths))
                 .group_by(Finding.item_code)
                 .order_by(failed.desc(), Finding.item_code).limit(limit))
        rows = db.session.execute(query).all()
    sections = _sections_of([row[0] for row in rows])
    return [{"item_code": code, "item_text": text, "section": sections.get(code, ""),
             "failures": int(n), "outlets": int(outlets)}
            for code, text, n, outlets in rows]


def _sections_of(codes: list[str]) -> dict[str, str]:
    """Each item code's section (area) as its checklists give it — the latest version's where
    versions differ. Not the code's prefix: an imported checklist's codes need not start with
    their section's (CBSS-style ``1-1-1``, or ``WAIT-01`` filed under 效率 EFF)."""
    if not codes:
        return {}
    rows = db.session.execute(
        sa.select(ChecklistItem.code, ChecklistItem.section_code)
        .where(ChecklistItem.code.in_(sorted(set(codes))))
        .order_by(ChecklistItem.checklist_id)).all()
    return dict(rows)  # later versions (higher ids) last: theirs is kept


def _whole_branches(paths: list[str]) -> list[int] | None:
    """Ids of the top-level units when ``paths`` is exactly one or more whole branches."""
    roots = dict(db.session.execute(sa.select(OrgUnit.path, OrgUnit.id)
                                    .where(OrgUnit.parent_id.is_(None))).all())
    if all(p in roots for p in paths):
        return [roots[p] for p in paths]
    return None


def failures_by_section(period: Period, by: User, *, subbranch_id: int | None = None
                        ) -> list[dict[str, Any]]:
    """Failures per checklist area (the five areas of 五位一体)."""
    counts: dict[str, int] = defaultdict(int)
    for row in most_failed_items(period, by, limit=10_000, subbranch_id=subbranch_id):
        counts[row["section"]] += row["failures"]
    return [{"section": s, "failures": n} for s, n in sorted(counts.items(),
                                                              key=lambda kv: -kv[1])]


def mode_comparison(period: Period, by: User, *, subbranch_id: int | None = None
                    ) -> list[dict[str, Any]]:
    """Self-check vs independent means per outlet, biggest gap first (the inflation view)."""
    rows = [r for r in outlet_ranking(period, by, subbranch_id=subbranch_id)
            if r["gap"] is not None]
    return sorted(rows, key=lambda r: (-r["gap"], r["code"]))


def trend(unit: OrgUnit, by: User, *, end: date, months: int = 12) -> list[dict[str, Any]]:
    """Monthly combined, independent and self-check means of an outlet or sub-branch."""
    if not by.can(Permission.reports_read, unit):
        raise PermissionDenied(N_("您无权查看该机构的趋势"), code="not_reader")
    return trends(pooled_outlets([unit]), end=end, months=months)[unit.id]


def pooled_outlets(units: list[OrgUnit]) -> dict[int, list[int]]:
    """The outlets whose results make each unit's figures, by unit id: an outlet its own; a
    sub-branch (or branch) its open outlets of today (:meth:`OrgUnit.active_outlets`), as its
    rankings do (period_scores): a closed outlet leaves both alike, so the trend and the
    ranking of a month never disagree. One query for all of them."""
    pooled = {unit.id: [unit.id] for unit in units if unit.kind is OrgKind.outlet}
    above = {unit.path: unit.id for unit in units if unit.kind is not OrgKind.outlet}
    pooled.update({unit_id: [] for unit_id in above.values()})
    if above:
        rows = db.session.execute(
            sa.select(OrgUnit.id, OrgUnit.path).where(
                OrgUnit.kind == OrgKind.outlet, OrgUnit.is_active.is_(True),
                sa.or_(*[OrgUnit.path.startswith(path) for path in above]))
            .order_by(OrgUnit.id))
        for outlet_id, path in rows:
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts)):  # each unit above it: /b/, /b/s/
                unit_id = above.get("/" + "/".join(parts[:depth]) + "/")
                if unit_id is not None:
                    pooled[unit_id].append(outlet_id)
    return pooled


def trends(outlets_of: dict[int, list[int]], *, end: date, months: int = 12
           ) -> dict[int, list[dict[str, Any]]]:
    """:func:`trend` of several units at once (no access check: the caller's units), each from
    the results of its outlets in ``outlets_of`` — two queries for them all."""
    first = date(end.year, end.month, 1)
    for _ in range(months - 1):
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    start = bank_midnight(first)
    stop = bank_midnight(period_scores.period_end("month", date(end.year, end.month, 1)))
    wanted = sorted({outlet for outlets in outlets_of.values() for outlet in outlets})
    # Each submission in the bank's month (a submission at 01:00 Beijing time on the 1st is
    # that month's, whatever the UTC date says): summed here, not by the database's calendar.
    rows = db.session.execute(
        sa.select(Inspection.outlet_id, Inspection.submitted_at, Inspection.mode,
                  sa.cast(Inspection.total, sa.Float))
        .where(Inspection.outlet_id.in_(wanted), Inspection.status.in_(RESULT_VISIBLE),
               Inspection.total.is_not(None), Inspection.submitted_at >= start,
               Inspection.submitted_at < stop, Inspection.scores_the_outlet())) if wanted else []
    by_outlet: dict[int, list[tuple[date, Mode, float]]] = defaultdict(list)
    for outlet_id, submitted_at, mode, total in rows:
        by_outlet[outlet_id].append((local_date(submitted_at), mode, total))
    timeline = period_scores.rules_timeline(db.session.connection())
    result: dict[int, list[dict[str, Any]]] = {}
    for unit_id, outlets in outlets_of.items():
        by_month: dict[tuple[int, int], dict[str, list]] = defaultdict(dict)  # [sum, count]
        for outlet in outlets:
            for day, mode, total in by_outlet.get(outlet, ()):
                cell = by_month[(day.year, day.month)].setdefault(mode.value, [0.0, 0])
                cell[0] += total
                cell[1] += 1
        points, cursor = [], first
        for _ in range(months):
            combined, _, count, self_mean, independent, _ = period_scores.figures(
                by_month.get((cursor.year, cursor.month), {}),
                period_scores.rules_for("month", cursor, timeline))
            points.append({"month": f"{cursor.year}-{cursor.month:02d}", "combined": combined,
                           "independent_mean": independent, "self_mean": self_mean,
                           "count": count})
            cursor = period_scores.period_end("month", cursor)
        result[unit_id] = points
    return result


#: A change of the combined score smaller than this many points reads as flat (→).
TREND_STEP = 2


def trend_arrow(points: list[dict[str, Any]]) -> str:
    """↑, ↓ or → from the last two months with a score (a change under :data:`TREND_STEP`
    points is flat)."""
    values = [p["combined"] for p in points if p["combined"] is not None]
    if len(values) < 2:
        return "→"
    delta = values[-1] - values[-2]
    return "↑" if delta >= TREND_STEP else "↓" if delta <= -TREND_STEP else "→"


def raw_answer_ranking(period: Period) -> list[tuple[int, float]]:
    """The ranking recomputed by scanning every answer row of the period: the benchmark's
    baseline (what the product avoids by storing per-inspection scores). It adds up points,
    ignoring section weights and red-line caps: a cost yardstick, never shown to anyone."""
    from ..inspections.models import InspectionAnswer

    start, end = period.bounds
    per_inspection = (
        sa.select(Inspection.outlet_id.label("outlet_id"),
                  (sa.func.sum(InspectionAnswer.earned) * 100
                   / sa.func.nullif(sa.func.sum(InspectionAnswer.possible), 0)).label("total"))
        .join(InspectionAnswer, InspectionAnswer.inspection_id == Inspection.id)
        .where(Inspection.status.in_(RESULT_VISIBLE), Inspection.submitted_at >= start,
               Inspection.submitted_at < end, Inspection.scores_the_outlet())
        .group_by(Inspection.id, Inspection.outlet_id).subquery())
    rows = db.session.execute(
        sa.select(per_inspection.c.outlet_id, sa.func.avg(per_inspection.c.total))
        .group_by(per_inspection.c.outlet_id)
        .order_by(sa.func.avg(per_inspection.c.total).desc()))
    return [(outlet_id, float(total or 0)) for outlet_id, total in rows]


MODE_LABELS = {m.value: m.label for m in Mode}
