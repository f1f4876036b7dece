"""Managers' pages (mobile-first): watch-list, entry timeline, rankings and trends, bulletins.

Thin views over :mod:`.dashboards`, :mod:`.operations` and :mod:`.bulletins`; charts are SVG
drawn on the server (:mod:`inspect_app.reports.charts`), so they need no script and keep
working offline once the page is cached; their titles, series and own words are in the page's
language.
"""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale, gettext
from marshmallow import fields, validate

from ..api.downloads import download
from ..api.fields import EARLIEST, LATEST
from ..auth.models import User
from ..auth.permissions import Permission
from ..auth.session import pages_need
from ..errors import InvalidInput
from ..extensions import db
from ..forms import PageForm, Refused, carry_out
from ..i18n import N_, local_date, local_today, translated
from ..orgs.models import OrgKind, OrgUnit
from ..orgs.operations import visible_units
from ..rectification.documents import parse_period
from ..rectification.operations import UNFINISHED, list_figures
from ..reports import charts
from . import dashboards, period_scores, rules_page
from .api import visible_entries
from .bulletins import bulletin, bulletin_pdf, bulletin_xlsx, ranking_xlsx, title
from .models import ACTION_KINDS, WatchlistRuleSet
from .operations import (
    DEFAULT_NOTE,
    active_rule_set,
    annotate,
    branch_id_of,
    evaluate,
    get_entry,
    inflation_gaps,
    listable_unit,
    log_action,
    manual_enter,
    manual_exit,
    require_manager,
    rules_branch,
    rules_branches,
    update_rules,
)
from .reasons import (
    event_label,
    event_note,
    exit_condition,
    exit_steps,
    reason_label,
    reason_text,
    reasons_while_listed,
    status_note,
)
from .schemas import AT_MOST, ActionSchema, ManualExitSchema, reason_field, subbranch_of

bp = Blueprint("manage", __name__, url_prefix="/manage")
pages_need(bp, Permission.reports_read)


def named(name: str, subbranch: str | None = None) -> str:
    """A unit's name for people: an outlet's with its sub-branch ("文化路分理处（路北支行）"),
    since outlet names repeat across sub-branches."""
    return gettext("%(name)s（%(parent)s）", name=name, parent=subbranch) if subbranch else name


def unit_label(unit: OrgUnit) -> str:
    """:func:`named` for an organisation unit."""
    return named(unit.name, subbranch_of(unit))


@bp.context_processor
def reasons_in_the_pages_language() -> dict:
    """Templates say a stored watch-list reason, a change on the list and what a listed unit
    still has to do in the reader's language, name outlets with their sub-branch, and say what
    a trend arrow means (with its threshold)."""
    return {"reason_label": reason_label, "reason_text": reason_text, "event_note": event_note,
            "event_label": event_label, "status_note": status_note,
            "exit_condition": exit_condition, "exit_steps": exit_steps,
            "reasons_while_listed": reasons_while_listed, "unit_label": unit_label,
            "named": named, "trend_step": dashboards.TREND_STEP}


def _chart_words() -> charts.ChartText:
    """What the charts add around the data (empty state, legend, descriptions), translated."""
    return charts.ChartText.translated(gettext)


def _grade_bands(month: str) -> list[tuple[float, str]]:
    """Grade lines on a score trend ending in ``month`` ("2026-11"), by the rules of that
    month (by default 合格 60, 良好 80, 优秀 90)."""
    rules = period_scores.rules_for("month", date.fromisoformat(month + "-01"))
    return [(float(band.min), translated(band.label))
            for band in reversed(rules.grade_bands) if band.min > 0]


def _month_axis(points: list[dict]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """For a monthly trend chart: each point's month in full as its key ("2026年1月", "Jan
    2026": the chart's description reads it), the short text written on the axis ("1月",
    "Jan" — never "26-01", which reads like a day) and, under the first month and each
    January, the year."""
    locale = get_locale()
    keys, ticks, years = {}, {}, {}
    for index, point in enumerate(points):
        month = date.fromisoformat(point["month"] + "-01")
        key = keys[point["month"]] = format_skeleton("yMMM", month, locale=locale)
        ticks[key] = format_date(month, "MMM")
        if index == 0 or month.month == 1:
            years[key] = format_skeleton("y", month, locale=locale)
    return keys, ticks, years


def _trend_chart(points: list[dict], series: list[tuple[str, str]], title: str) -> str:
    """A unit's monthly scores as a line chart: one line per ``(name, key)`` of ``series``,
    grade lines, months on the axis with their years."""
    keys, ticks, years = _month_axis(points)
    return charts.line_chart(
        [charts.Series(name, [(keys[p["month"]], p[key]) for p in points])
         for name, key in series],
        title=title, bands=_grade_bands(points[-1]["month"]), words=_chart_words(), ticks=ticks,
        tick_groups=years)


def _day() -> date:
    """The page's ``?day=``: a date within the product's years, else today."""
    try:
        day = date.fromisoformat(request.args["day"]) if request.args.get("day") else None
    except ValueError:
        day = None
    return day if day is not None and EARLIEST <= day <= LATEST else local_today()


def _period_steps(period: dashboards.Period, day: date) -> dict[str, str | None]:
    """For the period chooser: the day shown, a day of the previous period and of the next
    one (None once that would lie in the future), and today, all ISO dates."""
    today = local_today()
    following = period.end + timedelta(days=1)
    return {"day": day.isoformat(), "today": today.isoformat(),
            "previous": (period.start - timedelta(days=1)).isoformat(),
            "next": following.isoformat() if following <= today else None}


def _read_as_manager(read):
    """A manager's post read: a reader's is refused before its form is read (it learns nothing
    from the form's refusals). ``read`` is a page form's class, or a function reading one."""
    require_manager(g.user)
    return read().load(request.form) if isinstance(read, type) else read()


class ListForm(PageForm):
    """列入名单: the unit (its code, or its name where only one unit bears it) and a written
    reason, by the rules of ``POST /api/v1/watchlist``."""

    unit = fields.String(required=True, validate=validate.Length(max=100, error=AT_MOST),
                         error_messages={"required": N_("请填写单位编码或名称")})
    reason = reason_field("列入原因")


LIST_FIELD_NAMES = {"unit": N_("单位"), "reason": N_("列入原因")}


@bp.route("/watchlist", methods=["GET", "POST"])
def watchlist():
    """The list with reasons, time on list, open/overdue items, last score and trend; a
    service manager puts a unit on it by hand here, with a written reason."""
    status = request.args.get("status", "active")
    if status not in ("active", "exited", "all"):
        status = "active"
    refused, values = Refused(None, status=200), {}
    if request.method == "POST":
        values = request.form.to_dict()
        outcome = carry_out(lambda: _read_as_manager(ListForm), lambda data: manual_enter(
            listable_unit(data["unit"], g.user), reason=data["reason"], by=g.user),
            LIST_FIELD_NAMES)
        if not isinstance(outcome, Refused):
            flash(gettext("已将%(unit)s列入名单", unit=unit_label(outcome.unit)))
            return redirect(url_for("manage.entry", entry_id=outcome.id))
        refused = outcome
    entries = annotate(visible_entries(g.user, status, None))
    return render_template("manage/watchlist.html", entries=entries, status=status,
                           can_manage=g.user.can(Permission.watchlist_manage),
                           error=refused.error, problems=refused.problems, values=values,
                           unit=request.args.get("unit", "")), refused.status


@bp.post("/watchlist/evaluate")
def evaluate_now():
    """立即评估: a service manager runs the evaluation now — after tuning the rules, say —
    instead of waiting for the night's, and is told what it did."""
    require_manager(g.user)
    report = evaluate(by=g.user)
    db.session.commit()
    flash(report.summary(gettext))
    return redirect(url_for("manage.watchlist"))


class FollowUpForm(PageForm, ActionSchema):
    """记录跟进: :class:`~.schemas.ActionSchema`, read from the page."""


class ExitForm(PageForm, ManualExitSchema):
    """人工出列: :class:`~.schemas.ManualExitSchema` read from the page, and the box ticked
    (like every step that takes a unit out of follow-up)."""

    confirm = fields.String(required=True, validate=validate.Equal(
        "yes", error=N_("请先勾选确认")), error_messages={"required": N_("请先勾选确认")},
        load_only=True)


ENTRY_FIELD_NAMES = {"kind": N_("类型"), "held_on": N_("日期"), "people": N_("参与人员"),
                     "notes": N_("情况说明"), "reason": N_("人工出列原因"), "confirm": N_("确认")}


def _follow_up(item, data: dict) -> None:
    log_action(item, **data, attachments=[], by=g.user)


def _exit(item, data: dict) -> None:
    manual_exit(item, reason=data["reason"], by=g.user)


#: The entry page's two forms (told apart by their ``action`` field): the schema that reads
#: each and the operation it calls, as the API does.
ENTRY_ACTIONS = {"follow_up": (FollowUpForm, _follow_up), "exit": (ExitForm, _exit)}


@bp.route("/watchlist/<int:entry_id>", methods=["GET", "POST"])
def entry(entry_id: int):
    """One entry: reasons with figures, history, coaching timeline; log a follow-up or exit."""
    item = get_entry(entry_id, g.user)
    failed, refused, values = None, Refused(None, status=200), {}
    if request.method == "POST":
        failed = "exit" if request.form.get("action") == "exit" else "follow_up"
        form, run = ENTRY_ACTIONS[failed]
        values = request.form.to_dict()
        refused = carry_out(lambda: _read_as_manager(form), lambda data: run(item, data),
                            ENTRY_FIELD_NAMES)
        if not isinstance(refused, Refused):
            return redirect(url_for("manage.entry", entry_id=entry_id))
    points = dashboards.trend(item.unit, g.user, end=local_today(), months=6)
    chart = _trend_chart(points, [(gettext("综合得分"), "combined"),
                                  (gettext("独立检查"), "independent_mean")],
                         gettext("%(name)s 近 6 个月得分", name=unit_label(item.unit)))
    return render_template("manage/entry.html", entry=annotate([item])[0], chart=chart,
                           kinds=ACTION_KINDS, error=refused.error,
                           problems=refused.problems, failed=failed, values=values,
                           can_manage=g.user.can(Permission.watchlist_manage),
                           today=local_today().isoformat(),
                           new_client_id=uuid.uuid4().hex), refused.status


@bp.route("/rules", methods=["GET", "POST"])
def rules():
    """A branch's rules in force, each said with its figures; its service manager tunes them
    here (a new version, with a reason, audited). Others read them. Each branch has its own: a
    person with roles in several picks the branch (``?branch=``)."""
    branches = rules_branches(g.user)
    branch = rules_branch(g.user, request.args.get("branch", type=int))
    row = active_rule_set(branch)
    can_manage = g.user.can(Permission.watchlist_manage, branch)
    refused, submitted = Refused(None, status=200), None
    if request.method == "POST":
        submitted = request.form.copy()  # the ticked unit kinds come several to a name
        outcome = carry_out(
            lambda: _read_as_manager(lambda: rules_page.read_form(request.form, row)),
            lambda read: update_rules(read[0], branch=branch, period_days=read[1],
                                      note=read[2], by=g.user,
                                      base_version=request.form.get("base_version", type=int)),
            rules_page.field_label, invalid=N_("部分内容未填写或不是数字，规则未保存"))
        if not isinstance(outcome, Refused):
            return redirect(url_for("manage.rules", saved=outcome.version,
                                    branch=branch.id if len(branches) > 1 else None))
        refused = outcome
    history = db.session.execute(
        sa.select(WatchlistRuleSet, User.display_name)
        .outerjoin(User, WatchlistRuleSet.created_by_id == User.id)
        .where(sa.or_(WatchlistRuleSet.branch_id == branch.id,
                      WatchlistRuleSet.branch_id.is_(None)))
        .order_by(WatchlistRuleSet.version.desc(), WatchlistRuleSet.id.desc()).limit(10)).all()
    if row.id is None:  # the product's default, stored once it is tuned
        history = [(row, None), *history]
    return render_template("manage/rules.html", rules=rules_page.present(row, submitted),
                           branch=branch, branches=branches,
                           shared=row.branch_id is None,
                           history=history, error=refused.error, problems=refused.problems,
                           saved=request.args.get("saved", type=int), local_date=local_date,
                           default_note=DEFAULT_NOTE, can_manage=can_manage,
                           # a form shown again keeps the version it was filled from; told
                           # that another was saved meanwhile (shown above it), saving again
                           # is a choice made knowing it
                           base_version=row.version if refused.status == 409 or not submitted
                           else submitted.get("base_version") or row.version), refused.status


def _inflation_gaps(outlet_ids: list[int]) -> dict[int, float]:
    """Each outlet's 自查虚高 分差: its branch's rules' (branches tune their own)."""
    branch_of = {outlet_id: branch_id_of(path) for outlet_id, path in db.session.execute(
        sa.select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(outlet_ids)))}
    gaps = inflation_gaps(set(branch_of.values()))
    return {outlet_id: gaps[branch_id] for outlet_id, branch_id in branch_of.items()}


#: Rows of the full ranking on one page of the rankings page.
RANKING_PAGE = 50


@bp.get("/rankings")
def rankings():
    """Best and worst side by side, the full ranking a page at a time (and as a workbook),
    sub-branch ranking, most-failed items, inflation view. Every outlet named links to its
    trend: the reader's ranking holds only outlets in their scope."""
    kind = request.args.get("kind", "month")
    kind = kind if kind in ("week", "month", "quarter") else "month"
    day = _day()
    period = dashboards.period_for(kind, day)
    outlets = [r for r in dashboards.outlet_ranking(period, g.user) if r["combined"] is not None]
    subbranches = dashboards.subbranch_ranking(period, g.user)
    standing = dashboards.outlet_standing(period, g.user)
    if request.args.get("format") == "xlsx" and not standing:
        return download(ranking_xlsx(period, outlets, subbranches),
                        f"{gettext('排名')}-{period.start}.xlsx",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    # a sub-branch shown to someone inside it (an outlet manager) is not theirs to open
    readable = {unit.id for unit in db.session.scalars(sa.select(OrgUnit).where(
        OrgUnit.id.in_([r["id"] for r in subbranches if r.get("name")])))
        if g.user.can(Permission.reports_read, unit)}
    items = dashboards.most_failed_items(period, g.user, limit=8)
    gaps = [r for r in dashboards.mode_comparison(period, g.user)][:8]
    best, worst = dashboards.ends_for(outlets, standing)
    rules = dashboards.period_rules(period)
    label = _unit_labels([*outlets, *gaps])
    gap_of = _inflation_gaps([r["id"] for r in gaps])
    words = _chart_words()

    def trend_of(row: dict) -> str:
        return url_for("manage.trend", unit_id=row["id"],
                       day=min(period.end, local_today()).isoformat())

    figures = {
        "best": charts.bar_chart([charts.Bar(label(r), r["combined"],
                                             highlight=r["is_benchmark"],
                                             note=gettext("标杆") if r["is_benchmark"] else None,
                                             href=trend_of(r))
                                  for r in best], title=gettext("排名前列网点"), max_value=100,
                                 highlight_label=gettext("标杆网点"), words=words,
                                 value_format="{:.2f}", value_label=gettext("综合得分"),
                                 highlight_colour=charts.GOOD),
        "worst": charts.bar_chart([charts.Bar(label(r), r["combined"],
                                              highlight=dashboards.needs_attention(r, rules),
                                              href=trend_of(r))
                                   for r in worst], title=gettext("排名靠后网点"), max_value=100,
                                  words=words, value_format="{:.2f}",
                                  value_label=gettext("综合得分"), highlight_mark="▼"),
        "failed": charts.bar_chart([charts.Bar(f"{r['item_code']} {r['item_text']}",
                                              r["failures"]) for r in items],
                                  title=gettext("失分最多的检查项"), value_format="{:.0f}",
                                  words=words, value_label=gettext("失分次数"),
                                  wrap_labels=True),
        "gaps": charts.paired_bar_chart([charts.PairRow(label(r), r["self_mean"],
                                                        r["independent_mean"], gap_of[r["id"]])
                                         for r in gaps],
                                        title=gettext("自查与独立检查对比"),
                                        a_label=gettext("自查"), b_label=gettext("独立检查"),
                                        words=words, value_format="{:.2f}"),
    }
    pages = max(1, -(-len(outlets) // RANKING_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    return render_template("manage/rankings.html", period=period, kind=kind, best=best,
                           worst=worst, subbranches=subbranches, items=items, gaps=gaps,
                           figures=figures, steps=_period_steps(period, day),
                           empty=not outlets, readable=readable, standing=standing,
                           tied=dashboards.tied_with_best(outlets, best),
                           ranking=outlets[(page - 1) * RANKING_PAGE:page * RANKING_PAGE],
                           ranked=len(outlets), page=page, pages=pages,
                           paging="page" in request.args, trend_of=trend_of)


def _unit_labels(rows: list[dict]):
    """A chart label for each ranked unit: its name, with its sub-branch where another unit
    shown bears the same name (two 文化路分理处 in one branch)."""
    names = Counter(r["name"] for r in {r["id"]: r for r in rows}.values())

    def label(row: dict) -> str:
        if names[row["name"]] > 1 and row.get("subbranch"):
            return gettext("%(name)s（%(parent)s）", name=row["name"], parent=row["subbranch"])
        return row["name"]

    return label


@bp.get("/trend/<int:unit_id>")
def trend(unit_id: int):
    """An outlet's or sub-branch's monthly trend."""
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or not g.user.can(Permission.reports_read, unit):
        abort(404)
    end = _day()
    points = dashboards.trend(unit, g.user, end=end, months=12)
    chart = _trend_chart(points, [(gettext("综合得分"), "combined"),
                                  (gettext("独立检查"), "independent_mean"),
                                  (gettext("自查"), "self_mean")],
                         gettext("%(name)s 近 12 个月趋势", name=unit.name))
    # a sub-branch's outlets, each a way to its own trend, with the figures of the last month
    # that has any (this month's may have none yet)
    scored = [p for p in points if p["count"]]
    month = dashboards.period_for(
        "month", date.fromisoformat((scored[-1] if scored else points[-1])["month"] + "-01"))
    outlets = (dashboards.outlet_ranking(month, g.user, subbranch_id=unit.id)
               if unit.kind is OrgKind.subbranch else [])
    return render_template("manage/trend.html", unit=unit, points=points, chart=chart,
                           arrow=dashboards.trend_arrow(points), outlets=outlets,
                           month=month)


@bp.get("/lists")
def rectification_lists():
    """整改清单: each sub-branch the user may report on, with its month's list as a PDF."""
    period = request.args.get("period", "")
    try:
        start, end = parse_period(period)
    except InvalidInput:  # none or mistyped: this month
        period = local_today().strftime("%Y-%m")
        start, end = parse_period(period)
    subbranches = db.session.scalars(visible_units(g.user, Permission.reports_read).where(
        OrgUnit.kind == OrgKind.subbranch, OrgUnit.is_active).order_by(None)
        .order_by(OrgUnit.code)).all()
    figures = list_figures(g.user, start, end, local_today())
    empty = {"found": 0, "owed": 0, "found_overdue": 0, "earlier": 0, "overdue": 0}
    return render_template("manage/lists.html", period=period, subbranches=subbranches,
                           figures={u.id: figures.get(u.id, empty) for u in subbranches},
                           this_month=period == local_today().strftime("%Y-%m"),
                           start=start, end=end, unfinished=[s.value for s in UNFINISHED])


@bp.get("/bulletin")
def bulletin_page():
    """周通报 / 月总结 as a page, with PDF and .xlsx downloads of the same figures."""
    kind = request.args.get("kind", "week")
    kind = kind if kind in ("week", "month") else "week"
    day = _day()
    data = bulletin(kind, day, g.user)
    fmt = request.args.get("format")
    name = f"{title(data)}-{data['period']['start']}"  # in the reader's language, as the file
    if fmt == "pdf":
        return download(bulletin_pdf(data), f"{name}.pdf", "application/pdf")
    if fmt == "xlsx":
        return download(bulletin_xlsx(data), f"{name}.xlsx",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    period = dashboards.period_for(kind, day)
    return render_template("manage/bulletin.html", data=data, kind=kind, period=period,
                           steps=_period_steps(period, day))
