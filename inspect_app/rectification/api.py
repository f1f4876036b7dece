"""API: rectification items, the outlet's fix and its review, re-inspections, counts, the
rectification-list and inspection-report PDFs, and the bulk ZIP export job."""
from __future__ import annotations

import io

import sqlalchemy as sa
from flask import Response, request, send_file
from flask.views import MethodView
from flask_babel import gettext

from ..api.base import BINARY, Blueprint
from ..api.downloads import download, name_attachment
from ..api.pagination import page_schema, paginate
from ..auth.models import User
from ..auth.permissions import Permission
from ..auth.session import current_user
from ..db import utcnow
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..evidence.schemas import PhotoSchema
from ..extensions import db
from ..i18n import N_
from ..inspections.access import get_inspection
from ..inspections.models import RESULT_VISIBLE, Campaign
from ..inspections.schemas import InspectionSummarySchema
from ..orgs.models import OrgKind, OrgUnit
from ..reports.jobs import JobStatus, ReportJob, settle_abandoned, start_job
from . import operations as ops
from .access import (
    closable_clause,
    get_item,
    reads_campaign_list,
    reviewable_clause,
    visible_items,
)
from .documents import (
    Document,
    campaign_list,
    inspection_list,
    inspection_report,
    parse_period,
    subbranch_list,
)
from .ledger import MAX_ROWS, ledger_xlsx
from .models import RectificationItem
from .schemas import (
    AcceptSchema,
    AfterPhotoUploadSchema,
    CampaignListArgsSchema,
    CountsSchema,
    DeadlineSchema,
    ExportSchema,
    JobSchema,
    PeriodArgsSchema,
    RectificationDetailSchema,
    RectificationItemSchema,
    RectificationPageArgsSchema,
    RectificationQuerySchema,
    ReinspectionSchema,
    RejectSchema,
    ResponsibleSchema,
    SubmitFixSchema,
)

blp = Blueprint("rectification_api", __name__, url_prefix="/api/v1",
                description="整改：整改项、提交与验收、复查、统计、整改清单与检查报告 PDF")

ItemPage = page_schema(RectificationItemSchema, "RectificationItemPage")
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _items(args: dict) -> sa.Select:
    by = current_user()
    query = ops.filtered(visible_items(by), args, ops.local_today())
    for name, clause in (("reviewable", reviewable_clause), ("closable", closable_clause)):
        if args.get(name) is not None:
            mine = clause(by)
            query = query.where(mine if args[name] else sa.not_(mine))
    return query


@blp.route("/rectification/items")
class Items(MethodView):
    @blp.arguments(RectificationPageArgsSchema, location="query")
    @blp.response(200, ItemPage)
    def get(self, args):
        """Rectification items I may see, soonest deadline first, with the filters given."""
        query = _items(args).order_by(RectificationItem.deadline, RectificationItem.id) \
            .options(*ops.ITEM_LOADS)
        return paginate(query, args)


@blp.route("/rectification/items.xlsx")
class ItemsWorkbook(MethodView):
    @blp.arguments(RectificationQuerySchema, location="query")
    @blp.response(200, BINARY, description="Excel", content_type=XLSX)
    def get(self, args):
        """整改台账: every item the list gives with the same filters, in the same order, as a
        workbook in the user's language (a 概况 sheet with the filters and counts, then one row
        per item); at most 20 000 items (more: 422 ``too_many_rows``)."""
        query = _items(args)
        total = db.session.scalar(sa.select(sa.func.count()).select_from(
            query.order_by(None).subquery()))
        if total > MAX_ROWS:
            raise InvalidInput(N_("符合条件的整改项有 %(count)s 项，超过一次导出的上限 %(max)s 项："
                                  "请按支行、月份或状态缩小范围"),
                               code="too_many_rows", count=total, max=MAX_ROWS)
        items = db.session.scalars(query.order_by(RectificationItem.deadline,
                                                  RectificationItem.id)
                                   .options(*ops.ITEM_LOADS)).all()
        workbook = ledger_xlsx(items, current_user(), args=args, now=utcnow())
        return download(workbook, f"{gettext('整改台账')}-{ops.local_today()}.xlsx", XLSX)


@blp.route("/rectification/counts")
class Counts(MethodView):
    @blp.arguments(RectificationQuerySchema, location="query")
    @blp.response(200, CountsSchema)
    def get(self, args):
        """Items per state, plus overdue, for dashboards (same filters as the list)."""
        return ops.counts(_items(args), ops.local_today())


@blp.route("/rectification/items/<int:item_id>")
class Item(MethodView):
    @blp.response(200, RectificationDetailSchema)
    def get(self, item_id):
        """One item with its before- and after-photos."""
        return get_item(item_id, current_user())


@blp.route("/rectification/items/<int:item_id>/photos")
class AfterPhotos(MethodView):
    @blp.arguments(AfterPhotoUploadSchema, location="multipart")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(200, schema=PhotoSchema, description="同一照片编号已上传过：返回原记录")
    @blp.alt_response(413, description="文件过大")
    @blp.alt_response(415, description="不支持的文件类型")
    @blp.alt_response(422, description="文件损坏、像素过多或伪装文件")
    def post(self, form, item_id):
        """Upload an after-photo of the fix (the outlet). Same safe intake as every photo;
        re-sending a ``client_id`` returns the stored photo, never a second copy."""
        by = current_user()
        item = get_item(item_id, by)
        photo, created = ops.attach_after_photo(item, form["file"].read(),
                                                client_id=str(form["client_id"]), by=by,
                                                client_facts=form["client_facts"])
        db.session.commit()
        return photo, 201 if created else 200


def _act(item_id: int, action, **kwargs) -> RectificationItem:
    by = current_user()
    item = get_item(item_id, by)
    action(item, by=by, **kwargs)
    db.session.commit()
    return item


@blp.route("/rectification/items/<int:item_id>/submit")
class SubmitFix(MethodView):
    @blp.arguments(SubmitFixSchema)
    @blp.response(200, RectificationDetailSchema)
    @blp.alt_response(409, description="当前状态不能提交")
    def post(self, data, item_id):
        """The outlet reports the fix: a note and the ids of its uploaded after-photos."""
        return _act(item_id, ops.submit_fix, note=data["note"], photo_ids=data["photo_ids"])


@blp.route("/rectification/items/<int:item_id>/accept")
class Accept(MethodView):
    @blp.arguments(AcceptSchema)
    @blp.response(200, RectificationDetailSchema)
    @blp.alt_response(403, description="网点不能验收自己的整改")
    def post(self, data, item_id):
        """Accept a submitted fix (sub-branch manager, original inspector, service manager)."""
        return _act(item_id, ops.accept, note=data["note"])


@blp.route("/rectification/items/<int:item_id>/reject")
class Reject(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, RectificationDetailSchema)
    def post(self, data, item_id):
        """Send a submitted fix back with a reason; the item is open again."""
        return _act(item_id, ops.reject, reason=data["reason"])


@blp.route("/rectification/items/<int:item_id>/close")
class Close(MethodView):
    @blp.arguments(AcceptSchema)
    @blp.response(200, RectificationDetailSchema)
    def post(self, data, item_id):
        """Close an accepted item (销号): whoever may accept its fix, or a service manager."""
        return _act(item_id, ops.close, note=data["note"])


@blp.route("/rectification/items/<int:item_id>/deadline")
class Deadline(MethodView):
    @blp.arguments(DeadlineSchema)
    @blp.response(200, RectificationDetailSchema)
    def post(self, data, item_id):
        """Move the deadline (service managers; the reason is audited)."""
        return _act(item_id, ops.adjust_deadline, deadline=data["deadline"],
                    reason=data["reason"])


@blp.route("/rectification/items/<int:item_id>/responsible")
class Responsible(MethodView):
    @blp.arguments(ResponsibleSchema)
    @blp.response(200, RectificationDetailSchema)
    def post(self, data, item_id):
        """Name another responsible person: the outlet's manager or its sub-branch's (anyone
        else, or nobody, is the same 422)."""
        return _act(item_id, ops.reassign, responsible=db.session.get(User, data["responsible_id"]),
                    reason=data["reason"])


@blp.route("/rectification/reinspections")
class Reinspections(MethodView):
    @blp.arguments(ReinspectionSchema)
    @blp.response(201, InspectionSummarySchema)
    def post(self, data):
        """Order a follow-up spot check of one outlet holding only the items that failed; its
        results close (passed) or reopen (failed) those items."""
        by = current_user()
        items = [get_item(item_id, by) for item_id in data["item_ids"]]
        assignee = db.session.get(User, data["assignee_id"])
        if assignee is None:
            raise InvalidInput(N_("该人员不存在"), code="unknown_assignee")
        inspection = ops.create_reinspection(items, assignee=assignee,
                                             due_start=data["due_start"],
                                             due_end=data["due_end"], by=by)
        db.session.commit()
        return inspection


# -- PDFs -------------------------------------------------------------------------------------


def send_document(document: Document) -> Response:
    """Send a PDF with a Chinese-safe filename (RFC 5987 ``filename*``) and an ETag computed
    before rendering: a phone that already has this list gets 304 and nothing is rendered."""
    etag = document.etag
    if request.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        response.cache_control.private = True
        response.cache_control.no_cache = True
        return response
    response = send_file(io.BytesIO(document.render()), mimetype=PDF, as_attachment=True,
                         download_name=document.filename, etag=etag, conditional=False,
                         max_age=0)
    name_attachment(response, document.filename)
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


def _submitted_inspection(inspection_id: int, by: User):
    inspection = get_inspection(inspection_id, by)
    if inspection.status not in RESULT_VISIBLE:
        raise NotFound(N_("该检查尚未提交"), code="inspection_not_submitted")
    return inspection


@blp.route("/inspections/<int:inspection_id>/report.pdf")
class InspectionReportPdf(MethodView):
    @blp.response(200, BINARY, description="检查报告 PDF", content_type=PDF)
    @blp.alt_response(304, description="客户端已有相同内容（If-None-Match）")
    def get(self, inspection_id):
        """检查报告: scores by section, grade, every finding with thumbnails and SHA-256."""
        by = current_user()
        return send_document(inspection_report(_submitted_inspection(inspection_id, by), by))


@blp.route("/inspections/<int:inspection_id>/rectification-list.pdf")
class InspectionListPdf(MethodView):
    @blp.response(200, BINARY, description="整改清单 PDF（一次检查）", content_type=PDF)
    @blp.alt_response(304, description="客户端已有相同内容（If-None-Match）")
    def get(self, inspection_id):
        """整改清单 of one inspection."""
        by = current_user()
        return send_document(inspection_list(_submitted_inspection(inspection_id, by), by))


def _unit_for_lists(unit_id: int, kind: OrgKind, by: User) -> OrgUnit:
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or unit.kind is not kind or not by.can(Permission.reports_read, unit):
        raise NotFound(N_("未找到该支行"), code="unit_not_found")
    return unit


@blp.route("/rectification/lists/subbranches/<int:unit_id>.pdf")
class SubbranchListPdf(MethodView):
    @blp.arguments(PeriodArgsSchema, location="query")
    @blp.response(200, BINARY, description="整改清单 PDF（支行、月度）", content_type=PDF)
    @blp.alt_response(304, description="客户端已有相同内容（If-None-Match）")
    def get(self, args, unit_id):
        """整改清单 of a sub-branch for a month (items found in that month), grouped by
        outlet, sorted by deadline. A sub-branch manager gets only their own sub-branch."""
        by = current_user()
        subbranch = _unit_for_lists(unit_id, OrgKind.subbranch, by)
        start, end = parse_period(args["period"])
        return send_document(subbranch_list(subbranch, by, start, end))


@blp.route("/rectification/lists/campaigns/<int:campaign_id>.pdf")
class CampaignListPdf(MethodView):
    @blp.arguments(CampaignListArgsSchema, location="query")
    @blp.response(200, BINARY, description="整改清单 PDF（检查计划）", content_type=PDF)
    @blp.alt_response(304, description="客户端已有相同内容（If-None-Match）")
    def get(self, args, campaign_id):
        """整改清单 of a campaign: the items of the outlets I may see (or one sub-branch's)."""
        by = current_user()
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None or not reads_campaign_list(by, campaign):
            raise NotFound(N_("未找到该检查计划"), code="campaign_not_found")
        subbranch = None
        if args.get("subbranch_id") is not None:
            subbranch = _unit_for_lists(args["subbranch_id"], OrgKind.subbranch, by)
        return send_document(campaign_list(campaign, by, subbranch))


# -- bulk export (background job) -------------------------------------------------------------


def _job(job_id: int, by: User) -> ReportJob:
    job = db.session.get(ReportJob, job_id)
    if job is None or job.created_by_id != by.id or job.kind != "rectification_lists_zip":
        raise NotFound(N_("未找到该导出任务"), code="job_not_found")
    return settle_abandoned(job)


@blp.route("/rectification/exports")
class Exports(MethodView):
    @blp.arguments(ExportSchema)
    @blp.response(202, JobSchema)
    def post(self, data):
        """Start generating every sub-branch's list for a month as one ZIP (service managers).
        Poll the returned job; download when ``status`` is ``done``."""
        by = current_user()
        if not by.can(Permission.campaigns_manage):
            raise PermissionDenied(N_("只有服务管理人员可以批量导出整改清单"), code="not_manager")
        parse_period(data["period"])
        return start_job("rectification_lists_zip", {"period": data["period"]}, by=by)


@blp.route("/rectification/exports/<int:job_id>")
class Export(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """Poll an export: status, progress, and the download link once done."""
        return _job(job_id, current_user())


@blp.route("/rectification/exports/<int:job_id>/download")
class ExportDownload(MethodView):
    @blp.response(200, BINARY, description="ZIP：每个支行一份整改清单 PDF", content_type="application/zip")
    @blp.alt_response(409, description="导出尚未完成（或已失败）：先查询导出状态")
    def get(self, job_id):
        """The finished ZIP."""
        from ..evidence.operations import storage

        job = _job(job_id, current_user())
        if job.status is not JobStatus.done or job.result_key is None:
            raise Conflict(N_("导出尚未完成"), code="job_not_done")
        return download(storage().open(job.result_key), job.result_name, job.result_type)
