"""API: the watch-list (名单式管理), its rules and coaching, queue data, managers' figures."""
from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy import orm

from ..api.base import BINARY, Blueprint
from ..api.downloads import download
from ..auth.permissions import Permission
from ..auth.session import current_user
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_, local_today
from ..orgs.models import OrgUnit
from . import dashboards
from . import rules as engine
from .bulletins import bulletin, bulletin_pdf, bulletin_xlsx, title
from .models import EntryStatus, WatchlistEntry
from .operations import (
    active_rule_set,
    annotate,
    evaluate,
    get_entry,
    import_queue_csv,
    log_action,
    manual_enter,
    manual_exit,
    require_manager,
    rules_branch,
    update_rules,
)
from .schemas import (
    ActionSchema,
    BulletinQuerySchema,
    BulletinSchema,
    EntryDetailSchema,
    EntryQuerySchema,
    EntrySchema,
    EvaluateSchema,
    EvaluationSchema,
    FailedItemsSchema,
    ManualEntrySchema,
    ManualExitSchema,
    ModeComparisonSchema,
    PeriodQuerySchema,
    QueueImportFileSchema,
    RankingsSchema,
    RulesQuerySchema,
    RulesSchema,
    TrendQuerySchema,
    TrendSchema,
)

blp = Blueprint("watchlist_api", __name__, url_prefix="/api/v1",
                description="名单式管理、辅导记录、排名趋势与通报")


def visible_entries(by, status: str, kind: str | None) -> list[WatchlistEntry]:
    paths = by.scope_paths(Permission.reports_read)
    if not paths:
        raise PermissionDenied(N_("您无权查看名单"), code="not_reader")
    query = (sa.select(WatchlistEntry).join(OrgUnit, WatchlistEntry.unit_id == OrgUnit.id)
             .where(sa.or_(*[OrgUnit.path.startswith(p) for p in paths]))
             .order_by(WatchlistEntry.entered_on.desc(), WatchlistEntry.id.desc())
             # the list tells reasons of today from those on listing (one more query), and
             # names an outlet's sub-branch (two more)
             .options(orm.selectinload(WatchlistEntry.events),
                      orm.selectinload(WatchlistEntry.unit).selectinload(OrgUnit.parent)))
    if status != "all":
        query = query.where(WatchlistEntry.status == EntryStatus(status))
    if kind:
        query = query.where(OrgUnit.kind == kind)
    return list(db.session.scalars(query))


@blp.route("/watchlist")
class Entries(MethodView):
    @blp.arguments(EntryQuerySchema, location="query")
    @blp.response(200, EntrySchema(many=True))
    def get(self, args):
        """Units on the list with reasons, time on list, open/overdue items, last independent
        score and trend (service managers: all; sub-branch managers: their own)."""
        return annotate(visible_entries(current_user(), args["status"], args.get("kind")))

    @blp.arguments(ManualEntrySchema)
    @blp.response(201, EntryDetailSchema)
    def post(self, data):
        """Put a unit on the list by hand, with a written reason (service managers; audited).
        It leaves by the exit policy, or by hand."""
        by = current_user()
        require_manager(by)
        unit = db.session.get(OrgUnit, data["unit_id"])
        if unit is None or not by.can(Permission.reports_read, unit):
            raise NotFound(N_("未找到该机构"), code="org_unit_not_found")
        entry = manual_enter(unit, reason=data["reason"], by=by)
        db.session.commit()
        return annotate([entry])[0]


@blp.route("/watchlist/<int:entry_id>")
class EntryResource(MethodView):
    @blp.response(200, EntryDetailSchema)
    def get(self, entry_id):
        """One entry with its history and its coaching timeline."""
        return annotate([get_entry(entry_id, current_user())])[0]


@blp.route("/watchlist/<int:entry_id>/exit")
class ManualExit(MethodView):
    @blp.arguments(ManualExitSchema)
    @blp.response(200, EntryDetailSchema)
    def post(self, data, entry_id):
        """Take a unit off the list by hand, with a written reason."""
        by = current_user()
        entry = manual_exit(get_entry(entry_id, by), reason=data["reason"], by=by)
        db.session.commit()
        return annotate([entry])[0]


@blp.route("/watchlist/<int:entry_id>/actions")
class Actions(MethodView):
    @blp.arguments(ActionSchema)
    @blp.response(201, ActionSchema)
    @blp.alt_response(200, schema=ActionSchema, description="同一记录编号已记录过：返回原记录")
    def post(self, data, entry_id):
        """Log a follow-up: 送教上门, 驻点辅导, 约谈 or other, with date, people and notes.
        Re-sending a ``client_id`` returns the record made with it, never a second one."""
        by = current_user()
        action, created = log_action(get_entry(entry_id, by), kind=data["kind"],
                                     held_on=data["held_on"], people=data["people"],
                                     notes=data["notes"], attachments=[], by=by,
                                     client_id=data["client_id"])
        db.session.commit()
        return action, 201 if created else 200


def _rules_view(row, branch):
    rule_set = engine.RuleSet.from_dict(row.rules)
    return {"branch": branch, "version": row.version, "rules": row.rules["rules"],
            "exit": row.rules["exit"], "period_days": row.period_days, "note": row.note,
            "descriptions": engine.describe(rule_set),
            "exit_description": engine.describe_exit(rule_set.exit)}


@blp.route("/watchlist/rules")
class Rules(MethodView):
    @blp.arguments(RulesQuerySchema, location="query")
    @blp.response(200, RulesSchema)
    def get(self, args):
        """A branch's rules in force, each with its Chinese description: ``branch_id``'s, or
        the reader's branch's (the first by code, for a person with roles in several)."""
        branch = rules_branch(current_user(), args.get("branch_id"))
        return _rules_view(active_rule_set(branch), branch)

    @blp.arguments(RulesSchema)
    @blp.response(200, RulesSchema)
    def put(self, data):
        """Tune a branch's rules: stored as its new version and audited. ``branch_id`` may be
        left out by a manager of one branch; other branches' rules stay as they are. Send
        ``base_version`` (the version read) to be refused (409 ``rules_changed``) rather than
        overwrite a change saved meanwhile."""
        by = current_user()
        branch = rules_branch(by, data.get("branch_id"), tuning=True)
        row = update_rules({"rules": data["rules"], "exit": data["exit"]}, branch=branch,
                           period_days=data["period_days"], note=data.get("note"), by=by,
                           base_version=data.get("base_version"))
        db.session.commit()
        return _rules_view(row, branch)


def _evaluation_view(report, **actions):
    return {"as_of": report.as_of, "rule_set_version": report.rule_set_version,
            "rule_set_versions": report.rule_set_versions,
            "actions": {**report.actions, **actions}, "summary": report.summary()}


@blp.route("/watchlist/evaluate")
class Evaluate(MethodView):
    @blp.arguments(EvaluateSchema)
    @blp.response(200, EvaluationSchema)
    def post(self, data):
        """Evaluate every outlet and sub-branch now (also run nightly from the CLI, and from
        the watch-list page's 立即评估)."""
        report = evaluate(data.get("as_of"), by=current_user())
        db.session.commit()
        return _evaluation_view(report)


@blp.route("/queue-data")
class QueueData(MethodView):
    @blp.arguments(QueueImportFileSchema, location="files")
    @blp.response(201, EvaluationSchema)
    def post(self, files):
        """Import queue-system data (CSV: 网点编码, 日期, 服务客户数, 超时客户数); any error
        refuses the whole file. The watch-list is re-evaluated afterwards."""
        by = current_user()
        require_manager(by)
        result = import_queue_csv(files["file"].read(), by=by)
        report = evaluate(by=by)
        db.session.commit()
        return _evaluation_view(report, imported_rows=result["rows"])


def _period(args):
    return dashboards.period_for(args["kind"], args.get("day") or local_today())


@blp.route("/dashboard/rankings")
class Rankings(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, RankingsSchema, description="网点与支行排名（最好与最差并列）")
    def get(self, args):
        """Outlets and sub-branches ranked for a period, by combined score or one mode."""
        by = current_user()
        period = _period(args)
        return {"period": period.label,
                "outlets": dashboards.outlet_ranking(period, by, mode=args.get("mode"),
                                                     subbranch_id=args.get("subbranch_id")),
                "subbranches": dashboards.subbranch_ranking(period, by, mode=args.get("mode")),
                "standing": dashboards.outlet_standing(period, by)}


@blp.route("/dashboard/failed-items")
class FailedItems(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, FailedItemsSchema, description="失分最多的检查项")
    def get(self, args):
        """Items failed most often, overall or in one sub-branch, and by area."""
        by = current_user()
        period = _period(args)
        return {"period": period.label,
                "items": dashboards.most_failed_items(period, by, limit=args["limit"],
                                                      subbranch_id=args.get("subbranch_id")),
                "sections": dashboards.failures_by_section(
                    period, by, subbranch_id=args.get("subbranch_id"))}


@blp.route("/dashboard/mode-comparison")
class ModeComparison(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200, ModeComparisonSchema, description="自查与独立检查对比（虚高视图）")
    def get(self, args):
        """Self-check vs independent means per outlet, biggest gap first."""
        period = _period(args)
        return {"period": period.label,
                "outlets": dashboards.mode_comparison(period, current_user(),
                                                      subbranch_id=args.get("subbranch_id"))}


@blp.route("/dashboard/trend")
class Trend(MethodView):
    @blp.arguments(TrendQuerySchema, location="query")
    @blp.response(200, TrendSchema, description="按月趋势")
    def get(self, args):
        """Monthly scores of an outlet or sub-branch."""
        by = current_user()
        unit = db.session.get(OrgUnit, args["unit_id"])
        if unit is None or not by.can(Permission.reports_read, unit):
            raise NotFound(N_("未找到该机构"), code="org_unit_not_found")
        points = dashboards.trend(unit, by, end=args.get("end") or local_today(),
                                  months=args["months"])
        return {"unit": {"id": unit.id, "name": unit.name}, "points": points,
                "arrow": dashboards.trend_arrow(points)}


@blp.route("/bulletins")
class Bulletin(MethodView):
    @blp.arguments(BulletinQuerySchema, location="query")
    @blp.response(200, BulletinSchema, description="周通报 / 月总结")
    def get(self, args):
        """The weekly bulletin (周通报) or monthly summary (月总结) as data."""
        return bulletin(args["kind"], args.get("day") or local_today(), current_user())


@blp.route("/bulletins.pdf")
class BulletinPdf(MethodView):
    @blp.arguments(BulletinQuerySchema, location="query")
    @blp.response(200, BINARY, description="PDF", content_type="application/pdf")
    def get(self, args):
        """The bulletin as a PDF, in the user's language (Chinese unless ``?lang=en``)."""
        data = bulletin(args["kind"], args.get("day") or local_today(), current_user())
        return download(bulletin_pdf(data), f"{title(data)}-{data['period']['start']}.pdf",
                        "application/pdf")


@blp.route("/bulletins.xlsx")
class BulletinXlsx(MethodView):
    @blp.arguments(BulletinQuerySchema, location="query")
    @blp.response(200, BINARY, description="Excel",
                  content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    def get(self, args):
        """The bulletin as an .xlsx workbook (one sheet per table), in the user's language."""
        data = bulletin(args["kind"], args.get("day") or local_today(), current_user())
        return download(bulletin_xlsx(data), f"{title(data)}-{data['period']['start']}.xlsx",
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
